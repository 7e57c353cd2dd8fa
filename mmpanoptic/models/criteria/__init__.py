from .matcher import HungarianMaskMatcher
from .set_criterion import MaskSetCriterion
from .targets import batch_targets, panoptic_targets

__all__ = ['HungarianMaskMatcher', 'MaskSetCriterion', 'panoptic_targets', 'batch_targets']
