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
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

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
        if kind == 'gt' and 'area' not in seg:
            raise PanopticEvalError(f'{image}: gt segment {sid} has no "area"')
        if categories is not None and cat not in categories:
            raise PanopticEvalError(
                f'{image}: {kind} segment {sid} has unknown category_id {cat}')
        table[sid] = seg
    return table


# COCO's object size ranges, by gt area (TP / FN) or pred area (FP), in pixels.
SIZE_RANGES = (('small', 0, 32**2), ('medium', 32**2, 96**2), ('large', 96**2, float('inf')))


def size_of(area: float) -> str:
    """COCO size bucket of an area in pixels."""
    for name, low, high in SIZE_RANGES:
        if low <= area < high:
            return name
    return 'large'


def _dense_index(ids: np.ndarray, table: Mapping[int, Mapping], image: str,
                 kind: str, check: bool) -> Tuple[np.ndarray, List[int], np.ndarray]:
    """Map segment ids to dense indices: ``0..k-1`` for the ids listed in
    ``segments_info``, ``k`` for VOID and ``k + 1`` for unlisted ids.

    One ``np.searchsorted`` against the (few) listed ids replaces sorting all
    pixels.  Returns the dense map, the sorted ids and the pixel count of
    every listed id.
    """
    listed = sorted(table)
    k = len(listed)
    flat = ids.ravel()
    if k == 0:
        unknown = flat != VOID
        dense = np.where(unknown, 1, 0)
    else:
        keys = np.asarray(listed, dtype=np.int64)
        pos = np.searchsorted(keys, flat)
        np.minimum(pos, k - 1, out=pos)
        hit = keys[pos] == flat
        unknown = ~hit & (flat != VOID)
        dense = np.where(hit, pos, np.where(unknown, k + 1, k))
    if check and unknown.any():
        sid = int(flat[np.argmax(unknown)])
        where = 'prediction PNG' if kind == 'pred' else 'ground-truth PNG'
        raise PanopticEvalError(
            f'{image}: segment {sid} is in the {where} but not in its segments_info')
    counts = np.bincount(dense, minlength=k + 2)[:k]
    if check and k and (counts == 0).any():
        sid = listed[int(np.argmin(counts))]
        what = 'prediction' if kind == 'pred' else 'ground-truth'
        raise PanopticEvalError(
            f'{image}: {what} segment {sid} is in segments_info but not in the PNG')
    return dense, listed, counts


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
    return pq_image_stats_by_size(gt_ids, gt_segments, pred_ids, pred_segments,
                                  categories, image, check_gt_png)[0]


def pq_image_stats_by_size(gt_ids: np.ndarray,
                           gt_segments: Sequence[Mapping],
                           pred_ids: np.ndarray,
                           pred_segments: Sequence[Mapping],
                           categories: Mapping[int, Mapping],
                           image: str = 'image',
                           check_gt_png: bool = True):
    """:func:`pq_image_stats` plus the same counts for thing classes split by
    object size: ``({cat: stats}, {size: {cat: stats}})``.  A TP or FN falls
    in the bucket of its gt area, a FP in the bucket of its pred area."""
    if gt_ids.shape != pred_ids.shape:
        raise PanopticEvalError(
            f'{image}: prediction size {pred_ids.shape[1]}x{pred_ids.shape[0]} '
            f'(WxH) differs from ground truth {gt_ids.shape[1]}x{gt_ids.shape[0]}')
    gt_table = _segment_table(gt_segments, image, 'gt', categories)
    pred_table = _segment_table(pred_segments, image, 'pred', categories)
    g_dense, g_ids, _ = _dense_index(gt_ids, gt_table, image, 'gt', check_gt_png)
    p_dense, p_ids, p_area = _dense_index(pred_ids, pred_table, image, 'pred', True)
    kg, kp = len(g_ids), len(p_ids)
    # joint[i, j]: pixels of gt i and pred j; row kg is gt VOID, row kg + 1
    # gt ids missing from segments_info (only with check_gt_png=False; like
    # the reference they match nothing and do not count as VOID).
    joint = np.bincount(g_dense * (kp + 2) + p_dense,
                        minlength=(kg + 2) * (kp + 2)).reshape(kg + 2, kp + 2)
    on_void = joint[kg, :kp]

    stats: Dict[int, np.ndarray] = {}
    sized: Dict[str, Dict[int, np.ndarray]] = {name: {} for name, _, _ in SIZE_RANGES}

    def add(cat, field, value=1.0, area=None):
        stats.setdefault(cat, np.zeros(4))[field] += value
        if area is not None and categories.get(cat, {}).get('isthing', 0):
            sized[size_of(area)].setdefault(cat, np.zeros(4))[field] += value

    g_cat = [int(gt_table[i]['category_id']) for i in g_ids]
    p_cat = [int(pred_table[j]['category_id']) for j in p_ids]
    g_crowd = [gt_table[i].get('iscrowd', 0) == 1 for i in g_ids]
    g_area = [gt_table[i]['area'] for i in g_ids]
    g_matched = [False] * kg
    p_matched = [False] * kp
    rows, cols = np.nonzero(joint[:kg, :kp])
    for r, c in zip(rows.tolist(), cols.tolist()):
        if g_crowd[r] or g_cat[r] != p_cat[c]:
            continue
        inter = int(joint[r, c])
        # The union leaves out the pred's pixels that fall on gt VOID.
        union = int(p_area[c]) + g_area[r] - inter - int(on_void[c])
        iou = inter / union
        if iou > 0.5:
            add(g_cat[r], 0, iou, g_area[r])
            add(g_cat[r], 1, 1.0, g_area[r])
            g_matched[r] = p_matched[c] = True

    crowd_row = {}
    order = {sid: r for r, sid in enumerate(g_ids)}
    for seg in gt_segments:  # JSON order decides which crowd counts (the last)
        r = order[int(seg['id'])]
        if g_matched[r]:
            continue
        if g_crowd[r]:
            crowd_row[g_cat[r]] = r  # the reference keeps the last crowd only
            stats.setdefault(g_cat[r], np.zeros(4))
            continue
        add(g_cat[r], 3, 1.0, g_area[r])

    for c in range(kp):
        if p_matched[c]:
            continue
        ignored = int(on_void[c])
        r = crowd_row.get(p_cat[c])
        if r is not None:
            ignored += int(joint[r, c])
        if ignored / int(p_area[c]) > 0.5:
            stats.setdefault(p_cat[c], np.zeros(4))
            continue
        add(p_cat[c], 2, 1.0, int(p_area[c]))
    return stats, sized


def _accumulate(into: Dict[int, np.ndarray], image_stats: Mapping[int, np.ndarray]) -> None:
    for cat, s in image_stats.items():
        if cat in into:
            into[cat] = into[cat] + s
        else:
            into[cat] = np.array(s, dtype=np.float64)


class PQStats:
    """Accumulated ``[iou_sum, tp, fp, fn]`` per category id, and per COCO
    size bucket for thing classes (``per_size[size][cat]``)."""

    def __init__(self) -> None:
        self.per_cat: Dict[int, np.ndarray] = {}
        self.per_size: Dict[str, Dict[int, np.ndarray]] = {n: {} for n, _, _ in SIZE_RANGES}

    def add(self, image_stats: Mapping[int, np.ndarray],
            sized: Optional[Mapping[str, Mapping[int, np.ndarray]]] = None) -> 'PQStats':
        _accumulate(self.per_cat, image_stats)
        for name, per_cat in (sized or {}).items():
            _accumulate(self.per_size[name], per_cat)
        return self

    def merge(self, other: 'PQStats') -> 'PQStats':
        return self.add(other.per_cat, other.per_size)


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
    by_size = {}
    for name, _, _ in SIZE_RANGES:
        sized = PQStats()
        sized.per_cat = stats.per_size.get(name, {})
        by_size[name] = pq_average(sized, categories, True)
    return {
        'All': pq_average(stats, categories, None),
        'Things': pq_average(stats, categories, True),
        'Stuff': pq_average(stats, categories, False),
        'per_class': per_class,
        'things_by_size': by_size,
    }
