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
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from mmpanoptic.fileio.errors import PanopticEvalError

VOID = 0


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
            raise PanopticEvalError(f'{image}: {kind} segment {sid} has unknown category_id {cat}')
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


def _starts_of_runs(values: np.ndarray) -> np.ndarray:
    """Indices where a new run of equal values begins (always includes 0)."""
    starts = np.flatnonzero(values[1:] != values[:-1])
    starts += 1
    return np.concatenate((np.zeros(1, np.int64), starts))


def count_keys(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Distinct values of a 1-D array and how often each occurs.

    Same result as ``np.unique(keys, return_counts=True)``, but neighbouring
    pixels mostly share a key, so the pixels are first collapsed into runs
    (one comparison pass) and only the run keys (a few percent of the pixels)
    are sorted, weighted by run length.
    """
    starts = _starts_of_runs(keys)
    return _count_runs(keys[starts], np.diff(np.append(starts, keys.size)))


def _count_runs(run_keys: np.ndarray, lengths: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Sum run lengths per distinct key (sorting the runs, not the pixels)."""
    order = np.argsort(run_keys)
    run_keys = run_keys[order]
    first = _starts_of_runs(run_keys)
    return run_keys[first], np.add.reduceat(lengths[order], first)


def check_same_size(gt_shape: Tuple[int, ...], pred_shape: Tuple[int, ...], image: str) -> None:
    """Raise naming the image when prediction and ground truth sizes differ."""
    if tuple(gt_shape[:2]) != tuple(pred_shape[:2]):
        raise PanopticEvalError(
            f'{image}: prediction size {pred_shape[1]}x{pred_shape[0]} '
            f'(WxH) differs from ground truth {gt_shape[1]}x{gt_shape[0]}')


def pair_counts(gt_ids: np.ndarray,
                pred_ids: np.ndarray,
                id_mask: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel counts of every (gt id, pred id) pair present in two id maps.

    One pass over the pixels finds where either map changes value (in raster
    order, so a run is a horizontal stretch of one (gt, pred) pair); only
    the ids at those run starts (a few percent of the pixels) are combined
    into ``gt << 32 | pred`` keys, sorted and summed by run length.  No
    per-pixel 64-bit key is built and no pixel is sorted.

    Args:
        gt_ids, pred_ids: integer id maps of one shape, ids in ``[0, 2^32)``.
        id_mask: keep only these bits of each id (the PNG reader passes
            ``0xFFFFFF`` for RGBA words whose alpha byte is not part of the id).

    Returns:
        ``(gt, pred, count)`` int64 arrays, one entry per pair present.
    """
    gt = gt_ids.reshape(-1)
    pred = pred_ids.reshape(-1)
    if gt.size != pred.size:
        raise PanopticEvalError(f'id maps differ in size: {gt_ids.shape} vs {pred_ids.shape}')
    if gt.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    for name, ids in (('gt', gt), ('pred', pred)):
        if ids.dtype != np.uint32 and (ids.min() < 0 or ids.max() >= 2**32):
            raise PanopticEvalError(f'{name} segment ids must lie in [0, 2^32)')
    change = gt[1:] != gt[:-1]
    change |= pred[1:] != pred[:-1]
    starts = np.flatnonzero(change)
    starts += 1
    starts = np.concatenate((np.zeros(1, np.int64), starts))
    lengths = np.diff(np.append(starts, gt.size))
    run_gt = gt[starts].astype(np.uint64)
    run_pred = pred[starts].astype(np.uint64)
    if id_mask is not None:
        run_gt &= np.uint64(id_mask)
        run_pred &= np.uint64(id_mask)
    keys, counts = _count_runs((run_gt << np.uint64(32)) | run_pred, lengths)
    return ((keys >> np.uint64(32)).astype(np.int64),
            (keys & np.uint64(0xFFFFFFFF)).astype(np.int64), counts.astype(np.int64))


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
    return pq_image_stats_by_size(gt_ids, gt_segments, pred_ids, pred_segments, categories, image,
                                  check_gt_png)[0]


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
    check_same_size(gt_ids.shape, pred_ids.shape, image)
    return pq_stats_from_pairs(*pair_counts(gt_ids, pred_ids), gt_segments, pred_segments,
                               categories, image, check_gt_png)


def pq_stats_from_pairs(pair_gt: np.ndarray,
                        pair_pred: np.ndarray,
                        pair_count: np.ndarray,
                        gt_segments: Sequence[Mapping],
                        pred_segments: Sequence[Mapping],
                        categories: Mapping[int, Mapping],
                        image: str = 'image',
                        check_gt_png: bool = True):
    """PQ statistics from the (gt id, pred id, pixel count) pairs of one image.

    Everything here is per segment pair (typically ~100 per image), so plain
    Python is fine; the pixels were handled by :func:`pair_counts`.

    Returns:
        ``({cat: [iou_sum, tp, fp, fn]}, {size: {cat: [...]}})``.
    """
    gt_table = _segment_table(gt_segments, image, 'gt', categories)
    pred_table = _segment_table(pred_segments, image, 'pred', categories)
    joint: Dict[Tuple[int, int], int] = {}
    pred_area: Dict[int, int] = {}
    gt_present = set()
    for g, p, c in zip(pair_gt.tolist(), pair_pred.tolist(), pair_count.tolist()):
        joint[(g, p)] = c
        pred_area[p] = pred_area.get(p, 0) + c
        gt_present.add(g)

    # PNG and JSON must agree (VOID may appear without a JSON entry).
    for sid in sorted(pred_area):
        if sid != VOID and sid not in pred_table:
            raise PanopticEvalError(
                f'{image}: segment {sid} is in the prediction PNG but not in its segments_info')
    for sid in pred_table:
        if sid not in pred_area:
            raise PanopticEvalError(
                f'{image}: prediction segment {sid} is in segments_info but not in the PNG')
    if check_gt_png:
        for sid in sorted(gt_present):
            if sid != VOID and sid not in gt_table:
                raise PanopticEvalError(
                    f'{image}: segment {sid} is in the ground-truth PNG but not in its '
                    f'segments_info')
        for sid in gt_table:
            if sid not in gt_present:
                raise PanopticEvalError(
                    f'{image}: ground-truth segment {sid} is in segments_info but not in the PNG')

    # Plain lists while counting (numpy scalar updates cost ~1 us each);
    # arrays on return.
    stats: Dict[int, list] = {}
    sized: Dict[str, Dict[int, list]] = {name: {} for name, _, _ in SIZE_RANGES}
    things = {cat for cat, info in categories.items() if info.get('isthing', 0)}

    def add(cat, field, value, area):
        row = stats.get(cat)
        if row is None:
            row = stats[cat] = [0.0, 0.0, 0.0, 0.0]
        row[field] += value
        if cat in things:
            row = sized[size_of(area)].setdefault(cat, [0.0, 0.0, 0.0, 0.0])
            row[field] += value

    gt_matched, pred_matched = set(), set()
    for (g, p), inter in joint.items():
        gseg, pseg = gt_table.get(g), pred_table.get(p)
        if gseg is None or pseg is None or gseg.get('iscrowd', 0) == 1:
            continue
        cat = int(gseg['category_id'])
        if cat != int(pseg['category_id']):
            continue
        # The union leaves out the pred's pixels that fall on gt VOID.
        union = pred_area[p] + gseg['area'] - inter - joint.get((VOID, p), 0)
        iou = inter / union
        if iou > 0.5:
            add(cat, 0, iou, gseg['area'])
            add(cat, 1, 1.0, gseg['area'])
            gt_matched.add(g)
            pred_matched.add(p)

    crowd_by_cat = {}
    for seg in gt_segments:  # JSON order decides which crowd counts (the last)
        g, cat = int(seg['id']), int(seg['category_id'])
        if g in gt_matched:
            continue
        if seg.get('iscrowd', 0) == 1:
            crowd_by_cat[cat] = g  # the reference keeps one crowd per category
            stats.setdefault(cat, [0.0, 0.0, 0.0, 0.0])
            continue
        add(cat, 3, 1.0, seg['area'])

    for p, pseg in pred_table.items():
        if p in pred_matched:
            continue
        cat = int(pseg['category_id'])
        ignored = joint.get((VOID, p), 0)
        crowd = crowd_by_cat.get(cat)
        if crowd is not None:
            ignored += joint.get((crowd, p), 0)
        if ignored / pred_area[p] > 0.5:
            stats.setdefault(cat, [0.0, 0.0, 0.0, 0.0])
            continue
        add(cat, 2, 1.0, pred_area[p])
    return ({cat: np.array(row) for cat, row in stats.items()},
            {name: {cat: np.array(row) for cat, row in per_cat.items()}
             for name, per_cat in sized.items()})


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

    def add(self,
            image_stats: Mapping[int, np.ndarray],
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
    return dict(pq=iou / denom, sq=iou / tp if tp != 0 else 0.0, rq=tp / denom)


def pq_average(stats: PQStats,
               categories: Mapping[int, Mapping],
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
    sizes = summary.get('things_by_size')
    if sizes:
        srows = [['things by size', 'PQ', 'SQ', 'RQ', 'N']]
        for name, r in sizes.items():
            srows.append([name] + ([f'{100 * r[k]:.2f}' for k in ('pq', 'sq', 'rq')] + [r['n']]
                                   if r else ['-', '-', '-', 0]))
        text += '\n' + AsciiTable(srows).table
    return text
