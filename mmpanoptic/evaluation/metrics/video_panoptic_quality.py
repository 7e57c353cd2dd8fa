"""VPQ and STQ for the mmengine runner, on in-memory video predictions."""
from collections import defaultdict
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmpanoptic.registry import METRICS

from ..files.video import SHIFT, VOID_LABEL, stq_labels
from ..functional import PanopticEvalError, PQStats, STQAccumulator, vpq_summary, vpq_video_stats
from .panoptic_quality import _to_numpy


@METRICS.register_module()
class VideoPanopticMetric(BaseMetric):
    """VPQ (windows of ``window_frames`` annotated frames) and STQ.

    Reads, per frame, ``video_id`` and ``frame_id`` from the metainfo and
    ``pred_panoptic_seg`` / ``gt_panoptic_seg`` (id map + ``segments_info``)
    where a segment id is a track id: the same id in two frames of a video
    is the same object.  Frames are gathered per video and scored with
    :func:`vpq_video_stats` and :class:`STQAccumulator` (see
    docs/evaluation.md for the definitions).

    Reported in percent: ``VPQ@k`` for each k, ``VPQ`` / ``VPQ_th`` /
    ``VPQ_st`` (means over k), ``STQ``, ``AQ``, ``SQ`` (STQ's mean IoU).

    Args:
        metrics: any of ``'vpq'``, ``'stq'``.
        window_frames: VPQ window lengths in annotated frames.
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """
    default_prefix = 'video'

    def __init__(self, *, metrics: Sequence[str] = ('vpq', 'stq'),
                 window_frames: Sequence[int] = (1, 2, 3, 4), collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(metrics) - {'vpq', 'stq'}
        if unknown:
            raise ValueError(f'unknown metrics {sorted(unknown)}; choose from vpq, stq')
        self.metrics = tuple(metrics)
        self.window_frames = tuple(window_frames)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        label2cat = list(self.dataset_meta['category_ids'])
        for sample in data_samples:
            where = f'video {sample.get("video_id")} frame {sample.get("frame_id")}'
            if 'video_id' not in sample or 'frame_id' not in sample:
                raise PanopticEvalError(f'{where}: the data sample needs video_id and '
                                        f'frame_id in its metainfo')
            gt, pred = sample.get('gt_panoptic_seg'), sample.get('pred_panoptic_seg')
            if gt is None or pred is None:
                raise PanopticEvalError(f'{where}: needs gt_panoptic_seg and pred_panoptic_seg')
            pred_segments = []
            for s in pred['segments_info']:
                if not 0 <= s['label'] < len(label2cat):
                    raise PanopticEvalError(f'{where}: predicted segment {s["id"]} has label '
                                            f'{s["label"]} outside [0, {len(label2cat)})')
                pred_segments.append(dict(id=int(s['id']), category_id=label2cat[s['label']]))
            gt_segments = [dict(id=int(s['id']), category_id=int(s['category_id']),
                                iscrowd=int(s.get('iscrowd', 0)), area=int(s['area']))
                           for s in gt['segments_info']]
            self.results.append((sample['video_id'], sample['frame_id'],
                                 _to_numpy(gt['sem_seg'])[0].astype(np.int64), gt_segments,
                                 _to_numpy(pred['sem_seg'])[0].astype(np.int64),
                                 pred_segments))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        meta = self.dataset_meta
        cats = {int(c): dict(isthing=int(t)) for c, t in zip(meta['category_ids'],
                                                             meta['isthing'])}
        cat_index = {c: i for i, c in enumerate(cats)}
        things = {c for c, info in cats.items() if info['isthing']}
        videos = defaultdict(list)
        for video, frame, *rest in results:
            videos[video].append((frame, rest))
        vpq = {k: PQStats() for k in self.window_frames}
        stq = STQAccumulator(num_classes=len(cats), things=[cat_index[c] for c in things],
                             ignore_label=VOID_LABEL, label_bit_shift=SHIFT)
        for video, frames in videos.items():
            frames = [f for _, f in sorted(frames, key=lambda x: x[0])]
            if 'vpq' in self.metrics:
                for k, s in vpq_video_stats(frames, cats, self.window_frames,
                                            f'video {video}').items():
                    vpq[k].merge(s)
            if 'stq' in self.metrics:
                gt_tracks, pred_tracks = {}, {}
                for t, (gt_ids, gt_segs, pred_ids, pred_segs) in enumerate(frames):
                    where = f'video {video} frame {t}'
                    stq.update(stq_labels(gt_ids, gt_segs, cat_index, things, gt_tracks, True,
                                          where),
                               stq_labels(pred_ids, pred_segs, cat_index, things, pred_tracks,
                                          False, where), video)
        out = {}
        if 'vpq' in self.metrics:
            summary = vpq_summary(vpq, cats)
            for k in self.window_frames:
                res = summary[str(k)]['All']
                out[f'VPQ@{k}'] = 100 * res['pq'] if res else 0.0
            for name, key in (('All', 'VPQ'), ('Things', 'VPQ_th'), ('Stuff', 'VPQ_st')):
                res = summary['mean'][name]
                if res is not None:
                    out[key] = 100 * res['pq']
        if 'stq' in self.metrics:
            r = stq.result()
            out.update(STQ=100 * r['stq'], AQ=100 * r['aq'], SQ=100 * r['iou'])
        return out
