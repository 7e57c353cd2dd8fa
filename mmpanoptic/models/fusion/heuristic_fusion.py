"""Registered wrapper of :func:`heuristic_merge` holding its config knobs."""
from typing import Dict, List, Tuple

from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from .functional import heuristic_merge


@MODELS.register_module()
class HeuristicFusion:
    """Panoptic FPN's merge of instances and semantic stuff.

    Why ours: mmdet's ``HeuristicFusionHead`` packs ``instance * 1000 +
    label`` into one id (breaks above 1000 classes) and its knobs live in
    ``test_cfg``.  This one returns an id map plus ``segments_info`` and
    takes its knobs here.

    Args:
        num_things: number of thing classes (labels ``[0, num_things)``).
        score_thr: minimum instance score.
        overlap_thr: maximum covered fraction for an instance to be pasted.
        stuff_area_limit: minimum stuff segment area in pixels.
    """

    def __init__(self, *, num_things: int, score_thr: float = 0.5,
                 overlap_thr: float = 0.5, stuff_area_limit: int = 4096) -> None:
        self.num_things = num_things
        self.score_thr = score_thr
        self.overlap_thr = overlap_thr
        self.stuff_area_limit = stuff_area_limit

    def __call__(self, instances: InstanceData, sem_seg: Tensor) -> Tuple[Tensor, List[Dict]]:
        """Fuse one image's ``instances`` (masks, labels, scores) with its
        (S + 1, H, W) semantic logits."""
        return heuristic_merge(
            instances.masks, instances.labels, instances.scores, sem_seg,
            num_things=self.num_things, score_thr=self.score_thr,
            overlap_thr=self.overlap_thr, stuff_area_limit=self.stuff_area_limit)

    def __repr__(self) -> str:
        return (f'HeuristicFusion(num_things={self.num_things}, score_thr={self.score_thr}, '
                f'overlap_thr={self.overlap_thr}, stuff_area_limit={self.stuff_area_limit})')
