"""Query-propagation tracking for query-based models (Mask2Former, K-Net)."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmpanoptic.registry import TASK_UTILS

from .base import BaseTracker


@TASK_UTILS.register_module()
class QueryPropagationTracker(BaseTracker):
    """Queries of frame t initialise frame t + 1 (Video K-Net / DVIS-online
    style), so a query follows its object and its index is the association.

    Every ``refresh_interval`` frames (and on the first frame) the model
    detects afresh from its learned queries; the fresh segments are then
    matched to the live tracks by cosine similarity of their query
    embeddings (Hungarian, same class, similarity >= ``sim_thr``), so new
    objects get new tracks and drifting queries are re-anchored.  Tracks
    unseen for ``max_age`` frames are forgotten; stuff keeps one id per class.

    Used by :class:`VideoPanopticSegmentor` when the image model's head has
    ``forward_with_queries`` (``Mask2FormerQueryHead``: decoder queries;
    ``KNetKernelHead``: the kernels of the last update stage).

    With ``refresh_interval=None`` only the first frame is detected
    afresh: every query follows its object for the whole video and its index
    is the track (VidEoMT's inference, whose model maps the propagated
    queries itself).

    Args:
        refresh_interval: frames between fresh detections (1 = detect every
            frame and associate by embeddings only; None = never again).
        sim_thr: minimum cosine similarity of a match at a refresh.
        max_age: frames a lost track is remembered.
    """

    uses_queries = True

    def __init__(self, *, refresh_interval: Optional[int] = 5, sim_thr: float = 0.5,
                 max_age: int = 5) -> None:
        if refresh_interval is not None and refresh_interval < 1:
            raise ValueError(f'refresh_interval must be >= 1, got {refresh_interval}')
        self.refresh_interval = refresh_interval
        self.sim_thr = sim_thr
        self.max_age = max_age
        self.reset()

    def reset(self) -> None:
        """Forget everything (start of a video)."""
        self.frame = -1
        self.queries: Optional[Tensor] = None
        self.track_of_query: Dict[int, int] = {}
        self.tracks: Dict[int, Dict] = {}  # id -> embedding, label, last_seen
        self.stuff_ids: Dict[int, int] = {}
        self.next_id = 1

    def init_queries(self) -> Tuple[Optional[Tensor], bool]:
        """Query features for the next frame and whether it is a fresh detection."""
        fresh = self.queries is None or (self.refresh_interval is not None and
                                         (self.frame + 1) % self.refresh_interval == 0)
        return (None if fresh else self.queries), fresh

    def _match_fresh(self, things: List[Dict], queries: Tensor) -> Dict[int, int]:
        live = [(tid, t) for tid, t in self.tracks.items()]
        if not things or not live:
            return {}
        cur = F.normalize(queries[[s['query'] for s in things]], dim=-1)
        mem = F.normalize(torch.stack([t['embedding'] for _, t in live]), dim=-1)
        sim = (cur @ mem.t()).cpu().numpy()
        same = np.array([[s['label'] == t['label'] for _, t in live] for s in things])
        sim = np.where(same, sim, -1.0)
        rows, cols = linear_sum_assignment(-sim)
        return {r: live[c][0] for r, c in zip(rows, cols) if sim[r, c] >= self.sim_thr}

    def track(self, ids: Tensor, segments: List[Dict], *, embeddings: Optional[Tensor] = None,
              queries: Optional[Tensor] = None, fresh: bool = True,
              propagated: Optional[Tensor] = None) -> Tuple[Tensor, List[Dict]]:
        """Relabel one frame's segments with track ids (``embeddings`` are
        not used: the queries are the appearance).

        Args:
            ids: (H, W) segment id map.
            segments: ``segments_info`` whose entries carry ``query``.
            queries: (Q, C) output queries of this frame.
            fresh: whether this frame was detected from the learned queries.
        """
        if queries is None:
            raise ValueError('QueryPropagationTracker needs the frame\'s queries')
        self.frame += 1
        self.tracks = {k: t for k, t in self.tracks.items()
                       if self.frame - t['last_seen'] <= self.max_age}
        things = [s for s in segments if s['isthing']]
        matched = self._match_fresh(things, queries) if fresh else {}
        if fresh:
            self.track_of_query = {}
        lut = {0: 0}
        out = []
        for i, s in enumerate(things):
            tid = matched.get(i) if fresh else self.track_of_query.get(s['query'])
            if tid is None or (tid in self.tracks and self.tracks[tid]['label'] != s['label']):
                tid = self._new_id()
            self.track_of_query[s['query']] = tid
            self.tracks[tid] = dict(embedding=queries[s['query']].detach(), label=s['label'],
                                    last_seen=self.frame)
            lut[s['id']] = tid
            out.append(dict(s, id=tid))
        self.queries = queries.detach()[None]
        return self._with_stuff(ids, segments, lut, out)
