from .clip_convnext import CLIPConvNeXt
from .clip_resnet import CLIPResNet
from .clip_vit import CLIPViT
from .diffusion_backbone import DiffusionBackbone
from .hf_backbone import HFBackbone
from .vit import ViT

__all__ = ['CLIPConvNeXt', 'CLIPResNet', 'CLIPViT', 'DiffusionBackbone', 'HFBackbone', 'ViT']
