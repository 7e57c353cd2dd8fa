"""Panoptic Quality (Kirillov et al., 2019) with panopticapi's exact semantics.

Pure numpy.  :func:`pq_image_stats` compares one image's ground truth and
prediction and returns per-category ``[iou_sum, tp, fp, fn]``;
:class:`PQStats` accumulates them and :func:`pq_summary` turns them into
PQ / SQ / RQ for All / Things / Stuff and per class.

The rules follow COCO's reference ``pq_compute`` to the letter:

* gt id 0 is VOID; gt areas come from the gt ``segments_info``, pred areas
  are counted from the pred id map;
* a (gt, pred) pair matches when the categories agree, the gt is not crowd
  and ``IoU > 0.5``, where the union leaves out the pred's VOID pixels;
* an unmatched non-crowd gt is a FN;
* an unmatched pred is a FP unless more than half of it lies in VOID plus
  the crowd region of its category.  Like the reference, only **one** crowd
  segment per category counts (the last one listed in ``segments_info``);
* a category with ``tp + fp + fn == 0`` is left out of the averages; a split
  with no such category has no result (``None``) where the reference divides
  by zero.

Unlike the reference, malformed input raises :class:`PanopticEvalError`
naming the image and the segment instead of a bare ``KeyError``.
"""
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

VOID = 0


class PanopticEvalError(ValueError):
    """Bad input to the PQ evaluation; the message names image and segment."""


def _segment_table(segments: Sequence[Mapping], image: str, kind: str,
                   categories: Optional[Mapping[int, Mapping]]) -> Dict[int, Mapping]:
    table = {}
    for seg in segments:
        try:
            sid = int(seg['id'])
            cat = int(seg['category_id'])
        except (KeyError, TypeError) as e:
            raise PanopticEvalError(
                f'{image}: {kind} segment {seg!r} lacks "id" or "category_id"') from e
        if sid in table:
            raise PanopticEvalError(
                f'{image}: {kind} segment id {sid} appears twice in segments_info')
        if categories is not None and cat not in categories:
            raise PanopticEvalError(
                f'{image}: {kind} segment {sid} has unknown category_id {cat}')
        table[sid] = seg
    return table


def _pair_counts(gt_ids: np.ndarray, pred_ids: np.ndarray):
    """Intersection counts of every (gt id, pred id) pair present.

    Segment ids are first mapped to small dense indices so a single
    ``np.bincount`` over ``gt_index * n_pred + pred_index`` does the pairing.
    """
    gt_flat = gt_ids.ravel()
    pred_flat = pred_ids.ravel()
    gt_u, gt_inv = np.unique(gt_flat, return_inverse=True)
    pr_u, pr_inv = np.unique(pred_flat, return_inverse=True)
    joint = np.bincount(gt_inv.astype(np.int64) * len(pr_u) + pr_inv,
                        minlength=len(gt_u) * len(pr_u)).reshape(len(gt_u), len(pr_u))
    gi, pi = np.nonzero(joint)
    return gt_u, pr_u, joint, gi, pi


def pq_image_stats(gt_ids: np.ndarray,
                   gt_segments: Sequence[Mapping],
                   pred_ids: np.ndarray,
                   pred_segments: Sequence[Mapping],
                   categories: Mapping[int, Mapping],
                   image: str = 'image',
                   check_gt_png: bool = True) -> Dict[int, np.ndarray]:
    """PQ statistics of one image.

    Args:
        gt_ids: ``(H, W)`` integer gt segment ids, 0 = VOID.
        gt_segments: gt ``segments_info``: dicts with ``id``, ``category_id``,
            ``iscrowd`` and ``area`` (the area is taken from here, as in COCO).
        pred_ids: ``(H, W)`` integer pred segment ids, 0 = VOID.
        pred_segments: pred ``segments_info``: dicts with ``id`` and
            ``category_id``; areas are counted from ``pred_ids``.
        categories: ``{category_id: {'isthing': 0/1, ...}}``.
        image: how to name the image in error messages.
        check_gt_png: also require gt PNG ids and gt JSON ids to agree.

    Returns:
        ``{category_id: float64 array [iou_sum, tp, fp, fn]}`` for every
        category touched by this image.

    >>> gt = np.array([[1, 1], [2, 2]]); pred = np.array([[5, 5], [5, 0]])
    >>> cats = {1: {'isthing': 0}, 2: {'isthing': 0}}
    >>> s = pq_image_stats(gt, [dict(id=1, category_id=1, iscrowd=0, area=2),
    ...                         dict(id=2, category_id=2, iscrowd=0, area=2)],
    ...                    pred, [dict(id=5, category_id=1)], cats)
    >>> s[1].tolist(), s[2].tolist()   # IoU of 5 with 1 is 2/3 > 0.5
    ([0.6666666666666666, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0])
    """
    if gt_ids.shape != pred_ids.shape:
        raise PanopticEvalError(
            f'{image}: prediction size {pred_ids.shape[1]}x{pred_ids.shape[0]} '
            f'(WxH) differs from ground truth {gt_ids.shape[1]}x{gt_ids.shape[0]}')
    gt_table = _segment_table(gt_segments, image, 'gt', categories)
    pred_table = _segment_table(pred_segments, image, 'pred', categories)

    gt_u, pr_u, joint, gi, pi = _pair_counts(gt_ids, pred_ids)
    pred_area_by_id = dict(zip(pr_u.tolist(), joint.sum(0).tolist()))

    # Pred PNG and JSON must agree (VOID may appear without a JSON entry).
    for sid in pred_area_by_id:
        if sid != VOID and sid not in pred_table:
            raise PanopticEvalError(
                f'{image}: segment {sid} is in the prediction PNG but not in its '
                f'segments_info')
    for sid in pred_table:
        if sid not in pred_area_by_id:
            raise PanopticEvalError(
                f'{image}: prediction segment {sid} is in segments_info but not '
                f'in the PNG')
    if check_gt_png:
        gt_present = set(gt_u.tolist())
        for sid in gt_present:
            if sid != VOID and sid not in gt_table:
                raise PanopticEvalError(
                    f'{image}: segment {sid} is in the ground-truth PNG but not '
                    f'in its segments_info')
        for sid in gt_table:
            if sid not in gt_present:
                raise PanopticEvalError(
                    f'{image}: ground-truth segment {sid} is in segments_info but '
                    f'not in the PNG')

    stats: Dict[int, np.ndarray] = {}

    def stat(cat):
        if cat not in stats:
            stats[cat] = np.zeros(4, dtype=np.float64)
        return stats[cat]

    gt_id_list = gt_u.tolist()
    pr_id_list = pr_u.tolist()
    void_row = gt_u.searchsorted(VOID)
    has_gt_void = void_row < len(gt_u) and gt_u[void_row] == VOID

    def gt_void_overlap(pred_col):
        return int(joint[void_row, pred_col]) if has_gt_void else 0

    gt_matched, pred_matched = set(), set()
    for r, c in zip(gi.tolist(), pi.tolist()):
        gid, pid = gt_id_list[r], pr_id_list[c]
        gseg, pseg = gt_table.get(gid), pred_table.get(pid)
        if gseg is None or pseg is None:
            continue
        if gseg.get('iscrowd', 0) == 1:
            continue
        if int(gseg['category_id']) != int(pseg['category_id']):
            continue
        inter = int(joint[r, c])
        # Union leaves out the pred's pixels that fall on gt VOID.
        union = (pred_area_by_id[pid] + gseg['area'] - inter - gt_void_overlap(c))
        iou = inter / union
        if iou > 0.5:
            s = stat(int(gseg['category_id']))
            s[0] += iou
            s[1] += 1
            gt_matched.add(gid)
            pred_matched.add(pid)

    crowd_by_cat = {}
    for gid, gseg in gt_table.items():
        cat = int(gseg['category_id'])
        if gid in gt_matched:
            continue
        if gseg.get('iscrowd', 0) == 1:
            crowd_by_cat[cat] = gid  # the reference keeps the last crowd only
            stat(cat)
            continue
        stat(cat)[3] += 1

    col_of = {pid: c for c, pid in enumerate(pr_id_list)}
    row_of = {gid: r for r, gid in enumerate(gt_id_list)}
    for pid, pseg in pred_table.items():
        cat = int(pseg['category_id'])
        if pid in pred_matched:
            continue
        c = col_of[pid]
        ignored = gt_void_overlap(c)
        crowd = crowd_by_cat.get(cat)
        if crowd is not None and crowd in row_of:
            ignored += int(joint[row_of[crowd], c])
        if ignored / pred_area_by_id[pid] > 0.5:
            stat(cat)
            continue
        stat(cat)[2] += 1
    return stats


class PQStats:
    """Accumulated ``[iou_sum, tp, fp, fn]`` per category id."""

    def __init__(self) -> None:
        self.per_cat: Dict[int, np.ndarray] = {}

    def add(self, image_stats: Mapping[int, np.ndarray]) -> 'PQStats':
        for cat, s in image_stats.items():
            if cat in self.per_cat:
                self.per_cat[cat] = self.per_cat[cat] + s
            else:
                self.per_cat[cat] = np.array(s, dtype=np.float64)
        return self

    def merge(self, other: 'PQStats') -> 'PQStats':
        return self.add(other.per_cat)


def _class_result(s: np.ndarray):
    iou, tp, fp, fn = s.tolist()
    denom = tp + 0.5 * fp + 0.5 * fn
    return dict(
        pq=iou / denom, sq=iou / tp if tp != 0 else 0.0, rq=tp / denom)


def pq_average(stats: PQStats, categories: Mapping[int, Mapping],
               isthing: Optional[bool] = None) -> Optional[Dict[str, float]]:
    """Average PQ / SQ / RQ over categories, as the reference ``pq_average``.

    Returns ``None`` when no category in the split has ``tp + fp + fn > 0``.
    """
    n = 0
    pq = sq = rq = 0.0
    for cat, info in categories.items():
        if isthing is not None and bool(info.get('isthing', 0)) != isthing:
            continue
        s = stats.per_cat.get(cat)
        if s is None or s[1] + s[2] + s[3] == 0:
            continue
        r = _class_result(s)
        n += 1
        pq += r['pq']
        sq += r['sq']
        rq += r['rq']
    if n == 0:
        return None
    return dict(pq=pq / n, sq=sq / n, rq=rq / n, n=n)


def pq_summary(stats: PQStats,
               categories: Mapping[int, Mapping],
               category_subset: Optional[Iterable[int]] = None) -> Dict:
    """PQ for All / Things / Stuff plus per-class results.

    Args:
        stats: accumulated statistics.
        categories: ``{category_id: {'isthing': 0/1, 'name': ...}}``.
        category_subset: evaluate only these category ids.

    Returns:
        ``{'All': {...}|None, 'Things': ..., 'Stuff': ..., 'per_class':
        {cat_id: {'pq', 'sq', 'rq', 'tp', 'fp', 'fn', 'iou_sum'}}}``.
    """
    if category_subset is not None:
        keep = set(int(c) for c in category_subset)
        unknown = keep - set(categories)
        if unknown:
            raise PanopticEvalError(f'category_subset has unknown ids {sorted(unknown)}')
        categories = {c: v for c, v in categories.items() if c in keep}
    per_class = {}
    for cat in categories:
        s = stats.per_cat.get(cat, np.zeros(4))
        iou, tp, fp, fn = s.tolist()
        if tp + fp + fn == 0:
            res = dict(pq=0.0, sq=0.0, rq=0.0)
        else:
            res = _class_result(s)
        res.update(tp=int(tp), fp=int(fp), fn=int(fn), iou_sum=iou)
        per_class[cat] = res
    return {
        'All': pq_average(stats, categories, None),
        'Things': pq_average(stats, categories, True),
        'Stuff': pq_average(stats, categories, False),
        'per_class': per_class,
    }
