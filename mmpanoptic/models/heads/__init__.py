from .layers import build_with_default
from .mask2former_head import Mask2FormerQueryHead
from .maskformer_head import MaskFormerQueryHead

__all__ = ['build_with_default', 'Mask2FormerQueryHead', 'MaskFormerQueryHead']
