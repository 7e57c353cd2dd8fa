"""VPQ and STQ of video predictions stored as per-frame PNGs.

Two layouts:

``step`` (KITTI-STEP / MOTChallenge-STEP): ``GT_DIR/<video>/<frame>.png`` and
the same names under ``PRED_DIR``; R = category id (255 = void), instance id =
G * 256 + B, stuff has instance 0, a ground-truth thing pixel with instance 0
is crowd.

``cityscapes-vps``: each directory holds one COCO-panoptic-style JSON
(``images``, ``annotations`` with ``segments_info``; ``iscrowd`` in the gt)
and RGB-id PNGs named by the annotations' ``file_name``.  The video of an
image is the part of its ``image_id`` (when a string; else of its file name)
before the first ``_``
(Cityscapes-VPS names frames ``<video>_<frame>_<city>_...``); frames are
taken in name order.

Both are read by :mod:`mmpanoptic.fileio.video_layouts` and become, per
frame, an id map + ``segments_info`` for VPQ and a ``semantic << 16 |
instance`` map for STQ (semantic = index of the category in
``categories.json``, void = 255, instance 0 for stuff and crowd).
"""
from typing import Dict, Mapping, Optional, Sequence

from mmpanoptic.fileio import (
    SHIFT,
    VOID_LABEL,
    PanopticEvalError,
    load_categories,
    load_step_dir,
    load_vps_dir,
    read_step_frame,
    read_vps_frame,
)

from ..functional.pq import PQStats
from ..functional.stq import STQAccumulator
from ..functional.vpq import vpq_group, vpq_summary, vpq_video_stats


def evaluate_video_dirs(gt_dir: str, pred_dir: str, categories: Sequence[Mapping], *,
                        metrics: Sequence[str] = ('vpq', 'stq'), layout: str = 'step',
                        window_frames: Sequence[int] = (1, 2, 3, 4),
                        class_groups: Optional[Mapping[str, Sequence[str]]] = None) -> Dict:
    """VPQ and / or STQ of a directory of predictions against the ground truth.

    ``class_groups`` (``{name: [class name, ...]}``, e.g. the base and novel
    classes of an open-vocabulary experiment) adds ``groups``: per group,
    VPQ averaged over its classes (:func:`vpq_group`) and STQ over its classes
    and tracks (:class:`STQAccumulator` ``groups``), as
    ``VideoPanopticMetric(class_groups=...)``.

    Returns:
        ``{"vpq": vpq_summary(...), "stq": {"stq", "aq", "iou", "per_sequence"},
        "groups": {name: {"vpq": {k: pq, "mean": pq}, "stq": {...}}}}``
        (only the requested metrics), values as fractions.
    """
    cats = {int(c['id']): dict(c) for c in load_categories(categories)}
    cat_index = {c: i for i, c in enumerate(cats)}
    things = {c for c, info in cats.items() if info.get('isthing', 0)}
    vpq: Dict[int, PQStats] = {k: PQStats() for k in window_frames}
    by_name = {c['name']: cid for cid, c in cats.items()}
    groups = {}
    for name, classes in (class_groups or {}).items():
        unknown = [c for c in classes if c not in by_name]
        if unknown:
            raise PanopticEvalError(f'class group {name!r} names classes the categories do not '
                                    f'have: {unknown}')
        groups[name] = [by_name[c] for c in classes]
    stq = STQAccumulator(num_classes=len(cats), things=[cat_index[c] for c in things],
                         ignore_label=VOID_LABEL, label_bit_shift=SHIFT,
                         groups={name: [cat_index[c] for c in ids] for name, ids in groups.items()})
    if layout == 'step':
        gt_videos, pred_videos = load_step_dir(gt_dir), load_step_dir(pred_dir)
    elif layout == 'cityscapes-vps':
        gt_videos, pred_videos = load_vps_dir(gt_dir), load_vps_dir(pred_dir)
    else:
        raise ValueError(f"layout must be 'step' or 'cityscapes-vps', got {layout!r}")
    for video, gt_frames in gt_videos.items():
        pred_frames = pred_videos.get(video)
        if pred_frames is None:
            raise PanopticEvalError(f'video {video}: no prediction in {pred_dir}')
        frames = []
        gt_tracks: Dict[int, int] = {}
        pred_tracks: Dict[int, int] = {}
        for name, gt_src in gt_frames.items():
            where = f'video {video} frame {name}'
            if name not in pred_frames:
                raise PanopticEvalError(f'{where}: no prediction in {pred_dir}')
            if layout == 'step':
                g = read_step_frame(gt_src, cat_index, things, True, where)
                p = read_step_frame(pred_frames[name], cat_index, things, False, where)
            else:
                g = read_vps_frame(gt_dir, gt_src, cat_index, things, gt_tracks, True, where)
                p = read_vps_frame(pred_dir, pred_frames[name], cat_index, things, pred_tracks,
                               False, where)
            if g.ids.shape != p.ids.shape:
                raise PanopticEvalError(f'{where}: prediction is {p.ids.shape[1]}x'
                                        f'{p.ids.shape[0]}, ground truth {g.ids.shape[1]}x'
                                        f'{g.ids.shape[0]} (WxH)')
            frames.append((g.ids, g.segments, p.ids, p.segments))
            if 'stq' in metrics:
                stq.update(g.stq, p.stq, video)
        if 'vpq' in metrics:
            for k, s in vpq_video_stats(frames, cats, window_frames, f'video {video}').items():
                vpq[k].merge(s)
    out: Dict[str, Optional[Dict]] = {}
    if 'vpq' in metrics:
        out['vpq'] = vpq_summary(vpq, cats)
    if 'stq' in metrics:
        out['stq'] = stq.result()
    if groups:
        group_stq = out['stq'].pop('groups') if 'stq' in metrics else {}
        out['groups'] = {name: dict(vpq=vpq_group(vpq, cats, ids) if 'vpq' in metrics else None,
                                    stq=group_stq.get(name))
                         for name, ids in groups.items()}
    return out
