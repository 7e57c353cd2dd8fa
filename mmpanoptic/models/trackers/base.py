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
