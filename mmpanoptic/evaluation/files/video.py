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

Both become, per frame, an id map + ``segments_info`` for VPQ and a
``semantic << 16 | instance`` map for STQ (semantic = index of the category
in ``categories.json``, void = 255, instance 0 for stuff and crowd).
"""
import glob
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from ...datasets.video_formats import (  # the STEP layout's readers live with the datasets
    SHIFT,
    VOID_LABEL,
    Frame,
    load_step_dir,
    read_step_frame,
)
from ..functional.pq import PanopticEvalError, PQStats
from ..functional.stq import STQAccumulator
from ..functional.vpq import vpq_summary, vpq_video_stats
from .coco_panoptic import read_png_bgr


def load_categories(path: str) -> List[Dict]:
    """A COCO-style list of ``{id, name, isthing}`` (or a dict with ``categories``)."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise PanopticEvalError(f'{path}: cannot read categories ({e})') from e
    cats = data.get('categories', data) if isinstance(data, dict) else data
    if not isinstance(cats, list) or not all(isinstance(c, dict) and 'id' in c for c in cats):
        raise PanopticEvalError(f'{path}: expected a list of {{"id", "name", "isthing"}}')
    return cats


def _vps_json(root: str) -> Dict:
    found = sorted(glob.glob(osp.join(root, '*.json')))
    if len(found) != 1:
        raise PanopticEvalError(f'{root}: expected exactly one JSON (cityscapes-vps layout), '
                                f'found {len(found)}')
    with open(found[0]) as f:
        data = json.load(f)
    if 'annotations' not in data:
        raise PanopticEvalError(f'{found[0]}: not COCO panoptic (no "annotations")')
    return data


def _vps_frames(root: str) -> 'OrderedDict[str, Dict[str, Dict]]':
    videos: Dict[str, Dict[str, Dict]] = {}
    for ann in _vps_json(root)['annotations']:
        image_id = ann.get('image_id')
        name = image_id if isinstance(image_id, str) else osp.splitext(ann['file_name'])[0]
        videos.setdefault(name.split('_')[0], {})[name] = ann
    return OrderedDict((v, OrderedDict(sorted(f.items()))) for v, f in sorted(videos.items()))


def stq_labels(ids: np.ndarray, segments: Sequence[Dict], cat_index: Mapping[int, int],
               things: set, track_ids: Dict[int, int], is_gt: bool, where: str) -> np.ndarray:
    """``semantic << 16 | instance`` map of an id map with ``segments_info``.

    semantic = index of the category (void: 255); instance = a per-video
    track number for thing segments (same segment id -> same track), 0 for
    stuff and for crowd in the ground truth.
    """
    sem_lut, inst_lut = {0: VOID_LABEL}, {0: 0}
    for s in segments:
        if s['category_id'] not in cat_index:
            raise PanopticEvalError(f'{where}: segment {s["id"]} has unknown category_id '
                                    f'{s["category_id"]}')
        sem_lut[s['id']] = cat_index[s['category_id']]
        crowd = is_gt and s.get('iscrowd', 0)
        inst_lut[s['id']] = track_ids.setdefault(s['id'], len(track_ids) + 1) \
            if s['category_id'] in things and not crowd else 0
    present, inverse = np.unique(ids, return_inverse=True)
    missing = [int(i) for i in present if int(i) not in sem_lut]
    if missing:
        raise PanopticEvalError(f'{where}: segment {missing[0]} is in the id map but not in '
                                f'segments_info')
    sem = np.array([sem_lut[int(i)] for i in present])[inverse].reshape(ids.shape)
    inst = np.array([inst_lut[int(i)] for i in present])[inverse].reshape(ids.shape)
    return sem << SHIFT | inst


def _vps_frame(root: str, ann: Dict, cat_index, things, track_ids: Dict[int, int],
               is_gt: bool, where: str) -> Frame:
    path = osp.join(root, ann['file_name'])
    bgr = read_png_bgr(path, where).astype(np.int64)
    ids = bgr[..., 2] + 256 * bgr[..., 1] + 65536 * bgr[..., 0]
    segments = [dict(s) for s in ann['segments_info']]
    for s in segments:
        s.setdefault('iscrowd', 0)
        if is_gt and 'area' not in s:
            s['area'] = int((ids == s['id']).sum())
    return Frame(ids, segments,
                  stq_labels(ids, segments, cat_index, things, track_ids, is_gt,
                             f'{where} ({path})'))


def evaluate_video_dirs(gt_dir: str, pred_dir: str, categories: Sequence[Mapping], *,
                        metrics: Sequence[str] = ('vpq', 'stq'), layout: str = 'step',
                        window_frames: Sequence[int] = (1, 2, 3, 4)) -> Dict:
    """VPQ and / or STQ of a directory of predictions against the ground truth.

    Returns:
        ``{"vpq": vpq_summary(...), "stq": {"stq", "aq", "iou", "per_sequence"}}``
        (only the requested metrics), values as fractions.
    """
    cats = {int(c['id']): dict(c) for c in categories}
    cat_index = {c: i for i, c in enumerate(cats)}
    things = {c for c, info in cats.items() if info.get('isthing', 0)}
    stq = STQAccumulator(num_classes=len(cats), things=[cat_index[c] for c in things],
                         ignore_label=VOID_LABEL, label_bit_shift=SHIFT)
    vpq: Dict[int, PQStats] = {k: PQStats() for k in window_frames}
    if layout == 'step':
        gt_videos = load_step_dir(gt_dir, True, cat_index, things)
        pred_videos = load_step_dir(pred_dir, False, cat_index, things)
    elif layout == 'cityscapes-vps':
        gt_videos, pred_videos = _vps_frames(gt_dir), _vps_frames(pred_dir)
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
                g = _vps_frame(gt_dir, gt_src, cat_index, things, gt_tracks, True, where)
                p = _vps_frame(pred_dir, pred_frames[name], cat_index, things, pred_tracks,
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
    return out
