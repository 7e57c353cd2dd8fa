"""VPQ and STQ for the mmengine runner, on in-memory video predictions."""
from typing import Dict, Hashable, List, Optional, Sequence

import numpy as np
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric

from mmpanoptic.fileio import SHIFT, VOID_LABEL, PanopticEvalError, stq_labels
from mmpanoptic.registry import METRICS

from ..functional import (
    PQStats,
    STQAccumulator,
    VPQStream,
    vpq_group,
    vpq_summary,
)
from .panoptic_quality import _to_numpy


@METRICS.register_module()
class VideoPanopticMetric(BaseMetric):
    """VPQ (windows of ``window_frames`` annotated frames) and STQ.

    Reads, per frame, ``video_id`` and ``frame_id`` from the metainfo and
    ``pred_panoptic_seg`` / ``gt_panoptic_seg`` (id map + ``segments_info``)
    where a segment id is a track id: the same id in two frames of a video
    is the same object (see docs/evaluation.md for the definitions).

    Frames are scored as they arrive (:class:`VPQStream`,
    :class:`STQAccumulator`); no id map is kept, only the pair tables of the
    last ``max(window_frames) - 1`` frames and per-track counts, so memory
    does not grow with the video's length.  When a video ends (the next
    frame belongs to another video, or the evaluation ends) its small
    per-video statistics go to ``self.results``, which is what mmengine
    gathers across processes.  Frames must therefore come video by video, in
    frame order, with each video on one process: use
    ``sampler=dict(type='VideoSampler')`` in the val / test dataloader (a
    video split across processes or frames out of order raise an error).

    Reported in percent: ``VPQ@k`` for each k, ``VPQ`` / ``VPQ_th`` /
    ``VPQ_st`` (means over k), ``STQ``, ``AQ``, ``SQ`` (STQ's mean IoU).

    Args:
        metrics: any of ``'vpq'``, ``'stq'``.
        window_frames: VPQ window lengths in annotated frames.
        class_groups: extra scores over named groups of classes, e.g.
            ``dict(base=[...], novel=[...])`` for an open-vocabulary
            experiment: ``VPQ_<group>`` (and ``VPQ@k_<group>``) average the
            group's classes as ``VPQ`` averages all (the per-class
            statistics are the same); ``STQ_<group>`` = sqrt(``AQ_<group>`` x
            ``SQ_<group>``), the IoU term the mean IoU of the group's
            classes and the AQ term the mean over the ground-truth tracks of
            the group's classes (:class:`STQAccumulator` ``groups``).
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """
    default_prefix = 'video'

    def __init__(self, *, metrics: Sequence[str] = ('vpq', 'stq'),
                 window_frames: Sequence[int] = (1, 2, 3, 4),
                 class_groups: Optional[Dict[str, Sequence[str]]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(metrics) - {'vpq', 'stq'}
        if unknown:
            raise ValueError(f'unknown metrics {sorted(unknown)}; choose from vpq, stq')
        self.metrics = tuple(metrics)
        self.window_frames = tuple(window_frames)
        self.class_groups = {str(k): list(v) for k, v in (class_groups or {}).items()}

    def _categories(self):
        meta = self.dataset_meta
        cats = {int(c): dict(isthing=int(t)) for c, t in zip(meta['category_ids'],
                                                             meta['isthing'])}
        cat_index = {c: i for i, c in enumerate(cats)}
        things = {c for c, info in cats.items() if info['isthing']}
        return cats, cat_index, things

    def _groups(self) -> Dict[str, List[int]]:
        """``{group: [category id, ...]}`` from the class names."""
        by_name = dict(zip(self.dataset_meta['classes'], self.dataset_meta['category_ids']))
        out = {}
        for group, names in self.class_groups.items():
            unknown = [n for n in names if n not in by_name]
            if unknown:
                raise ValueError(f'class_groups[{group!r}] names classes the dataset does not '
                                 f'have: {unknown}; it has {sorted(by_name)}')
            out[group] = [int(by_name[n]) for n in names]
        return out

    def _new_stq(self) -> STQAccumulator:
        cats, cat_index, things = self._categories()
        groups = {g: [cat_index[c] for c in ids] for g, ids in self._groups().items()}
        return STQAccumulator(num_classes=len(cats), things=[cat_index[c] for c in things],
                              ignore_label=VOID_LABEL, label_bit_shift=SHIFT, groups=groups)

    def _start_video(self, video: Hashable) -> None:
        cats, cat_index, things = self._categories()
        self._video = video
        self._last_frame = None
        self._vpq = VPQStream(cats, self.window_frames, f'video {video}')
        self._stq = self._new_stq()
        self._tracks = ({}, {})

    def _finish_video(self) -> None:
        """Move the open video's statistics to ``self.results``."""
        if getattr(self, '_video', None) is None:
            return
        video = self._video
        vpq = {k: s.per_cat for k, s in self._vpq.stats.items()} if 'vpq' in self.metrics else {}
        stq = self._stq.pop_sequence(video) if 'stq' in self.metrics and \
            video in self._stq.confusion else None
        self.results.append(dict(video=video, rank=get_dist_info()[0], frames=self._vpq.frames,
                                 vpq=vpq, stq=stq))
        self._done.add(video)
        self._video = None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        label2cat = list(self.dataset_meta['category_ids'])
        if not hasattr(self, '_done'):
            self._done, self._video = set(), None
        for sample in data_samples:
            where = f'video {sample.get("video_id")} frame {sample.get("frame_id")}'
            if 'video_id' not in sample or 'frame_id' not in sample:
                raise PanopticEvalError(f'{where}: the data sample needs video_id and '
                                        f'frame_id in its metainfo')
            gt, pred = sample.get('gt_panoptic_seg'), sample.get('pred_panoptic_seg')
            if gt is None or pred is None:
                raise PanopticEvalError(f'{where}: needs gt_panoptic_seg and pred_panoptic_seg')
            video, frame = sample['video_id'], sample['frame_id']
            if video != self._video:
                self._finish_video()
                if video in self._done:
                    raise PanopticEvalError(
                        f'{where}: video {video} continues after other videos; the metric '
                        'needs frames video by video (val / test sampler: '
                        "dict(type='VideoSampler'))")
                self._start_video(video)
            elif frame <= self._last_frame:
                raise PanopticEvalError(
                    f'{where}: frame {frame} arrives after frame {self._last_frame}; frames '
                    "must come in order (val / test sampler: dict(type='VideoSampler'))")
            self._last_frame = frame
            pred_segments = []
            for s in pred['segments_info']:
                if not 0 <= s['label'] < len(label2cat):
                    raise PanopticEvalError(f'{where}: predicted segment {s["id"]} has label '
                                            f'{s["label"]} outside [0, {len(label2cat)})')
                pred_segments.append(dict(id=int(s['id']), category_id=label2cat[s['label']]))
            gt_segments = [dict(id=int(s['id']), category_id=int(s['category_id']),
                                iscrowd=int(s.get('iscrowd', 0)), area=int(s['area']))
                           for s in gt['segments_info']]
            gt_ids = _to_numpy(gt['sem_seg'])[0].astype(np.int64)
            pred_ids = _to_numpy(pred['sem_seg'])[0].astype(np.int64)
            if 'vpq' in self.metrics:
                self._vpq.add(gt_ids, gt_segments, pred_ids, pred_segments)
            else:
                self._vpq.frames += 1
            if 'stq' in self.metrics:
                _, cat_index, things = self._categories()
                self._stq.update(
                    stq_labels(gt_ids, gt_segments, cat_index, things, self._tracks[0], True,
                               where),
                    stq_labels(pred_ids, pred_segments, cat_index, things, self._tracks[1],
                               False, where), video)

    def evaluate(self, size: int) -> dict:
        """Close the last video, then gather and compute as mmengine does."""
        if hasattr(self, '_done'):
            self._finish_video()
            self._done = set()
        return super().evaluate(size)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        cats, cat_index, things = self._categories()
        vpq = {k: PQStats() for k in self.window_frames}
        stq = self._new_stq()
        groups = self._groups()
        seen = {}
        for r in results:
            if r['video'] in seen:
                raise PanopticEvalError(
                    f'video {r["video"]} was evaluated in pieces (process {seen[r["video"]]} '
                    f'and {r["rank"]}); distributed video evaluation needs '
                    "sampler=dict(type='VideoSampler') in the val / test dataloader")
            seen[r['video']] = r['rank']
            for k, per_cat in r['vpq'].items():
                vpq[k].add(per_cat)
            if r['stq'] is not None:
                stq.add_summary(r['stq'])
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
            for group, cat_ids in groups.items():
                res = vpq_group(vpq, cats, cat_ids)
                for k in self.window_frames:
                    out[f'VPQ@{k}_{group}'] = 100 * (res[str(k)] or 0.0)
                if res['mean'] is not None:
                    out[f'VPQ_{group}'] = 100 * res['mean']
        if 'stq' in self.metrics:
            r = stq.result()
            out.update(STQ=100 * r['stq'], AQ=100 * r['aq'], SQ=100 * r['iou'])
            for group, g in r.get('groups', {}).items():
                out.update({f'STQ_{group}': 100 * g['stq'], f'AQ_{group}': 100 * g['aq'],
                            f'SQ_{group}': 100 * g['iou']})
        return out
