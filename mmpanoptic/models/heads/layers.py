"""mmdet transformer pieces made buildable from configs.

mmdet 3.3 builds ``DetrTransformerDecoder`` and ``Mask2FormerTransformerDecoder``
by class inside its heads, so they are not in any registry; registering them
here lets our heads build (and configs swap) them by ``type``.
"""
import copy
from typing import Union

from mmdet.models.layers.transformer import DetrTransformerDecoder, Mask2FormerTransformerDecoder
from torch import nn

from mmpanoptic.registry import MODELS

MODELS.register_module(name='DetrTransformerDecoder', module=DetrTransformerDecoder)
MODELS.register_module(name='Mask2FormerTransformerDecoder',
                       module=Mask2FormerTransformerDecoder)


def build_with_default(cfg: Union[dict, nn.Module], default_type: str) -> nn.Module:
    """Build ``cfg`` with ``type`` defaulting to ``default_type``; pass modules through."""
    if isinstance(cfg, nn.Module):
        return cfg
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('type', default_type)
    return MODELS.build(cfg)
