from . import layers  # noqa: F401  (registers mmdet's transformer decoders)
from .detr_panoptic_head import DETRPanopticHead
from .dvis_tracker import ReferringTracker, TemporalRefiner
from .eomt_head import EoMTHead
from .knet_head import KNetKernelHead, KNetUpdateHead
from .mask2former_head import Mask2FormerQueryHead
from .maskformer_head import MaskFormerQueryHead
from .panoptic_deeplab_head import DeepLabV3PlusDecoder, PanopticDeepLabHead
from .san_head import SideAdapterHead
from .upsnet_semantic_head import UPSNetSemanticHead

__all__ = ['DETRPanopticHead', 'EoMTHead', 'KNetKernelHead', 'KNetUpdateHead',
           'Mask2FormerQueryHead', 'MaskFormerQueryHead', 'DeepLabV3PlusDecoder',
           'PanopticDeepLabHead', 'SideAdapterHead', 'UPSNetSemanticHead', 'ReferringTracker',
           'TemporalRefiner']
