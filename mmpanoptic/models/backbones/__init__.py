from .clip_resnet import CLIPResNet
from .hf_backbone import HFBackbone
from .vit import ViT

__all__ = ['CLIPResNet', 'HFBackbone', 'ViT']
