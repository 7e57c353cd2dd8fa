"""ViP-DeepLab's video panoptic stitching."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmpanoptic.registry import TASK_UTILS

from .base import BaseTracker


@TASK_UTILS.register_module()
class NextFrameStitcher(BaseTracker):
    """Stitch frame t + 1's panoptic segments to the tracks of frame t
    through the model's own *propagated* map (ViP-DeepLab): the next-frame
    instance branch groups frame t + 1's thing pixels around frame t's
    instance centers, so every such pixel already carries a frame-t track
    id.  Each thing segment of frame t + 1 takes the track whose propagated
    region overlaps it most (mask IoU, one-to-one Hungarian, same class,
    IoU >= ``iou_thr``); the others start new tracks.  Stuff keeps one id
    per class.  Without a propagated map (the first frame) every thing
    starts a track.

    Differences from ViP-DeepLab's stitching: the paper propagates ids by
    the largest IoU with the class-agnostic propagated region (several
    segments could take one id); here the assignment is one-to-one and the
    class must agree, as the other trackers of the toolbox do.

    Args:
        iou_thr: minimum IoU of a segment with a propagated region.
    """

    def __init__(self, *, iou_thr: float = 0.1) -> None:
        self.iou_thr = iou_thr
        self.reset()

    def reset(self) -> None:
        self.labels: Dict[int, int] = {}  # track id -> label
        self.stuff_ids: Dict[int, int] = {}
        self.next_id = 1

    def _match(self, ids: Tensor, things: List[Dict], propagated: Tensor) -> Dict[int, int]:
        """Segment index -> track id by IoU with the propagated regions."""
        tracks = sorted(t for t in torch.unique(propagated).tolist() if t in self.labels)
        if not things or not tracks:
            return {}
        seg_ids = torch.tensor([s['id'] for s in things], device=ids.device)
        trk_ids = torch.tensor(tracks, device=ids.device)
        seg = (ids.flatten()[None] == seg_ids[:, None]).float()  # (S, P)
        trk = (propagated.flatten()[None] == trk_ids[:, None]).float()  # (T, P)
        inter = seg @ trk.t()
        iou = (inter / (seg.sum(1)[:, None] + trk.sum(1)[None] - inter).clamp(min=1)).cpu()
        same = np.array([[s['label'] == self.labels[t] for t in tracks] for s in things])
        iou = np.where(same, iou.numpy(), 0.0)
        rows, cols = linear_sum_assignment(-iou)
        return {r: tracks[c] for r, c in zip(rows, cols) if iou[r, c] >= self.iou_thr}

    def track(self, ids: Tensor, segments: List[Dict], *, embeddings: Optional[Tensor] = None,
              queries: Optional[Tensor] = None, fresh: bool = True,
              propagated: Optional[Tensor] = None) -> Tuple[Tensor, List[Dict]]:
        """Relabel one frame (``propagated``: (H, W) track ids of the
        previous frame carried into this one, 0 = none; None on a first
        frame)."""
        if propagated is not None and propagated.shape != ids.shape:
            raise ValueError(f'propagated map {tuple(propagated.shape)} differs from the '
                             f'frame {tuple(ids.shape)}')
        things = [s for s in segments if s['isthing']]
        matched = self._match(ids, things, propagated) if propagated is not None else {}
        lut, out = {0: 0}, []
        for i, s in enumerate(things):
            tid = matched.get(i) or self._new_id()
            self.labels[tid] = s['label']
            lut[s['id']] = tid
            out.append(dict(s, id=tid))
        return self._with_stuff(ids, segments, lut, out)
