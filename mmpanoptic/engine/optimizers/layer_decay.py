"""Layer-wise learning-rate decay for a plain ViT backbone (EoMT's recipe).

Why ours: mmseg's ``LearningRateDecayOptimizerConstructor`` numbers layers
for its own ViT names (``backbone.layers.N``) and gives the blocks one more
decay step than EoMT does; mmpretrain's is not a dependency.  This one
follows EoMT's ``configure_optimizers``: block ``i`` of ``L`` gets
``lr * decay ** (L - 1 - i)``, the embeddings (patch projection, class and
register tokens, positions) the first block's rate, the ViT's final norm and
everything outside the ViT (queries, heads) the full rate.  Each parameter
is one group, marked ``backbone=True`` for the ViT's own (what
:class:`~.two_stage_warmup.TwoStageWarmupPolyLR` warms up later).
"""
from typing import List, Optional

from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmpanoptic.models.backbones import ViT
from mmpanoptic.registry import OPTIM_WRAPPER_CONSTRUCTORS


def vit_layer_scale(name: str, num_blocks: int, decay: float, full_rate_last: int = 0) -> float:
    """The learning-rate factor of a ViT parameter (its name inside the ViT);
    the last ``full_rate_last`` blocks keep the full rate (EoMT's
    ``llrd_l2_enabled=False``: the blocks that take the queries).

    >>> [vit_layer_scale(n, 4, 0.5) for n in ('blocks.3.mlp.fc1.weight', 'blocks.0.attn.qkv.bias',
    ...                                      'patch_embed.weight', 'norm.weight')]
    [1.0, 0.125, 0.125, 1.0]
    >>> vit_layer_scale('blocks.2.attn.qkv.weight', 4, 0.5, full_rate_last=2)
    1.0
    """
    if name.startswith('blocks.'):
        index = int(name.split('.')[1])
        if index >= num_blocks - full_rate_last:
            return 1.0
        return decay ** (num_blocks - 1 - index)
    if name.startswith('norm.'):
        return 1.0
    return decay ** (num_blocks - 1)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ViTLayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(layer_decay=0.8, full_rate_last=0)``: EoMT's
    layer-wise decay (see the module doc and :func:`vit_layer_scale`) over
    the model's :class:`ViT`; the optimizer's ``weight_decay`` applies to
    every parameter, as in EoMT."""

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module: Optional[int] = None) -> None:
        decay = float(self.paramwise_cfg.get('layer_decay', 1.0))
        full_last = int(self.paramwise_cfg.get('full_rate_last', 0))
        vits = [(name, m) for name, m in module.named_modules() if isinstance(m, ViT)]
        if len(vits) != 1:
            raise TypeError(f'ViTLayerDecayOptimWrapperConstructor needs exactly one ViT in '
                            f'the model, found {len(vits)}')
        vit_prefix, vit = vits[0][0] + '.', vits[0][1]
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            group = dict(params=[param], lr=self.base_lr, backbone=False)
            if name.startswith(vit_prefix):
                group['lr'] = self.base_lr * vit_layer_scale(name[len(vit_prefix):],
                                                             len(vit.blocks), decay, full_last)
                group['backbone'] = True
            if self.base_wd is not None:
                group['weight_decay'] = self.base_wd
            params.append(group)
