"""The one tracker interface.

A tracker turns one frame's panoptic segments into track ids, frame after
frame of one video::

    tracker.reset()                              # a new video
    init, fresh = tracker.init_queries()         # (None, True) unless it propagates queries
    ... the image model predicts the frame (from ``init`` when not None) ...
    ids, segments = tracker.track(ids, segments, embeddings=..., queries=..., fresh=fresh)

``embeddings`` are optional per-segment appearance features (row i for
``segments[i]``); ``queries`` the (Q, C) output queries of query models
(``segments[i]['query']`` indexes them); ``propagated`` an (H, W) map of the
previous frame's track ids carried into this frame by the model itself
(ViP-DeepLab's next-frame instance branch; 0 = none), which
:class:`NextFrameStitcher` matches the frame's segments to.  A tracker that needs queries sets
``uses_queries = True``; the video model then runs the image model's query
path (:meth:`MaskClassificationSegmentor.predict_outputs` with
``with_queries=True``).
"""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor


class BaseTracker:
    """Base of the registered trackers (see the module doc)."""

    uses_queries = False

    def reset(self) -> None:
        """Forget everything: the next frame starts a video."""
        raise NotImplementedError

    def init_queries(self) -> Tuple[Optional[Tensor], bool]:
        """Queries to start the next frame from (None: the model's own) and
        whether that frame is a fresh detection."""
        return None, True

    def track(self, ids: Tensor, segments: List[Dict], *, embeddings: Optional[Tensor] = None,
              queries: Optional[Tensor] = None, fresh: bool = True,
              propagated: Optional[Tensor] = None) -> Tuple[Tensor, List[Dict]]:
        """``(ids, segments_info)`` of one frame relabelled with track ids."""
        raise NotImplementedError

    def _new_id(self) -> int:
        """The next unused track id (trackers set ``next_id = 1`` on reset)."""
        self.next_id += 1
        return self.next_id - 1

    def _with_stuff(self, ids: Tensor, segments: List[Dict], lut: Dict[int, int],
                    out: List[Dict]) -> Tuple[Tensor, List[Dict]]:
        """Finish a frame whose thing segments are named (``lut``: segment id
        -> track id, ``out``: their renamed entries): each stuff class keeps
        one id for the whole video (``stuff_ids``), then the id map is
        relabelled and segments sharing an id merged."""
        for s in segments:
            if not s['isthing']:
                tid = self.stuff_ids.setdefault(s['label'], self._new_id())
                lut[s['id']] = tid
                out.append(dict(s, id=tid))
        return relabel(ids, lut), merge_same_ids(out)


def relabel(ids: Tensor, mapping: Dict[int, int]) -> Tensor:
    """Replace segment ids by ``mapping[id]`` in one lookup (ids not in the
    mapping, VOID included, become 0)."""
    size = max([int(ids.max()) if ids.numel() else 0] + list(mapping)) + 1
    table = torch.zeros(size, dtype=ids.dtype, device=ids.device)
    for old, new in mapping.items():
        table[old] = new
    return table[ids.long()]


def merge_same_ids(segments: List[Dict]) -> List[Dict]:
    """One ``segments_info`` entry per id: the segments a tracker gave the
    same id (the stuff of one class, when the image model kept them apart)
    become one, with their areas summed and the best score."""
    out: Dict[int, Dict] = {}
    for s in segments:
        if s['id'] not in out:
            out[s['id']] = dict(s)
            continue
        seg = out[s['id']]
        if 'area' in s and 'area' in seg:
            seg['area'] += s['area']
        if s.get('score') is not None and seg.get('score') is not None:
            seg['score'] = max(seg['score'], s['score'])
    return list(out.values())
