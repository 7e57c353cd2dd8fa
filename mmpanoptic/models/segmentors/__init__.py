from .mask_classification import KNet, Mask2Former, MaskClassificationSegmentor, MaskFormer
from .panoptic_fpn import PanopticFPN, build_part
from .video_panoptic import VideoPanopticSegmentor

__all__ = ['PanopticFPN', 'build_part', 'MaskClassificationSegmentor', 'MaskFormer',
           'Mask2Former', 'KNet',
           'VideoPanopticSegmentor']
