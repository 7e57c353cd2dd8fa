"""Panoptic fusions: one module per method, each a pure merge function plus
one registered :class:`PanopticFusion` (see :mod:`.base` for the contract)."""
from .base import PanopticFusion, add_pred_to_samples
from .center_grouping import (
                              CenterGroupingFusion,
                              find_centers,
                              group_pixels,
                              merge_semantic_and_instance,
)
from .detr import DETRPanopticFusion, detr_panoptic
from .heuristic import HeuristicFusion, heuristic_merge
from .knet import KNetFusion, knet_kernel_scores
from .mask_classification import (
                              MaskClassificationFusion,
                              instances_from_queries,
                              keep_queries,
                              panoptic_from_queries,
                              semantic_from_queries,
                              upsample_masks,
)
from .upsnet_panoptic import (
                              UPSNetFusion,
                              compose_panoptic_logits,
                              panoptic_from_composed,
                              paste_mask_logits,
                              remove_overlapping,
)

__all__ = [
    'PanopticFusion', 'add_pred_to_samples', 'heuristic_merge', 'HeuristicFusion',
    'MaskClassificationFusion', 'keep_queries', 'panoptic_from_queries',
    'semantic_from_queries', 'instances_from_queries', 'upsample_masks', 'find_centers',
    'group_pixels', 'merge_semantic_and_instance', 'CenterGroupingFusion', 'UPSNetFusion',
    'compose_panoptic_logits', 'paste_mask_logits', 'panoptic_from_composed',
    'remove_overlapping', 'KNetFusion', 'knet_kernel_scores', 'DETRPanopticFusion',
    'detr_panoptic'
]
