from .detr_panoptic import DETRPanoptic
from .dvis import DVIS
from .eomt import EoMT
from .fc_clip import FCCLIP
from .mask_classification_segmentor import (
           KNet,
           Mask2Former,
           MaskClassificationSegmentor,
           MaskFormer,
)
from .odise import ODISE
from .panoptic_deeplab import PanopticDeepLab
from .panoptic_fpn import PanopticFPN, build_part
from .san import SAN
from .tube_segmentor import TubeVideoSegmentor
from .upsnet import UPSNet
from .video_segmentor import VideoPanopticSegmentor
from .videomt import VidEoMT
from .vip_deeplab import ViPDeepLab

__all__ = ['DETRPanoptic', 'EoMT', 'PanopticFPN', 'build_part', 'MaskClassificationSegmentor',
           'MaskFormer', 'Mask2Former', 'KNet', 'VideoPanopticSegmentor',
           'PanopticDeepLab', 'UPSNet', 'FCCLIP', 'SAN', 'VidEoMT', 'DVIS', 'ViPDeepLab',
           'TubeVideoSegmentor', 'ODISE']
