"""Readers of the KITTI-STEP / MOTChallenge-STEP video layout
(``<video>/<frame>.png``, R = category id (255 = void), instance id =
G * 256 + B; a ground-truth thing pixel with instance 0 is crowd), shared by
the dataset converter (:mod:`.video_converters`) and the file evaluator
(:mod:`mmpanoptic.evaluation.files.video`).  numpy and OpenCV only."""
import glob
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping

import numpy as np

from mmpanoptic.evaluation.files.coco_panoptic import read_png_bgr
from mmpanoptic.evaluation.functional.pq import PanopticEvalError

VOID_LABEL = 255
SHIFT = 16


class Frame:
    """One annotated frame: id map + segments for VPQ, STQ label map."""

    def __init__(self, ids: np.ndarray, segments: List[Dict], stq: np.ndarray) -> None:
        self.ids, self.segments, self.stq = ids, segments, stq


def read_step_frame(path: str, cat_index: Mapping[int, int], things: set, is_gt: bool,
                    where: str) -> Frame:
    """One KITTI-STEP / MOTChallenge-STEP frame PNG (R = class, G * 256 + B =
    instance) as the evaluators' frame record."""
    bgr = read_png_bgr(path, where).astype(np.int64)
    cat, inst = bgr[..., 2], bgr[..., 1] * 256 + bgr[..., 0]
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


def load_step_dir(root: str, is_gt: bool, cat_index,
                  things) -> 'OrderedDict[str, Dict[str, str]]':
    """``{video: {frame name: PNG path}}`` of a STEP folder (``<video>/<frame>.png``)."""
    videos = OrderedDict()
    for video in sorted(d for d in glob.glob(osp.join(root, '*')) if osp.isdir(d)):
        frames = sorted(glob.glob(osp.join(video, '*.png')))
        if frames:
            videos[osp.basename(video)] = OrderedDict((osp.basename(f), f) for f in frames)
    if not videos:
        raise PanopticEvalError(f'{root}: no <video>/<frame>.png found (step layout)')
    return videos
