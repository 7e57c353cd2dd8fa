"""Video Panoptic Quality (Kim et al., CVPR 2020), Cityscapes-VPS definition.

For a window of ``k`` consecutive annotated frames, the segments of one id
across the window form a tube.  The window is scored like one image by PQ
(:mod:`.pq`): a predicted and a ground-truth tube of the same category match
when their tube IoU -- summed intersections over summed unions, the pred's
VOID pixels left out of the union -- exceeds 0.5; crowd and VOID follow PQ's
rules.  TP / FP / FN and IoU sums are accumulated over every window position
of every video; VPQ^k averages the per-class PQ; the reported VPQ is the mean
over ``k`` (1..4 annotated frames; "VPQ^0, 5, 10, 15" on Cityscapes-VPS).

As in the reference (``mcahny/vps`` ``tools/eval_vpq.py``), ground-truth
areas come from the ground truth's ``segments_info`` (summed over the
window), predicted areas are counted from the predicted id maps.

Speed: the reference stacks the ``k`` frames of every window and runs
``np.unique`` over all of their pixels, so every frame is re-counted up to
``sum(k)`` times.  Here each frame's (gt id, pred id) pixel pairs are counted
once; a window adds up the small per-frame pair tables.

One deliberate difference: the reference merges a window's segments by
aliasing the per-frame ``segments_info`` dicts and adding areas into them, so
a ground-truth segment that first appears in a window's second or later
frame keeps an inflated area in the following windows.  The definition (and
this code) sums each window's areas afresh.
"""
from collections import deque
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .pq import (
    PanopticEvalError,
    PQStats,
    check_same_size,
    pair_counts,
    pq_average,
    pq_stats_from_pairs,
)

Frame = Tuple[np.ndarray, Sequence[Mapping], np.ndarray, Sequence[Mapping]]


def _merge_segments(per_frame: Sequence[Sequence[Mapping]], where: str,
                    with_area: bool) -> List[Dict]:
    """One segment per id over the window, in first-appearance order."""
    merged: Dict[int, Dict] = {}
    for frame_segments in per_frame:
        for seg in frame_segments:
            sid = int(seg['id'])
            if sid not in merged:
                merged[sid] = dict(id=sid, category_id=int(seg['category_id']),
                                   iscrowd=int(seg.get('iscrowd', 0)))
                if with_area:
                    merged[sid]['area'] = 0
            elif merged[sid]['category_id'] != int(seg['category_id']):
                raise PanopticEvalError(
                    f'{where}: segment {sid} changes category from '
                    f'{merged[sid]["category_id"]} to {seg["category_id"]} inside the window')
            if with_area:
                merged[sid]['area'] += seg['area']
    return list(merged.values())


def _sum_pairs(tables: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray]]):
    key = np.concatenate([(g << 32) | p for g, p, _ in tables])
    counts = np.concatenate([c for _, _, c in tables])
    uniq, inverse = np.unique(key, return_inverse=True)
    return uniq >> 32, uniq & 0xFFFFFFFF, np.bincount(inverse, weights=counts).astype(np.int64)


class VPQStream:
    """VPQ statistics of one video, fed frame by frame.

    Keeps only what a window still needs: for each of the last ``max(k) - 1``
    frames its (gt, pred) pair table and ``segments_info`` (~100 pairs), never
    an id map, so memory does not grow with the video's length or the frame
    size.  A window is scored as soon as its last frame arrives; the windows
    and their order are those of :func:`vpq_video_stats`.

    Args:
        categories: ``{category_id: {'isthing': 0/1, ...}}``.
        window_frames: window lengths ``k`` in annotated frames.
        video: name used in error messages.
    """

    def __init__(self, categories: Mapping[int, Mapping],
                 window_frames: Sequence[int] = (1, 2, 3, 4), video: str = 'video') -> None:
        for k in window_frames:
            if k < 1:
                raise ValueError(f'window length must be >= 1 frame, got {k}')
        self.categories = categories
        self.window_frames = tuple(window_frames)
        self.video = video
        self.stats = {k: PQStats() for k in self.window_frames}
        self.frames = 0
        self._recent = deque(maxlen=max(self.window_frames, default=1))

    def add(self, gt_ids: np.ndarray, gt_segments: Sequence[Mapping], pred_ids: np.ndarray,
            pred_segments: Sequence[Mapping]) -> None:
        """Add the next annotated frame: (H, W) id maps (0 = VOID) and their
        COCO-style ``segments_info`` (gt with ``area`` and ``iscrowd``)."""
        t = self.frames
        where = f'{self.video} frame {t}'
        check_same_size(np.shape(gt_ids), np.shape(pred_ids), where)
        table = pair_counts(np.asarray(gt_ids), np.asarray(pred_ids))
        # Checks PNG against JSON for this frame (the window sums skip them).
        pq_stats_from_pairs(*table, gt_segments, pred_segments, self.categories, where)
        self._recent.append((table, gt_segments, pred_segments))
        self.frames += 1
        recent = list(self._recent)
        for k in self.window_frames:
            if k > len(recent):
                continue
            window = recent[-k:]
            where = f'{self.video} frames {t - k + 1}..{t}'
            pairs = window[0][0] if k == 1 else _sum_pairs([w[0] for w in window])
            gt = _merge_segments([w[1] for w in window], where, with_area=True)
            pred = _merge_segments([w[2] for w in window], where, with_area=False)
            per_cat, _ = pq_stats_from_pairs(*pairs, gt, pred, self.categories, where,
                                             check_gt_png=False)
            self.stats[k].add(per_cat)


def vpq_video_stats(frames: Sequence[Frame],
                    categories: Mapping[int, Mapping],
                    window_frames: Sequence[int] = (1, 2, 3, 4),
                    video: str = 'video') -> Dict[int, PQStats]:
    """VPQ statistics of one video for every window length.

    Args:
        frames: annotated frames in order, each ``(gt_ids, gt_segments,
            pred_ids, pred_segments)``: (H, W) id maps (0 = VOID) and
            COCO-style ``segments_info`` (gt with ``area`` and ``iscrowd``).
            Ids are tube ids: the same id in two frames is the same tube.
        categories: ``{category_id: {'isthing': 0/1, ...}}``.
        window_frames: window lengths ``k`` in annotated frames.
        video: name used in error messages.

    Returns:
        ``{k: PQStats}``; a video shorter than ``k`` adds nothing for ``k``.
        (:class:`VPQStream` frame by frame; windows in order of their start.)
    """
    stream = VPQStream(categories, window_frames, video)
    for frame in frames:
        stream.add(*frame)
    return stream.stats


def vpq_summary(stats: Mapping[int, PQStats], categories: Mapping[int, Mapping]) -> Dict:
    """``{str(k): {All, Things, Stuff, per_class}, 'mean': {All, Things, Stuff}}``.

    Splits are ``{pq, sq, rq, n}`` fractions (None when no class of the split
    occurs); ``mean`` averages pq / sq / rq over the window lengths.
    """
    out: Dict[str, Dict] = {}
    for k, s in stats.items():
        res: Dict[str, Optional[Dict]] = {
            name: pq_average(s, categories, isthing)
            for name, isthing in (('All', None), ('Things', True), ('Stuff', False))
        }
        per_class = {}
        for cat in categories:
            v = s.per_cat.get(cat)
            if v is None:
                continue
            iou, tp, fp, fn = v.tolist()
            denom = tp + 0.5 * fp + 0.5 * fn
            per_class[str(cat)] = dict(pq=iou / denom if denom else 0.0,
                                       sq=iou / tp if tp else 0.0,
                                       rq=tp / denom if denom else 0.0,
                                       tp=int(tp), fp=int(fp), fn=int(fn))
        res['per_class'] = per_class
        out[str(k)] = res
    mean = {}
    for name in ('All', 'Things', 'Stuff'):
        values = [out[str(k)][name] for k in stats]
        if values and all(v is not None for v in values):
            mean[name] = {m: float(np.mean([v[m] for v in values])) for m in ('pq', 'sq', 'rq')}
        else:
            mean[name] = None
    out['mean'] = mean
    return out


def vpq_group(stats: Mapping[int, PQStats], categories: Mapping[int, Mapping],
              category_ids: Sequence[int]) -> Dict[str, Optional[float]]:
    """VPQ of a group of classes: ``{str(k): pq, 'mean': pq}`` (fractions)
    averaging the group's categories as :func:`vpq_summary` averages all
    (``None`` where none of them occurs; ``mean`` then ``None`` too)."""
    sub = {c: categories[c] for c in category_ids}
    out: Dict[str, Optional[float]] = {}
    for k, s in stats.items():
        res = pq_average(s, sub)
        out[str(k)] = res['pq'] if res else None
    values = list(out.values())
    out['mean'] = float(np.mean(values)) if values and None not in values else None
    return out
