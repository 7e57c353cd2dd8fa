from .knet_head import KNetKernelHead
from .layers import build_with_default
from .mask2former_head import Mask2FormerQueryHead
from .maskformer_head import MaskFormerQueryHead

__all__ = ['KNetKernelHead', 'build_with_default', 'Mask2FormerQueryHead', 'MaskFormerQueryHead']
