from .clip_convnext import CLIPConvNeXt
from .clip_resnet import CLIPResNet
from .hf_backbone import HFBackbone
from .vit import ViT

__all__ = ['CLIPConvNeXt', 'CLIPResNet', 'HFBackbone', 'ViT']
