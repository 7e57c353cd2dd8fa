"""The published video panoptic layouts, read and written in one place.

- **STEP** (KITTI-STEP, MOTChallenge-STEP): ``<root>/<video>/<frame>.png``,
  R = category id (255 = void), instance id = G * 256 + B; stuff has
  instance 0 and a ground-truth thing pixel with instance 0 is crowd.
- **Cityscapes-VPS**: one COCO-panoptic JSON per folder over RGB-id PNGs;
  frames named ``<video>_<frame>_<city>_...`` (the video of an image is the
  part of its ``image_id``, or of its file name, before the first ``_``).
- **VIPSeg**: the COCO-style JSON of VIPSeg's ``create_panoptic_video_labels.py``
  (``{"videos": [{"video_id", "images", "annotations"}], "categories"}``)
  over ``panomasksRGB/<video>/`` RGB-id PNGs.

A frame read for evaluation is a :class:`Frame`: the id map and
``segments_info`` (VPQ) and a ``semantic << 16 | instance`` map (STQ;
semantic = index of the category in the category list, void = 255,
instance 0 for stuff and crowd).  numpy and OpenCV only.
"""
import glob
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Sequence

import numpy as np

from .errors import PanopticEvalError, PanopticFileError
from .panoptic_json import read_json
from .png import read_panoptic_png, read_png_rgb, write_rgb_png

VOID_LABEL = 255
SHIFT = 16


class Frame:
    """One annotated frame: id map + segments for VPQ, STQ label map."""

    def __init__(self, ids: np.ndarray, segments: List[Dict], stq: np.ndarray) -> None:
        self.ids, self.segments, self.stq = ids, segments, stq


# ---------------------------------------------------------------- STEP
def read_step_frame(path: str, cat_index: Mapping[int, int], things: set, is_gt: bool,
                    where: str) -> Frame:
    """One STEP frame PNG (R = class, G * 256 + B = instance) as a :class:`Frame`;
    segment ids are ``(category << 16 | instance) + 1``."""
    rgb = read_png_rgb(path, where).astype(np.int64)
    cat, inst = rgb[..., 0], rgb[..., 1] * 256 + rgb[..., 2]
    void = cat == VOID_LABEL
    unknown = np.setdiff1d(np.unique(cat[~void]), list(cat_index))
    if len(unknown):
        raise PanopticEvalError(f'{where} ({path}): unknown category id {int(unknown[0])}')
    ids = np.where(void, 0, (cat << SHIFT | inst) + 1)
    segments = []
    for sid, area in zip(*np.unique(ids[ids > 0], return_counts=True)):
        c, i = int(sid - 1) >> SHIFT, int(sid - 1) & 0xFFFF
        segments.append(dict(id=int(sid), category_id=c, area=int(area),
                             iscrowd=int(is_gt and c in things and i == 0)))
    lut = np.full(256, VOID_LABEL, dtype=np.int64)
    for c, k in cat_index.items():
        lut[c] = k
    sem = lut[np.where(void, VOID_LABEL, cat)]
    stq_inst = np.where(np.isin(cat, list(things)), inst, 0)
    return Frame(ids, segments, sem << SHIFT | stq_inst)


def write_step_frame(path: str, category: np.ndarray, instance: np.ndarray) -> str:
    """Write a STEP frame PNG from (H, W) category ids (255 = void) and
    instance ids (0 = stuff / crowd, < 65536)."""
    category, instance = np.asarray(category), np.asarray(instance)
    if category.max(initial=0) > 255 or instance.max(initial=0) > 65535:
        raise PanopticFileError(f'{path}: STEP frames hold category ids < 256 and instance '
                                'ids < 65536')
    rgb = np.stack([category, instance // 256, instance % 256], -1).astype(np.uint8)
    return write_rgb_png(path, rgb)


def load_step_dir(root: str) -> 'OrderedDict[str, OrderedDict[str, str]]':
    """``{video: {frame name: PNG path}}`` of a STEP folder, in name order."""
    videos = OrderedDict()
    for video in sorted(d for d in glob.glob(osp.join(root, '*')) if osp.isdir(d)):
        frames = sorted(glob.glob(osp.join(video, '*.png')))
        if frames:
            videos[osp.basename(video)] = OrderedDict((osp.basename(f), f) for f in frames)
    if not videos:
        raise PanopticFileError(f'{root}: no <video>/<frame>.png found (step layout)')
    return videos


# ---------------------------------------------------------------- Cityscapes-VPS
def read_vps_json(root: str) -> Dict:
    """The one COCO-panoptic JSON of a Cityscapes-VPS folder."""
    found = sorted(glob.glob(osp.join(root, '*.json')))
    if len(found) != 1:
        raise PanopticFileError(f'{root}: expected exactly one JSON (cityscapes-vps layout), '
                                f'found {len(found)}')
    data = read_json(found[0], 'cityscapes-vps JSON')
    if not isinstance(data, dict) or not isinstance(data.get('annotations'), list):
        raise PanopticFileError(f'{found[0]}: not COCO panoptic (no "annotations" list)')
    return data


def vps_video_of(name: str) -> str:
    """The video of a Cityscapes-VPS frame name (``<video>_<frame>_...``)."""
    return name.split('_')[0]


def load_vps_dir(root: str) -> 'OrderedDict[str, OrderedDict[str, Dict]]':
    """``{video: {frame name: annotation}}`` of a Cityscapes-VPS folder, in name order."""
    videos: Dict[str, Dict[str, Dict]] = {}
    for ann in read_vps_json(root)['annotations']:
        image_id = ann.get('image_id')
        name = image_id if isinstance(image_id, str) else osp.splitext(ann['file_name'])[0]
        videos.setdefault(vps_video_of(name), {})[name] = ann
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


def read_vps_frame(root: str, ann: Dict, cat_index, things, track_ids: Dict[int, int],
                   is_gt: bool, where: str) -> Frame:
    """One Cityscapes-VPS frame (its annotation's PNG under ``root``) as a :class:`Frame`."""
    path = osp.join(root, ann['file_name'])
    ids = read_panoptic_png(path, where)
    segments = [dict(s) for s in ann['segments_info']]
    for s in segments:
        s.setdefault('iscrowd', 0)
        if is_gt and 'area' not in s:
            s['area'] = int((ids == s['id']).sum())
    return Frame(ids, segments,
                 stq_labels(ids, segments, cat_index, things, track_ids, is_gt,
                            f'{where} ({path})'))


# ---------------------------------------------------------------- VIPSeg
def read_vipseg_json(path: str) -> Dict:
    """VIPSeg's per-video COCO JSON, checked: every video has ``video_id``,
    ``images`` and ``annotations`` (an annotation per image)."""
    data = read_json(path, 'VIPSeg JSON')
    if not isinstance(data, dict) or not isinstance(data.get('videos'), list):
        raise PanopticFileError(f'{path}: expected VIPSeg\'s {{"videos": [...]}} layout')
    for video in data['videos']:
        missing = [k for k in ('video_id', 'images', 'annotations') if k not in video]
        if missing:
            raise PanopticFileError(f'{path}: video {str(video)[:60]} lacks {missing}')
        annotated = {a.get('image_id') for a in video['annotations']}
        for img in video['images']:
            if img.get('id') not in annotated:
                raise PanopticFileError(f'{path}: video {video["video_id"]}, image '
                                        f'{img.get("id")} has no annotation')
    return data


__all__ = ['VOID_LABEL', 'SHIFT', 'Frame', 'read_step_frame', 'write_step_frame',
           'load_step_dir', 'read_vps_json', 'vps_video_of', 'load_vps_dir', 'stq_labels',
           'read_vps_frame', 'read_vipseg_json']
