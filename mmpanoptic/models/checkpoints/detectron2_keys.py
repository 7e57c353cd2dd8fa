"""Checkpoint key maps: official detectron2 checkpoints (Mask2Former,
Panoptic-DeepLab) to mmpanoptic keys.

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

from mmpanoptic.fileio.errors import CheckpointConversionError

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
    raise CheckpointConversionError(f'unknown Mask2Former head key: {D2_HEAD}{key}')


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
    raise CheckpointConversionError(f'unknown detectron2 ResNet key: backbone.{key}')


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
            raise CheckpointConversionError(f'unknown Mask2Former key: {key}')
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


#: What a detectron2 model-zoo ``.pkl`` may contain: numpy arrays and
#: scalars, in dicts / lists.  Anything else (a crafted file naming
#: ``os.system``, ...) is refused instead of run.
PICKLE_ALLOWED = {
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('collections', 'OrderedDict'),
}


def restricted_unpickle(f, source: str):
    """``pickle.load`` that builds only numpy arrays / scalars and plain
    containers (:data:`PICKLE_ALLOWED`); anything else raises
    :class:`CheckpointConversionError` naming the file and the global."""
    import pickle

    from mmpanoptic.fileio.errors import CheckpointConversionError

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) in PICKLE_ALLOWED:
                return super().find_class(module, name)
            raise CheckpointConversionError(
                f'{source}: refuses to unpickle {module}.{name} (a detectron2 .pkl holds '
                'numpy arrays only; this file would run code)')

    try:
        return Restricted(f, encoding='latin1').load()
    except CheckpointConversionError:
        raise
    except Exception as e:  # truncated or not a pickle
        raise CheckpointConversionError(f'{source}: not a readable detectron2 .pkl '
                                        f'({type(e).__name__}: {e})') from None


def load_detectron2_checkpoint(path: str) -> Dict[str, Tensor]:
    """The ``model`` weights of a detectron2 checkpoint as tensors: a model-zoo
    ``.pkl`` (numpy arrays, read with :func:`restricted_unpickle`) or a
    ``.pth`` (read with ``weights_only=True``)."""
    import numpy as np
    if path.endswith('.pkl'):
        with open(path, 'rb') as f:
            data = restricted_unpickle(f, path)
    else:
        data = torch.load(path, map_location='cpu', weights_only=True)
    model = data.get('model', data)
    return {k: v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
            for k, v in model.items()}


def converter_cli(convert, description: str, argv=None) -> None:
    """The command line of ``tools/model_converters/*_d2_to_mmpanoptic.py``:
    ``SRC DST [--class-order i,j,...]``; reads SRC with
    :func:`load_detectron2_checkpoint`, writes ``{'state_dict', 'meta'}``."""
    import argparse
    import os.path as osp
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help='detectron2 checkpoint (.pkl or .pth)')
    parser.add_argument('dst', help='output .pth')
    parser.add_argument('--class-order', default=None,
                        help='comma-separated detectron2 class index for each of our labels')
    args = parser.parse_args(argv)
    order = [int(i) for i in args.class_order.split(',')] if args.class_order else None
    from mmpanoptic.fileio.errors import PanopticError
    try:
        state = convert(load_detectron2_checkpoint(args.src), class_order=order)
    except PanopticError as e:
        raise SystemExit(f'error: {e}')
    torch.save(dict(state_dict=state, meta=dict(converted_from=osp.basename(args.src))),
               args.dst)
    print(f'{len(state)} tensors written to {args.dst}')


def _deeplab_stem_key(key: str) -> Optional[str]:
    """detectron2's DeepLab stem (conv1..3, each with a norm) -> mmseg's
    ``ResNetV1c.stem`` Sequential (conv, norm, relu) x 3."""
    m = re.match(r'stem\.conv([123])\.(norm\.)?', key)
    if not m:
        return None
    index = 3 * (int(m.group(1)) - 1) + (1 if m.group(2) else 0)
    return f'stem.{index}.' + key[m.end():]


def _ds_conv_key(key: str) -> str:
    """detectron2 ``DepthwiseSeparableConv2d`` -> mmcv's module names."""
    m = re.match(r'(depthwise|pointwise)\.(norm\.)?', key)
    if not m:
        raise CheckpointConversionError(key)
    return f'{m.group(1)}_conv.{"bn" if m.group(2) else "conv"}.' + key[m.end():]


def _conv_key(key: str) -> str:
    """detectron2 ``Conv2d`` with an optional ``norm`` -> mmcv ``ConvModule``."""
    return 'bn.' + key[len('norm.'):] if key.startswith('norm.') else 'conv.' + key


def _deeplab_decoder_key(key: str, low_levels: Dict[str, int]) -> str:
    """Key under detectron2's ``decoder`` -> under our :class:`DeepLabV3PlusDecoder`."""
    m = re.match(r'(res\d)\.(project_conv|fuse_conv)\.', key)
    if not m:
        raise CheckpointConversionError(key)
    level, part, rest = m.group(1), m.group(2), key[m.end():]
    if level not in low_levels:  # the ASPP on the coarsest level
        m = re.match(r'convs\.(\d)\.', rest)
        if rest.startswith('project.'):
            return 'aspp_bottleneck.' + _conv_key(rest[len('project.'):])
        if m and rest[m.end():].startswith('1.'):  # image pooling: AvgPool, Conv2d
            return 'image_pool.1.conv.' + rest[m.end() + 2:]
        if m and int(m.group(1)) == 0:
            return 'aspp.0.' + _conv_key(rest[m.end():])
        if m:
            return f'aspp.{m.group(1)}.' + _ds_conv_key(rest[m.end():])
        raise CheckpointConversionError(key)
    i = low_levels[level]
    if part == 'project_conv':
        return f'projections.{i}.' + _conv_key(rest)
    return f'fusions.{i}.' + _ds_conv_key(rest)


def convert_panoptic_deeplab_d2(state_dict: Dict[str, Tensor],
                                class_order: Optional[Sequence[int]] = None,
                                low_levels: Sequence[str] = ('res3', 'res2')) -> 'OrderedDict':
    """Map a detectron2 Panoptic-DeepLab ``model`` state dict to mmpanoptic keys.

    For the detectron2 layout of
    ``configs/panoptic_deeplab/panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py``
    (DeepLab stem, depthwise separable convs, ``channel_order='detectron2'``,
    ``center_head='conv3x3'``); no tensor is reshaped.

    Args:
        state_dict: detectron2 weights (``checkpoint['model']``).
        class_order: for each of our labels, detectron2's class index (rows
            of ``sem_seg_head.predictor``); None keeps the order (COCO).
        low_levels: detectron2's decoder levels fused after the ASPP, coarse
            to fine (our ``low_level_indices`` order).

    >>> import torch
    >>> sd = {'backbone.stem.conv2.norm.weight': torch.ones(2),
    ...       'ins_embed_head.decoder.res5.project_conv.convs.4.1.bias': torch.ones(2),
    ...       'ins_embed_head.center_head.1.norm.bias': torch.ones(2)}
    >>> list(convert_panoptic_deeplab_d2(sd))  # doctest: +NORMALIZE_WHITESPACE
    ['backbone.stem.4.weight', 'decode_head.instance_decoder.image_pool.1.conv.bias',
     'decode_head.center_predictor.1.bn.bias']
    >>> 'backbone.stem.4.num_batches_tracked' in convert_panoptic_deeplab_d2(
    ...     {'backbone.stem.conv2.norm.running_mean': torch.ones(2)})
    True
    """
    levels = {name: i for i, name in enumerate(low_levels)}
    heads = {'sem_seg_head.': 'semantic', 'ins_embed_head.': 'instance'}
    out = OrderedDict()
    for key, value in state_dict.items():
        try:
            if key.startswith('backbone.'):
                rest = key[len('backbone.'):]
                new = _deeplab_stem_key(rest)
                new = 'backbone.' + (new if new is not None else _resnet_key(rest))
            elif key.startswith(tuple(heads)):
                prefix = next(p for p in heads if key.startswith(p))
                rest = key[len(prefix):]
                if rest.startswith('decoder.'):
                    new = (f'decode_head.{heads[prefix]}_decoder.'
                           + _deeplab_decoder_key(rest[len('decoder.'):], levels))
                elif rest.startswith(('head.', 'offset_head.')):  # 5x5 separable
                    name = 'semantic' if rest.startswith('head.') else 'offset'
                    new = (f'decode_head.{name}_predictor.0.'
                           + _ds_conv_key(rest.split('.', 1)[1]))
                elif rest.startswith(('predictor.', 'offset_predictor.', 'center_predictor.')):
                    name = {'predictor': 'semantic', 'offset_predictor': 'offset',
                            'center_predictor': 'center'}[rest.split('.')[0]]
                    index = 2 if name == 'center' else 1
                    new = f'decode_head.{name}_predictor.{index}.' + rest.split('.', 1)[1]
                elif rest.startswith('center_head.'):
                    index, tail = rest[len('center_head.'):].split('.', 1)
                    new = f'decode_head.center_predictor.{index}.' + _conv_key(tail)
                else:
                    raise CheckpointConversionError(key)
            elif key in ('pixel_mean', 'pixel_std'):
                continue  # the data preprocessor holds these
            else:
                raise CheckpointConversionError(key)
        except CheckpointConversionError:
            raise CheckpointConversionError(f'unknown Panoptic-DeepLab key: {key}') from None
        out[new] = value
    # Checkpoints saved without ``num_batches_tracked`` (unused in eval)
    # still load strictly.
    for key in [k for k in out if k.endswith('.running_mean')]:
        out.setdefault(key[:-len('running_mean')] + 'num_batches_tracked',
                       torch.tensor(0, dtype=torch.long))
    if class_order is not None:
        for name in ('decode_head.semantic_predictor.1.weight',
                     'decode_head.semantic_predictor.1.bias'):
            if sorted(class_order) != list(range(len(out[name]))):
                raise ValueError(f'class_order must be a permutation of 0..{len(out[name]) - 1}')
            out[name] = out[name][list(class_order)]
    return out
