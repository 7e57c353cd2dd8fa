"""Panoptic Quality for the mmengine runner, on in-memory predictions."""
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpanoptic.fileio import write_json, write_panoptic_png
from mmpanoptic.registry import METRICS
from mmpanoptic.structures import mask_bbox

from ..functional import (
    PanopticEvalError,
    PQStats,
    format_pq_table,
    pq_average,
    pq_image_stats_by_size,
    pq_summary,
)


def _to_numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


@METRICS.register_module()
class PanopticQualityMetric(BaseMetric):
    """PQ / SQ / RQ (All, Things, Stuff) with COCO panopticapi's semantics.

    Why ours: mmdet's ``CocoPanopticMetric`` encodes every prediction to a
    PNG, writes it, reads it back and needs panopticapi.  This metric takes
    ``pred_panoptic_seg`` and ``gt_panoptic_seg`` (id map + segments_info)
    straight from the data samples and runs
    :func:`mmpanoptic.evaluation.functional.pq_image_stats`, giving the same
    numbers without the round trip.

    Metrics are reported in percent (``PQ``, ``SQ``, ``RQ``, ``PQ_th``, ...,
    ``PQ_st``, ...), like mmdet and detectron2.

    Args:
        classwise: also log the per-class table.
        outfile_prefix: also write the predictions in COCO panoptic format:
            ``{outfile_prefix}.panoptic.json`` and PNGs in
            ``{outfile_prefix}.panoptic/`` (e.g. for a test-server submission).
        format_only: only write the predictions (needs ``outfile_prefix``);
            no ground truth is needed and no metric is computed.
        class_groups: extra averages over named groups of classes, e.g.
            ``dict(base=[...], novel=[...])`` for an open-vocabulary
            experiment: adds ``PQ_novel``, ``SQ_novel``, ``RQ_novel``, ...
            (names as in the dataset's categories).
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """
    default_prefix = 'panoptic'

    def __init__(self, *, classwise: bool = True, outfile_prefix: Optional[str] = None,
                 format_only: bool = False,
                 class_groups: Optional[Dict[str, Sequence[str]]] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.class_groups = {str(k): list(v) for k, v in (class_groups or {}).items()}
        if format_only and not outfile_prefix:
            raise ValueError('format_only=True needs outfile_prefix (where to write)')
        self.classwise = classwise
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only

    def _categories(self) -> Dict[int, Dict]:
        meta = self.dataset_meta or {}
        if 'category_ids' not in meta:
            raise RuntimeError('PanopticQualityMetric needs dataset_meta with '
                               '"category_ids" and "isthing" (set by mmpanoptic datasets)')
        return {cid: dict(isthing=int(t), name=n) for cid, t, n in
                zip(meta['category_ids'], meta['isthing'], meta['classes'])}

    def _dump(self, sample: dict, ids: np.ndarray, segments: list) -> dict:
        """Write one prediction PNG; return its COCO panoptic annotation."""
        folder = f'{self.outfile_prefix}.panoptic'
        img_id = sample.get('img_id')
        stem = osp.splitext(osp.basename(sample.get('img_path') or f'{img_id}'))[0]
        write_panoptic_png(osp.join(folder, stem + '.png'), ids)
        areas = np.bincount(ids.ravel())
        infos = []
        for s in segments:
            infos.append(dict(id=int(s['id']), category_id=int(s['category_id']),
                              iscrowd=0, area=int(areas[s['id']]),
                              bbox=mask_bbox(ids == s['id'])))
        return dict(image_id=img_id, file_name=stem + '.png', segments_info=infos)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        label2cat = list(self.dataset_meta['category_ids'])
        categories = None if self.format_only else self._categories()
        for sample in data_samples:
            image = f'image {sample.get("img_id")} ({sample.get("img_path")})'
            gt = sample.get('gt_panoptic_seg')
            if gt is None and self.format_only:
                gt = {}
            elif gt is None:
                raise PanopticEvalError(
                    f'{image}: no gt_panoptic_seg; the evaluation pipeline needs '
                    f'LoadPanopticAnnotations(with_panoptic=True) and PackPanopticInputs')
            pred = sample.get('pred_panoptic_seg')
            if pred is None:
                raise PanopticEvalError(f'{image}: the model returned no pred_panoptic_seg')
            pred_segments = []
            for s in pred['segments_info']:
                if not 0 <= s['label'] < len(label2cat):
                    raise PanopticEvalError(
                        f'{image}: predicted segment {s["id"]} has label {s["label"]} '
                        f'outside [0, {len(label2cat)})')
                pred_segments.append(dict(id=s['id'], category_id=label2cat[s['label']]))
            pred_ids = _to_numpy(pred['sem_seg'])[0]
            dumped = self._dump(sample, pred_ids, pred_segments) if self.outfile_prefix else None
            stats = None
            if not self.format_only:
                stats = pq_image_stats_by_size(
                    _to_numpy(gt['sem_seg'])[0], gt['segments_info'], pred_ids,
                    pred_segments, categories, image=image)
            self.results.append((stats, dumped))

    def _write_json(self, annotations: list) -> str:
        path = f'{self.outfile_prefix}.panoptic.json'
        meta = self.dataset_meta
        categories = [dict(id=int(c), name=n, isthing=int(t)) for c, n, t in
                      zip(meta['category_ids'], meta['classes'], meta['isthing'])]
        images = [dict(id=a['image_id'], file_name=a['file_name']) for a in annotations]
        return write_json(path, dict(images=images, annotations=annotations,
                                     categories=categories))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        if self.outfile_prefix:
            path = self._write_json([d for _, d in results])
            logger.info(f'predictions in COCO panoptic format: {path} and '
                        f'{self.outfile_prefix}.panoptic/')
        if self.format_only:
            return {}
        categories = self._categories()
        stats = PQStats()
        for r, _ in results:
            stats.add(*r)
        summary = pq_summary(stats, categories)
        logger.info('\n' + format_pq_table(summary, categories, self.classwise))
        out = {}
        for split, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
            res = summary[split]
            if res is None:
                logger.warning(f'PQ{suffix}: no {split.lower()} segment in the ground truth or '
                               f'the predictions, so no result (reported as NaN, not 0)')
            for key in ('pq', 'sq', 'rq'):
                out[f'{key.upper()}{suffix}'] = 100.0 * res[key] if res else float('nan')
        by_name = {info['name']: cid for cid, info in categories.items()}
        for group, names in self.class_groups.items():
            unknown = [n for n in names if n not in by_name]
            if unknown:
                raise ValueError(f'class_groups[{group!r}] names classes the dataset does not '
                                 f'have: {unknown}; it has {sorted(by_name)}')
            res = pq_average(stats, {by_name[n]: categories[by_name[n]] for n in names})
            for key in ('pq', 'sq', 'rq'):
                out[f'{key.upper()}_{group}'] = 100.0 * res[key] if res else float('nan')
        for size, res in summary['things_by_size'].items():
            if res is not None:  # no thing of that size in gt or prediction
                out[f'PQ_th_{size}'] = 100.0 * res['pq']
        return out
