"""Convert official Mask2Former (detectron2) checkpoints to mmpanoptic keys.

mmdet's released MaskFormer / Mask2Former checkpoints need no conversion:
our models keep mmdet's module names (tested).  The official Mask2Former
repository names the same weights after detectron2 modules; this maps them
key by key (no tensor is reshaped: the layouts are identical) and raises on
any key it does not know, so a partial load cannot pass silently.

The class order of detectron2's COCO panoptic metadata (80 things, then 53
stuff, in category-id order) is ours too.  Datasets registered in another
order (Cityscapes uses train ids, things in the middle) need ``class_order``.
"""
import re
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import torch
from mmdet.models.backbones.swin import swin_converter
from torch import Tensor

D2_HEAD = 'sem_seg_head.'
OUR_HEAD = 'panoptic_head.'

# (detectron2 pattern, our replacement), tried in order; \1.. are groups.
_RULES = [
    # pixel decoder: MSDeformAttn encoder over res5, res4, res3
    (r'pixel_decoder\.input_proj\.(\d+)\.0\.', r'pixel_decoder.input_convs.\1.conv.'),
    (r'pixel_decoder\.input_proj\.(\d+)\.1\.', r'pixel_decoder.input_convs.\1.gn.'),
    (r'pixel_decoder\.transformer\.level_embed$', r'pixel_decoder.level_encoding.weight'),
    (r'pixel_decoder\.transformer\.encoder\.layers\.(\d+)\.self_attn\.',
     r'pixel_decoder.encoder.layers.\1.self_attn.'),
    (r'pixel_decoder\.transformer\.encoder\.layers\.(\d+)\.linear1\.',
     r'pixel_decoder.encoder.layers.\1.ffn.layers.0.0.'),
    (r'pixel_decoder\.transformer\.encoder\.layers\.(\d+)\.linear2\.',
     r'pixel_decoder.encoder.layers.\1.ffn.layers.1.'),
    (r'pixel_decoder\.transformer\.encoder\.layers\.(\d+)\.norm1\.',
     r'pixel_decoder.encoder.layers.\1.norms.0.'),
    (r'pixel_decoder\.transformer\.encoder\.layers\.(\d+)\.norm2\.',
     r'pixel_decoder.encoder.layers.\1.norms.1.'),
    (r'pixel_decoder\.mask_features\.', r'pixel_decoder.mask_feature.'),
    # transformer decoder: cross-attention, self-attention, FFN per layer
    (r'predictor\.transformer_cross_attention_layers\.(\d+)\.multihead_attn\.',
     r'transformer_decoder.layers.\1.cross_attn.attn.'),
    (r'predictor\.transformer_cross_attention_layers\.(\d+)\.norm\.',
     r'transformer_decoder.layers.\1.norms.0.'),
    (r'predictor\.transformer_self_attention_layers\.(\d+)\.self_attn\.',
     r'transformer_decoder.layers.\1.self_attn.attn.'),
    (r'predictor\.transformer_self_attention_layers\.(\d+)\.norm\.',
     r'transformer_decoder.layers.\1.norms.1.'),
    (r'predictor\.transformer_ffn_layers\.(\d+)\.linear1\.',
     r'transformer_decoder.layers.\1.ffn.layers.0.0.'),
    (r'predictor\.transformer_ffn_layers\.(\d+)\.linear2\.',
     r'transformer_decoder.layers.\1.ffn.layers.1.'),
    (r'predictor\.transformer_ffn_layers\.(\d+)\.norm\.',
     r'transformer_decoder.layers.\1.norms.2.'),
    (r'predictor\.decoder_norm\.', r'transformer_decoder.post_norm.'),
    (r'predictor\.(query_feat|query_embed|level_embed)\.', r'\1.'),
    (r'predictor\.input_proj\.(\d+)\.', r'decoder_input_projs.\1.'),
    (r'predictor\.class_embed\.', r'cls_embed.'),
    (r'predictor\.mask_embed\.layers\.(\d)\.', None),  # 0, 1, 2 -> 0, 2, 4 (ReLUs between)
]

_RESNET_RULES = [
    (r'stem\.conv1\.norm\.', r'bn1.'),
    (r'stem\.conv1\.', r'conv1.'),
    (r'res(\d)\.(\d+)\.conv(\d)\.norm\.', None),  # -> layer{s-1}.{b}.bn{k}.
    (r'res(\d)\.(\d+)\.conv(\d)\.', None),  # -> layer{s-1}.{b}.conv{k}.
    (r'res(\d)\.(\d+)\.shortcut\.norm\.', None),  # -> layer{s-1}.{b}.downsample.1.
    (r'res(\d)\.(\d+)\.shortcut\.', None),  # -> layer{s-1}.{b}.downsample.0.
]


class ConversionError(KeyError):
    """A detectron2 key with no known counterpart."""


def _head_key(key: str, num_fpn_levels: int) -> str:
    for pattern, repl in _RULES:
        m = re.match(pattern, key)
        if not m:
            continue
        rest = key[m.end():]
        if repl is None:  # mask_embed MLP
            return f'mask_embed.{2 * int(m.group(1))}.' + rest
        return m.expand(repl) + rest
    m = re.match(r'pixel_decoder\.(adapter|layer)_(\d+)\.(norm\.)?', key)
    if m:  # detectron2 numbers FPN convs from high resolution; mmdet from low
        index = num_fpn_levels - int(m.group(2))
        part = 'lateral_convs' if m.group(1) == 'adapter' else 'output_convs'
        sub = 'gn.' if m.group(3) else 'conv.'
        return f'pixel_decoder.{part}.{index}.{sub}' + key[m.end():]
    raise ConversionError(f'unknown Mask2Former head key: {D2_HEAD}{key}')


def _resnet_key(key: str) -> str:
    m = re.match(r'res(\d)\.(\d+)\.(conv(\d)|shortcut)\.(norm\.)?', key)
    if m:
        stage, block = int(m.group(1)) - 1, m.group(2)
        if m.group(3) == 'shortcut':
            part = 'downsample.1.' if m.group(5) else 'downsample.0.'
        else:
            part = f'bn{m.group(4)}.' if m.group(5) else f'conv{m.group(4)}.'
        return f'layer{stage}.{block}.{part}' + key[m.end():]
    for pattern, repl in _RESNET_RULES[:2]:
        m = re.match(pattern, key)
        if m:
            return repl + key[m.end():]
    raise ConversionError(f'unknown detectron2 ResNet key: backbone.{key}')


def convert_mask2former_d2(state_dict: Dict[str, Tensor],
                           class_order: Optional[Sequence[int]] = None) -> 'OrderedDict':
    """Map an official Mask2Former ``model`` state dict to mmpanoptic keys.

    Args:
        state_dict: detectron2 weights (``checkpoint['model']``), ResNet
            (``backbone.stem`` / ``backbone.res*``) or Swin backbone.
        class_order: for each of our labels, the detectron2 class index
            (rows of ``class_embed``; "no object" stays last).  None keeps
            the order (COCO panoptic).

    Returns:
        A state dict for :class:`Mask2Former` (strict load).

    >>> import torch
    >>> sd = {'sem_seg_head.predictor.mask_embed.layers.1.weight': torch.zeros(2, 2),
    ...       'backbone.res2.0.conv1.norm.running_mean': torch.zeros(2)}
    >>> list(convert_mask2former_d2(sd))  # doctest: +NORMALIZE_WHITESPACE
    ['panoptic_head.mask_embed.2.weight', 'backbone.layer1.0.bn1.running_mean',
     'backbone.layer1.0.bn1.num_batches_tracked']
    """
    fpn = {int(m.group(1)) for k in state_dict
           for m in [re.match(r'sem_seg_head\.pixel_decoder\.adapter_(\d+)\.', k)] if m}
    num_fpn_levels = max(fpn, default=0)
    swin = {k[len('backbone.'):]: v for k, v in state_dict.items()
            if k.startswith('backbone.') and not re.match(r'backbone\.(stem|res\d)\.', k)}
    out = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith(D2_HEAD):
            out[OUR_HEAD + _head_key(key[len(D2_HEAD):], num_fpn_levels)] = value
        elif re.match(r'backbone\.(stem|res\d)\.', key):
            out['backbone.' + _resnet_key(key[len('backbone.'):])] = value
        elif key.startswith('backbone.'):
            continue  # Swin: converted together below
        elif key in ('pixel_mean', 'pixel_std', 'criterion.empty_weight'):
            continue  # the data preprocessor / MaskSetCriterion hold these
        else:
            raise ConversionError(f'unknown Mask2Former key: {key}')
    # detectron2's FrozenBatchNorm2d has no ``num_batches_tracked``; our BN
    # layers do (unused in eval), so a strict load needs them.
    for key in [k for k in out if k.startswith('backbone.') and k.endswith('.running_mean')]:
        out.setdefault(key[:-len('running_mean')] + 'num_batches_tracked',
                       torch.tensor(0, dtype=torch.long))
    if swin:
        for key, value in swin_converter(swin).items():
            key = key[len('backbone.'):] if key.startswith('backbone.') else key
            out['backbone.' + key] = value
    if class_order is not None:
        for name in (f'{OUR_HEAD}cls_embed.weight', f'{OUR_HEAD}cls_embed.bias'):
            rows = list(class_order) + [len(out[name]) - 1]
            if sorted(rows) != list(range(len(out[name]))):
                raise ValueError(f'class_order must be a permutation of 0..{len(out[name]) - 2}')
            out[name] = out[name][rows]
    return out
