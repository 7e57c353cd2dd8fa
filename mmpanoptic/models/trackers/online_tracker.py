"""Online trackers that turn per-frame panoptic segments into tracks."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmpanoptic.registry import TASK_UTILS

from .base import BaseTracker, relabel


class _Track:
    __slots__ = ('id', 'label', 'mask', 'centre', 'velocity', 'last_seen', 'embedding')

    def __init__(self, tid: int, label: int, mask: Tensor, centre: Tensor, frame: int,
                 embedding: Optional[Tensor] = None):
        self.id, self.label, self.mask = tid, label, mask
        self.centre, self.velocity, self.last_seen = centre, torch.zeros(2), frame
        self.embedding = embedding


def _centre(mask: Tensor) -> Tensor:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return torch.stack([ys.float().mean(), xs.float().mean()])


def _shift(mask: Tensor, dy: int, dx: int) -> Tensor:
    """Translate a bool mask by whole pixels, filling with False."""
    h, w = mask.shape
    out = torch.zeros_like(mask)
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    if abs(dy) < h and abs(dx) < w:
        out[yd, xd] = mask[ys, xs]
    return out


@TASK_UTILS.register_module()
class OnlineMaskTracker(BaseTracker):
    """Hungarian matching of the current thing segments to remembered tracks.

    For every frame: each live track's last mask is moved by the track's
    last displacement (flow-free warping by box motion, ``warp=True``), the
    mask IoU with every current thing segment of the same class is computed
    in one matrix product and, when appearance embeddings are given, mixed
    with their cosine similarity to the track's embedding (an exponential
    moving average): ``affinity = (1 - w) IoU + w max(cos, 0)`` with ``w =
    appearance_weight``.  A Hungarian assignment keeps pairs with affinity
    >= ``iou_thr``.  Unmatched segments start new tracks; a track not seen
    for more than ``max_age`` frames is forgotten (so an object hidden for up
    to ``max_age`` frames gets its id back when it reappears near where it
    was going, or, with embeddings, looking like it did).  Stuff keeps one id
    per class for the whole video.

    Args:
        iou_thr: minimum affinity of a match (the mask IoU when no
            embeddings are given).
        max_age: frames a lost track is remembered.
        warp: move remembered masks by their last displacement.
        appearance_weight: w above (used only with embeddings).
        embedding_momentum: weight of the old embedding in a track's average.

    ``reset()`` before each video; ``track(ids, segments[, embeddings])``
    per frame returns the id map and ``segments_info`` with track ids
    (copies).  :class:`VideoPanopticSegmentor` passes colour-histogram
    embeddings with ``appearance='color'``; any (N, D) features work.
    """

    def __init__(self, *, iou_thr: float = 0.2, max_age: int = 5, warp: bool = True,
                 appearance_weight: float = 0.5, embedding_momentum: float = 0.5) -> None:
        if not 0 <= appearance_weight <= 1:
            raise ValueError(f'appearance_weight must be in [0, 1], got {appearance_weight}')
        self.iou_thr = iou_thr
        self.max_age = max_age
        self.warp = warp
        self.appearance_weight = appearance_weight
        self.embedding_momentum = embedding_momentum
        self.reset()

    def reset(self) -> None:
        """Forget all tracks (call at the start of every video)."""
        self.tracks: List[_Track] = []
        self.stuff_ids: Dict[int, int] = {}
        self.next_id = 1
        self.frame = -1

    def track(self, ids: Tensor, segments: List[Dict], *, embeddings: Optional[Tensor] = None,
              queries: Optional[Tensor] = None, fresh: bool = True,
              propagated: Optional[Tensor] = None) -> Tuple[Tensor, List[Dict]]:
        """Relabel one frame's segments with track ids (``queries`` and
        ``fresh`` are not used).

        Args:
            ids: (H, W) int segment id map, 0 = VOID.
            segments: dicts with ``id``, ``label``, ``isthing`` (and others,
                kept).
            embeddings: optional (len(segments), D) appearance features, row
                i for ``segments[i]``.

        Returns:
            ``(ids, segments_info)`` with ids replaced by track ids.
        """
        if embeddings is not None and len(embeddings) != len(segments):
            raise ValueError(f'{len(embeddings)} embeddings for {len(segments)} segments')
        self.frame += 1
        self.tracks = [t for t in self.tracks if self.frame - t.last_seen <= self.max_age]
        thing_rows = [i for i, s in enumerate(segments) if s['isthing']]
        things = [segments[i] for i in thing_rows]
        emb = F.normalize(embeddings[thing_rows].float(), dim=1) \
            if embeddings is not None and things else None
        masks = torch.stack([ids == s['id'] for s in things]) if things else None
        assign: Dict[int, int] = {}
        if things and self.tracks:
            memory = []
            for t in self.tracks:
                dy, dx = (t.velocity * (self.frame - t.last_seen)).round().int().tolist() \
                    if self.warp else (0, 0)
                memory.append(_shift(t.mask, dy, dx))
            cur = masks.flatten(1).float()
            mem = torch.stack(memory).flatten(1).float()
            inter = cur @ mem.t()
            union = cur.sum(1)[:, None] + mem.sum(1)[None] - inter
            affinity = inter / union.clamp(min=1)
            if emb is not None and all(t.embedding is not None for t in self.tracks):
                cos = emb @ torch.stack([t.embedding for t in self.tracks]).t()
                w = self.appearance_weight
                affinity = (1 - w) * affinity + w * cos.clamp(min=0)
            same = np.array([[s['label'] == t.label for t in self.tracks] for s in things])
            affinity = np.where(same, affinity.cpu().numpy(), 0.0)
            rows, cols = linear_sum_assignment(-affinity)
            for r, c in zip(rows, cols):
                if affinity[r, c] >= self.iou_thr:
                    assign[r] = c
        lut = {0: 0}
        out_segments = []
        matched_tracks = set()
        for i, s in enumerate(things):
            centre = _centre(masks[i])
            e = emb[i] if emb is not None else None
            if i in assign:
                t = self.tracks[assign[i]]
                gap = self.frame - t.last_seen
                t.velocity = (centre - t.centre) / max(gap, 1)
                t.centre, t.mask, t.last_seen = centre, masks[i], self.frame
                if e is not None and t.embedding is not None:
                    m = self.embedding_momentum
                    e = F.normalize(m * t.embedding + (1 - m) * e, dim=0)
                t.embedding = e
            else:
                t = _Track(self._new_id(), s['label'], masks[i], centre, self.frame, e)
                self.tracks.append(t)
            matched_tracks.add(t.id)
            lut[s['id']] = t.id
            out_segments.append(dict(s, id=t.id))
        return self._with_stuff(ids, segments, lut, out_segments)


@TASK_UTILS.register_module()
class PerFrameIds(BaseTracker):
    """No tracking: every segment of every frame gets a new id (the baseline)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.next_id = 1

    def track(self, ids: Tensor, segments: List[Dict], *, embeddings: Optional[Tensor] = None,
              queries: Optional[Tensor] = None, fresh: bool = True,
              propagated: Optional[Tensor] = None) -> Tuple[Tensor, List[Dict]]:
        lut, out = {}, []
        for s in segments:
            lut[s['id']] = self.next_id
            out.append(dict(s, id=self.next_id))
            self.next_id += 1
        return relabel(ids, lut), out
