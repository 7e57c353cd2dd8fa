"""Panoptic Quality for the mmengine runner, on in-memory predictions."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpanoptic.registry import METRICS

from ..functional import PanopticEvalError, PQStats, pq_image_stats, pq_summary


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
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
        classwise: also log the per-class table.
    """
    default_prefix = 'panoptic'

    def __init__(self, *, classwise: bool = True, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.classwise = classwise

    def _categories(self) -> Dict[int, Dict]:
        meta = self.dataset_meta or {}
        if 'category_ids' not in meta:
            raise RuntimeError('PanopticQualityMetric needs dataset_meta with '
                               '"category_ids" and "isthing" (set by mmpanoptic datasets)')
        return {cid: dict(isthing=int(t), name=n) for cid, t, n in
                zip(meta['category_ids'], meta['isthing'], meta['classes'])}

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        categories = self._categories()
        label2cat = list(self.dataset_meta['category_ids'])
        for sample in data_samples:
            image = f'image {sample.get("img_id")} ({sample.get("img_path")})'
            gt = sample.get('gt_panoptic_seg')
            if gt is None:
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
            stats = pq_image_stats(
                _to_numpy(gt['sem_seg'])[0], gt['segments_info'],
                _to_numpy(pred['sem_seg'])[0], pred_segments, categories,
                image=image)
            self.results.append(stats)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        categories = self._categories()
        stats = PQStats()
        for r in results:
            stats.add(r)
        summary = pq_summary(stats, categories)
        logger = MMLogger.get_current_instance()
        logger.info('\n' + format_pq_table(summary, categories, self.classwise))
        out = {}
        for split, suffix in (('All', ''), ('Things', '_th'), ('Stuff', '_st')):
            res = summary[split]
            for key in ('pq', 'sq', 'rq'):
                out[f'{key.upper()}{suffix}'] = 100.0 * res[key] if res else 0.0
        return out


def format_pq_table(summary: Dict, categories: Dict[int, Dict], classwise: bool = True) -> str:
    """Render PQ results as text tables (values in percent)."""
    from terminaltables import AsciiTable
    rows = [['', 'PQ', 'SQ', 'RQ', 'N']]
    for split in ('All', 'Things', 'Stuff'):
        r = summary[split]
        rows.append([split] + ([f'{100 * r[k]:.2f}' for k in ('pq', 'sq', 'rq')] + [r['n']]
                               if r else ['-', '-', '-', 0]))
    text = AsciiTable(rows).table
    if classwise:
        crows = [['category', 'id', 'thing', 'PQ', 'SQ', 'RQ', 'TP', 'FP', 'FN']]
        for cid, info in categories.items():
            c = summary['per_class'][cid]
            crows.append([info.get('name', cid), cid, 'Y' if info['isthing'] else 'N',
                          f'{100 * c["pq"]:.2f}', f'{100 * c["sq"]:.2f}',
                          f'{100 * c["rq"]:.2f}', c['tp'], c['fp'], c['fn']])
        text += '\n' + AsciiTable(crows).table
    return text
