"""Why PQ is low: every FP and FN of one image put down to one cause.

Matching follows :mod:`.pq` exactly (same category, non-crowd gt, IoU > 0.5
with the pred's VOID pixels left out of the union; unmatched preds lying
more than half on VOID plus their category's crowd region are ignored), so
per class the causes add up to PQ's FP and FN.  Each error gets the first
cause that applies, in this order (``area`` = the segment's pixels; a pred's
area includes its pixels on VOID, as in PQ):

False negatives (an unmatched non-crowd gt ``g`` of class ``c``):

1. ``wrong_class``: a pred of another class has IoU > 0.5 with ``g``;
2. ``merged``: one pred of class ``c`` holds more than half of ``g`` but is
   too large for IoU > 0.5 (``g`` was merged with neighbours);
3. ``split``: two or more preds of class ``c`` together hold more than half
   of ``g``, none alone;
4. ``missed``: anything else (left VOID, taken by other classes, or only
   grazed).

False positives (an unmatched, not ignored pred ``p`` of class ``c``):

1. ``wrong_class``: a non-crowd gt of another class has IoU > 0.5 with ``p``;
2. ``duplicate``: more than half of ``p`` lies on a gt of class ``c`` that
   another pred already matched;
3. ``split``: more than half of ``p`` lies on one unmatched gt of class ``c``
   (``p`` is a fragment of it);
4. ``merged``: two or more non-crowd gts of class ``c`` together hold more
   than half of ``p``, none alone;
5. ``crowd_void``: the largest part of ``p`` lies on VOID or on a crowd
   region of class ``c`` (but not enough of it to be ignored);
6. ``background``: anything else (mostly on other classes' ground truth).
"""
from collections import defaultdict
from typing import Dict, Mapping, Sequence

import numpy as np

from .pq import VOID, _segment_table

FN_CAUSES = ('wrong_class', 'merged', 'split', 'missed')
FP_CAUSES = ('wrong_class', 'duplicate', 'split', 'merged', 'crowd_void', 'background')


def pq_error_causes(pair_gt: np.ndarray, pair_pred: np.ndarray, pair_count: np.ndarray,
                    gt_segments: Sequence[Mapping], pred_segments: Sequence[Mapping],
                    categories: Mapping[int, Mapping], image: str = 'image') -> Dict:
    """Causes of one image's errors and its confusion counts.

    Args:
        pair_gt, pair_pred, pair_count: the image's (gt id, pred id, pixels)
            pairs (:func:`~.pq.pair_counts`).
        gt_segments, pred_segments, categories: as for :func:`~.pq.pq_stats_from_pairs`.

    Returns:
        ``{'fn': {cat: {cause: n}}, 'fp': {cat: {cause: n}}, 'confusion':
        {(gt cat, pred cat or 0): n}}``; the confusion counts every non-crowd
        gt segment once, under the category of the pred with which it has the
        largest IoU (0 when no pred overlaps it).
    """
    gt_table = _segment_table(gt_segments, image, 'gt', categories)
    pred_table = _segment_table(pred_segments, image, 'pred', categories)
    joint = {}
    pred_area: Dict[int, int] = defaultdict(int)
    for g, p, c in zip(pair_gt.tolist(), pair_pred.tolist(), pair_count.tolist()):
        joint[(g, p)] = c
        pred_area[p] += c
    by_gt: Dict[int, list] = defaultdict(list)
    by_pred: Dict[int, list] = defaultdict(list)
    for (g, p), inter in joint.items():
        by_gt[g].append((p, inter))
        by_pred[p].append((g, inter))

    def gcat(g):
        return int(gt_table[g]['category_id'])

    def pcat(p):
        return int(pred_table[p]['category_id'])

    def crowd(g):
        return gt_table[g].get('iscrowd', 0) == 1

    def iou(g, p, inter):
        return inter / (pred_area[p] + gt_table[g]['area'] - inter - joint.get((VOID, p), 0))

    # PQ's matching (unique: IoU > 0.5 on both sides).
    matched_gt, matched_pred = set(), set()
    for (g, p), inter in joint.items():
        if g in gt_table and p in pred_table and not crowd(g) and gcat(g) == pcat(p) \
                and iou(g, p, inter) > 0.5:
            matched_gt.add(g)
            matched_pred.add(p)
    crowd_of = {}
    for seg in gt_segments:  # as PQ: the last crowd segment of a category counts
        if seg.get('iscrowd', 0) == 1:
            crowd_of[int(seg['category_id'])] = int(seg['id'])

    fn = defaultdict(lambda: dict.fromkeys(FN_CAUSES, 0))
    fp = defaultdict(lambda: dict.fromkeys(FP_CAUSES, 0))
    confusion: Dict[tuple, int] = defaultdict(int)
    for g, seg in gt_table.items():
        if crowd(g):
            continue
        c, area = gcat(g), seg['area']
        overlaps = [(p, inter) for p, inter in by_gt.get(g, []) if p in pred_table]
        best = max(overlaps, key=lambda x: iou(g, x[0], x[1]), default=None)
        confusion[(c, pcat(best[0]) if best else 0)] += 1
        if g in matched_gt:
            continue
        same = [inter for p, inter in overlaps if pcat(p) == c]
        if any(pcat(p) != c and iou(g, p, inter) > 0.5 for p, inter in overlaps):
            cause = 'wrong_class'
        elif any(inter > 0.5 * area for inter in same):
            cause = 'merged'
        elif len(same) >= 2 and sum(same) > 0.5 * area:
            cause = 'split'
        else:
            cause = 'missed'
        fn[c][cause] += 1

    for p, seg in pred_table.items():
        if p in matched_pred:
            continue
        c, area = pcat(p), pred_area[p]
        void = joint.get((VOID, p), 0)
        crowd_id = crowd_of.get(c)
        on_crowd = joint.get((crowd_id, p), 0) if crowd_id is not None else 0
        if (void + on_crowd) / area > 0.5:
            continue  # ignored by PQ, not a FP
        overlaps = [(g, inter) for g, inter in by_pred.get(p, []) if g in gt_table]
        same = [(g, inter) for g, inter in overlaps if gcat(g) == c and not crowd(g)]
        if any(gcat(g) != c and not crowd(g) and iou(g, p, inter) > 0.5 for g, inter in overlaps):
            cause = 'wrong_class'
        elif any(g in matched_gt and inter > 0.5 * area for g, inter in same):
            cause = 'duplicate'
        elif any(inter > 0.5 * area for _, inter in same):
            cause = 'split'
        elif len(same) >= 2 and sum(inter for _, inter in same) > 0.5 * area:
            cause = 'merged'
        else:
            largest = max((inter for g, inter in overlaps if g != crowd_id), default=0)
            cause = 'crowd_void' if max(void, on_crowd) >= largest and void + on_crowd > 0 \
                else 'background'
        fp[c][cause] += 1
    return dict(fn=dict(fn), fp=dict(fp), confusion=dict(confusion))


class PQErrorStats:
    """Accumulated causes, confusion counts and per-image PQ."""

    def __init__(self) -> None:
        self.fn: Dict[int, Dict[str, int]] = defaultdict(lambda: dict.fromkeys(FN_CAUSES, 0))
        self.fp: Dict[int, Dict[str, int]] = defaultdict(lambda: dict.fromkeys(FP_CAUSES, 0))
        self.confusion: Dict[tuple, int] = defaultdict(int)
        self.images: list = []  # (image, PQ of the image's classes or None)

    def add(self, causes: Dict, image: str = None, image_stats=None) -> 'PQErrorStats':
        for kind, target in (('fn', self.fn), ('fp', self.fp)):
            for cat, counts in causes[kind].items():
                for cause, n in counts.items():
                    target[cat][cause] += n
        for key, n in causes['confusion'].items():
            self.confusion[key] += n
        if image is not None:
            self.images.append((image, image_pq(image_stats) if image_stats else None))
        return self

    def merge(self, other: 'PQErrorStats') -> 'PQErrorStats':
        self.add(dict(fn=other.fn, fp=other.fp, confusion=other.confusion))
        self.images += other.images
        return self

    def worst_images(self, n: int = 20):
        scored = [x for x in self.images if x[1] is not None]
        return sorted(scored, key=lambda x: x[1])[:n]


def image_pq(stats: Mapping[int, np.ndarray]):
    """PQ of one image: the mean PQ of the classes it involves (None if none)."""
    values = []
    for iou, tp, fp, fn in (np.asarray(s).tolist() for s in stats.values()):
        if tp + fp + fn > 0:
            values.append(iou / (tp + 0.5 * fp + 0.5 * fn))
    return float(np.mean(values)) if values else None
