from .layer_decay import ViTLayerDecayOptimWrapperConstructor, vit_layer_scale
from .two_stage_warmup import TwoStageWarmupPolyLR

__all__ = ['ViTLayerDecayOptimWrapperConstructor', 'vit_layer_scale', 'TwoStageWarmupPolyLR']
