"""mmdet transformer pieces made buildable from configs.

mmdet 3.3 builds ``DetrTransformerEncoder`` / ``DetrTransformerDecoder`` and
``Mask2FormerTransformerDecoder``
by class inside its heads, so they are not in any registry; registering them
here lets our heads build (and configs swap) them by ``type``.
"""
from mmdet.models.layers.transformer import (
    DetrTransformerDecoder,
    DetrTransformerEncoder,
    Mask2FormerTransformerDecoder,
)

from mmpanoptic.registry import MODELS

MODELS.register_module(name='DetrTransformerDecoder', module=DetrTransformerDecoder)
MODELS.register_module(name='DetrTransformerEncoder', module=DetrTransformerEncoder)
MODELS.register_module(name='Mask2FormerTransformerDecoder',
                       module=Mask2FormerTransformerDecoder)

