from .center_grouping import find_centers, group_pixels, merge_semantic_and_instance
from .functional import heuristic_merge
from .heuristic_fusion import HeuristicFusion
from .knet_fusion import KNetFusion, knet_kernel_scores
from .mask_classification import (
                                  instances_from_queries,
                                  keep_queries,
                                  panoptic_from_queries,
                                  semantic_from_queries,
                                  upsample_masks,
)
from .mask_cls_fusion import MaskClassificationFusion
from .open_vocab_ensemble import geometric_ensemble, mask_pool
from .upsnet_panoptic import (
                                  UPSNetPanopticHead,
                                  compose_panoptic_logits,
                                  panoptic_from_composed,
                                  paste_mask_logits,
                                  remove_overlapping,
                                  upsnet_panoptic_targets,
)

__all__ = [
    'heuristic_merge', 'HeuristicFusion', 'MaskClassificationFusion', 'keep_queries',
    'panoptic_from_queries', 'semantic_from_queries', 'instances_from_queries',
    'upsample_masks', 'find_centers', 'group_pixels', 'merge_semantic_and_instance',
    'UPSNetPanopticHead', 'compose_panoptic_logits', 'paste_mask_logits',
    'panoptic_from_composed', 'remove_overlapping', 'upsnet_panoptic_targets',
    'geometric_ensemble', 'mask_pool', 'KNetFusion', 'knet_kernel_scores'
]
