from .clip_convnext import CLIPConvNeXt
from .clip_resnet import CLIPResNet
from .diffusion_backbone import DiffusionBackbone
from .hf_backbone import HFBackbone
from .vit import ViT

__all__ = ['CLIPConvNeXt', 'CLIPResNet', 'DiffusionBackbone', 'HFBackbone', 'ViT']
