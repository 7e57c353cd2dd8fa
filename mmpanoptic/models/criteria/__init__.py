from .detr_criterion import DETRSetCriterion, box_targets
from .knet_criterion import KNetCriterion
from .matcher import HungarianMaskMatcher
from .panoptic_deeplab_criterion import PanopticDeepLabCriterion, center_offset_targets
from .set_criterion import MaskSetCriterion
from .targets import batch_targets, panoptic_targets
from .tube_criterion import TubeMaskSetCriterion, clip_targets
from .upsnet_panoptic_loss import UPSNetPanopticLoss, upsnet_panoptic_targets

__all__ = ['DETRSetCriterion', 'box_targets', 'HungarianMaskMatcher', 'MaskSetCriterion',
           'panoptic_targets', 'batch_targets', 'PanopticDeepLabCriterion',
           'center_offset_targets', 'KNetCriterion', 'UPSNetPanopticLoss',
           'upsnet_panoptic_targets', 'TubeMaskSetCriterion', 'clip_targets']
