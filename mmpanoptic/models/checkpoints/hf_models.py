"""Hugging Face panoptic checkpoints -> mmpanoptic models.

:func:`convert_hf_model` reads a ``save_pretrained`` folder (``config.json``,
``model.safetensors`` or ``pytorch_model.bin``, ``preprocessor_config.json``)
and returns an mmpanoptic config (model, test pipeline, class names) and the
converted state dict, for

* ``EomtForUniversalSegmentation`` / ``EomtDinov3ForUniversalSegmentation``
  -> :class:`EoMT` (our ViT; weights by :mod:`.hf_vit`);
* ``Mask2FormerForUniversalSegmentation`` -> :class:`Mask2Former` (the
  transformers backbone as :class:`HFBackbone`, mmdet's MSDeformAttn pixel
  decoder, our query head);
* ``MaskFormerForInstanceSegmentation`` -> :class:`MaskFormer`;
* ``DetrForSegmentation`` -> :class:`DETRPanoptic`;
* ``VideomtForUniversalSegmentation`` -> :class:`VidEoMT`.

Every key of the checkpoint is used or deliberately left out (the loss's
``empty_weight``), every key of the model is filled
(:class:`CheckpointConversionError` otherwise).  Things come first in
mmpanoptic's label order: the class rows are permuted when the checkpoint
interleaves them, and ``category_ids`` keeps each label's id in the
checkpoint.  The fusion reproduces transformers'
``post_process_panoptic_segmentation`` with its defaults (see
``docs/hf_checkpoints.md`` for each difference from the original papers'
post-processing, kept as fusion settings).
"""
import json
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmpanoptic.fileio.errors import CheckpointConversionError, PanopticFileError
from mmpanoptic.vocabularies import list_vocabularies, vocabulary_entries

from .hf_vit import convert_hf_vit, read_hf_folder

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ConvertedModel:
    """What :func:`convert_hf_model` returns."""
    architecture: str
    model: Dict
    state_dict: Dict[str, Tensor]
    test_pipeline: List[Dict]
    classes: List[str]
    num_things: int
    category_ids: List[int]
    notes: List[str] = field(default_factory=list)


# ----------------------------------------------------------------- labels
def _first_name(name: str) -> str:
    return name.split(',')[0].strip().lower()


def parse_things(spec: Union[str, Sequence, None], names: Sequence[str]) -> Optional[set]:
    """Label ids named by ``--things``: names, ids and ``a-b`` id ranges,
    comma-separated (or a list); None when not given."""
    if spec is None:
        return None
    items = [s.strip() for s in (spec.split(',') if isinstance(spec, str) else spec)
             if str(s).strip()]
    by_name = {_first_name(n): i for i, n in enumerate(names)}
    out = set()
    for item in items:
        item = str(item)
        m = re.fullmatch(r'(\d+)-(\d+)', item)
        if m:
            out.update(range(int(m.group(1)), int(m.group(2)) + 1))
        elif item.isdigit():
            out.add(int(item))
        elif _first_name(item) in by_name:
            out.add(by_name[_first_name(item)])
        else:
            raise CheckpointConversionError(
                f'--things names {item!r}, which is neither a label id nor one of the '
                f'checkpoint\'s labels ({", ".join(names[:8])}...)')
    bad = [i for i in out if not 0 <= i < len(names)]
    if bad:
        raise CheckpointConversionError(f'--things: label ids {sorted(bad)[:5]} outside '
                                        f'0..{len(names) - 1}')
    return out


def thing_flags(names: Sequence[str], things: Union[str, Sequence, None] = None,
                where: str = 'config.json') -> Tuple[List[bool], str]:
    """Which labels are things: from ``things`` (see :func:`parse_things`), or
    from the bundled vocabulary with the same class names.  Returns the flags
    and where they came from."""
    given = parse_things(things, names)
    if given is not None:
        return [i in given for i in range(len(names))], '--things'
    wanted = sorted(_first_name(n) for n in names)
    for vocab in list_vocabularies():
        entries = vocabulary_entries(vocab)
        if sorted(_first_name(e['name']) for e in entries) == wanted:
            flag = {_first_name(e['name']): bool(e['isthing']) for e in entries}
            return [flag[_first_name(n)] for n in names], f'the bundled vocabulary {vocab!r}'
    raise CheckpointConversionError(
        f'{where}: cannot split the {len(names)} labels ({", ".join(names[:6])}'
        f'{", ..." if len(names) > 6 else ""}) into things and stuff: no bundled vocabulary '
        f'({", ".join(list_vocabularies())}) has these names; pass --things (names or ids)')


def label_order(config: Dict, things=None) -> Tuple[List[int], int, List[str], str]:
    """``(checkpoint ids in our label order, number of things, names in our
    order, source of the thing flags)``."""
    id2label = config.get('id2label') or {}
    n = len(id2label)
    if n == 0:
        raise CheckpointConversionError('config.json has no id2label (the class names)')
    names = [id2label[str(i)] if str(i) in id2label else id2label[i] for i in range(n)]
    flags, source = thing_flags(names, things)
    order = [i for i in range(n) if flags[i]] + [i for i in range(n) if not flags[i]]
    return order, sum(flags), [names[i] for i in order], source


def _permute_classes(weight: Tensor, order: Sequence[int]) -> Tensor:
    """Rows of a (C + 1, ...) class layer in our label order ("no object" last)."""
    rows = list(order) + [weight.shape[0] - 1]
    return weight[rows]


# ----------------------------------------------------------------- preprocessing
def read_preprocessor(folder: str) -> Dict:
    """``preprocessor_config.json`` (or a video model's
    ``video_preprocessor_config.json``); {} when there is none."""
    for name in ('preprocessor_config.json', 'video_preprocessor_config.json'):
        path = osp.join(folder, name)
        if osp.isfile(path):
            with open(path) as f:
                return json.load(f)
    return {}


def data_preprocessor(pre: Dict, pad_size_divisor: int = 1) -> Dict:
    """mmdet's data preprocessor with the processor's normalisation (its
    mean / std are for pixels scaled by ``rescale_factor``)."""
    scale = 1.0 / float(pre.get('rescale_factor', 1 / 255)) if pre.get('do_rescale', True) else 1
    mean = pre.get('image_mean', IMAGENET_MEAN) if pre.get('do_normalize', True) else (0, 0, 0)
    std = pre.get('image_std', IMAGENET_STD) if pre.get('do_normalize', True) else (1, 1, 1)
    return dict(type='mmdet.DetDataPreprocessor', mean=[m * scale for m in mean],
                std=[s * scale for s in std], bgr_to_rgb=True,
                pad_size_divisor=pad_size_divisor, pad_mask=True, mask_pad_value=0,
                pad_seg=True, seg_pad_value=255)


def test_pipeline(pre: Dict, default_size: Dict, *, pad_to: Optional[Tuple[int, int]] = None,
                  size_divisor: int = 0, video: bool = False) -> List[Dict]:
    """The processor's resize (and padding) as pipeline steps."""
    size = pre.get('size') or default_size
    if 'shortest_edge' not in size:
        raise CheckpointConversionError(f'preprocessor_config.json: size {size} is not '
                                        'shortest_edge / longest_edge')
    if pre.get('resample', 2) != 2:
        raise CheckpointConversionError(f'preprocessor_config.json: resample '
                                        f'{pre.get("resample")} (only bilinear, 2, is converted)')
    meta = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')
    steps = [dict(type='LoadImageFromFile'),
             dict(type='ResizeShortestEdge', shortest_edge=int(size['shortest_edge']),
                  longest_edge=size.get('longest_edge'), size_divisor=size_divisor,
                  backend='pillow')]
    if pad_to is not None:
        steps.append(dict(type='PadToSize', size=tuple(pad_to)))
    steps += [dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
                   with_seg=False, with_panoptic=True),
              dict(type='PackPanopticInputs',
                   meta_keys=meta + (('video_id', 'frame_id') if video else ()))]
    return steps


def _check_used(state: Dict[str, Tensor], used: set, what: str,
                ignored: Sequence[str] = ()) -> None:
    left = [k for k in state if k not in used and not any(k.startswith(i) for i in ignored)]
    if left:
        raise CheckpointConversionError(f'{what} keys not converted: {left[:6]}')


def check_against(model, state: Dict[str, Tensor]) -> None:
    """Every key of ``model`` filled with the right shape, none left over.

    BatchNorm counters (``num_batches_tracked``) missing from ``state`` are
    added as 0: transformers' DETR freezes its backbone's BatchNorm layers
    into buffers without them, and ours are BatchNorm layers in eval mode
    (the same function) whose counters are not weights."""
    own = model.state_dict()
    for k in own:
        if k.endswith('num_batches_tracked') and k not in state:
            state[k] = torch.zeros_like(own[k])
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        raise CheckpointConversionError(
            f'the converted weights do not fit {type(model).__name__}: missing '
            f'{missing[:6]}, unexpected {extra[:6]}')
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise CheckpointConversionError(f'{k}: {tuple(v.shape)} converted, the model has '
                                            f'{tuple(own[k].shape)}')


# ----------------------------------------------------------------- EoMT
def _eomt_backbone(cfg: Dict, dinov3: bool) -> Dict:
    dim = cfg['hidden_size']
    if dinov3:
        mlp = dict(mlp_hidden=cfg.get('intermediate_size', 4 * dim),
                   gated_mlp=bool(cfg.get('use_gated_mlp', False)),
                   mlp_act='silu' if cfg.get('hidden_act') == 'silu' else 'gelu',
                   qkv_bias=bool(cfg.get('query_bias', True)),
                   key_bias=bool(cfg.get('key_bias', False)),
                   proj_bias=bool(cfg.get('proj_bias', True)),
                   mlp_bias=bool(cfg.get('mlp_bias', True)),
                   rope=True, rope_theta=float((cfg.get('rope_parameters') or {}).get(
                       'rope_theta', cfg.get('rope_theta', 100.0))),
                   rope_train_rescale=cfg.get('pos_embed_rescale'))
    else:
        hidden = int(dim * cfg.get('mlp_ratio', 4))
        if cfg.get('use_swiglu_ffn'):
            mlp = dict(mlp_hidden=(int(hidden * 2 / 3) + 7) // 8 * 8, gated_mlp=True,
                       mlp_act='silu')
        else:
            mlp = dict(mlp_hidden=hidden, mlp_act='gelu')
    patch = cfg['patch_size'] if isinstance(cfg['patch_size'], int) else cfg['patch_size'][0]
    return dict(type='ViT', embed_dims=dim, depth=cfg['num_hidden_layers'],
                num_heads=cfg['num_attention_heads'], patch_size=patch,
                img_size=cfg['image_size'], num_register_tokens=cfg.get('num_register_tokens', 4),
                layer_scale=cfg.get('layerscale_value', 1.0),
                drop_path_rate=cfg.get('drop_path_rate', 0.0),
                eps=cfg.get('layer_norm_eps', 1e-6), **mlp)


def set_criterion(cfg: Dict) -> Dict:
    points = cfg.get('train_num_points', 12544)
    return dict(type='MaskSetCriterion',
                matcher=dict(type='HungarianMaskMatcher', cost_class=cfg.get('class_weight', 2.0),
                             cost_mask=cfg.get('mask_weight', 5.0),
                             cost_dice=cfg.get('dice_weight', 5.0), mask_cost='bce',
                             num_points=points),
                no_object_weight=cfg.get('no_object_weight', 0.1),
                loss_cls_weight=cfg.get('class_weight', 2.0),
                loss_mask_weight=cfg.get('mask_weight', 5.0),
                loss_dice_weight=cfg.get('dice_weight', 5.0), mask_loss='bce', num_points=points,
                oversample_ratio=cfg.get('oversample_ratio', 3.0),
                importance_sample_ratio=cfg.get('importance_sample_ratio', 0.75))


def eomt_head_state(state: Dict[str, Tensor], order: Sequence[int], used: set,
                    prefix: str = '') -> Dict[str, Tensor]:
    """EoMT's query / class / mask / upscale weights -> :class:`EoMTHead`."""
    out = {}
    for key, value in state.items():
        if not key.startswith(prefix):
            continue
        k = key[len(prefix):]
        new = None
        if k == 'query.weight':
            new = 'query_embed.weight'
        elif k.startswith('class_predictor.'):
            new, value = 'cls_embed.' + k.split('.', 1)[1], _permute_classes(value, order)
        elif re.match(r'mask_head\.fc([123])\.', k):
            m = re.match(r'mask_head\.fc([123])\.', k)
            new = f'mask_embed.{2 * (int(m.group(1)) - 1)}.' + k[m.end():]
        elif re.match(r'upscale_block\.block\.(\d+)\.(conv1|conv2|layernorm2d)\.', k):
            m = re.match(r'upscale_block\.block\.(\d+)\.(conv1|conv2|layernorm2d)\.', k)
            part = 'norm' if m.group(2) == 'layernorm2d' else m.group(2)
            new = f'upscale.{m.group(1)}.{part}.' + k[m.end():]
        elif k == 'attn_mask_probs':
            new = 'attn_mask_probs'
        if new is not None:
            out['panoptic_head.' + new] = value
            used.add(key)
    return out


def convert_eomt(state, cfg, pre, things, *, dinov3: bool, video: bool = False):
    """EoMT / EoMT-DINOv3 (and VidEoMT's image part) -> our model config
    and state dict (the ViT by :func:`convert_hf_vit`)."""
    order, num_things, classes, source = label_order(cfg, things)
    backbone = _eomt_backbone(cfg, dinov3)
    size = cfg['image_size']
    size = (size, size) if isinstance(size, int) else tuple(size)
    patch = backbone['patch_size']
    used = set()
    vit_state = {k: v for k, v in state.items() if not k.startswith(
        ('query.', 'class_predictor.', 'mask_head.', 'upscale_block.', 'attn_mask_probs',
         'criterion.', 'query_updater.', 'embeddings.mask_token'))}
    converted = {'backbone.' + k: v for k, v in convert_hf_vit(
        vit_state, patch_size=patch, grid=(size[0] // patch, size[1] // patch),
        embed_dims=cfg['hidden_size']).items()}
    used.update(vit_state)
    converted.update(eomt_head_state(state, order, used))
    _check_used(state, used, 'EoMT', ignored=('criterion.', 'rope_embeddings.',
                                              'embeddings.mask_token'))
    model = dict(
        type='EoMT', num_things_classes=num_things, num_stuff_classes=len(order) - num_things,
        data_preprocessor=data_preprocessor(pre),
        backbone=backbone,
        panoptic_head=dict(type='EoMTHead', num_queries=cfg['num_queries'],
                           num_blocks=cfg['num_blocks'],
                           num_upscale=cfg.get('num_upscale_blocks', 2)),
        criterion=set_criterion(cfg),
        fusion=dict(type='MaskClassificationFusion', object_mask_thr=0.8, mask_thr=0.5,
                    iou_thr=0.8, strict_overlap=True, filter_low_score=True,
                    merge_stuff=False, panoptic_on=True, semantic_on=False,
                    instance_on=False))
    default = dict(shortest_edge=size[0], longest_edge=size[1])
    do_pad = pre.get('do_pad', True)
    pipeline = test_pipeline(pre, default, pad_to=size if do_pad else None, video=video)
    notes = [f'things from {source}']
    return model, converted, pipeline, classes, num_things, order, notes


# ----------------------------------------------------------------- Mask2Former
_M2F_PIXEL = [
    (r'input_projections\.(\d+)\.0\.', r'input_convs.\1.conv.'),
    (r'input_projections\.(\d+)\.1\.', r'input_convs.\1.gn.'),
    (r'encoder\.layers\.(\d+)\.self_attn\.', r'encoder.layers.\1.self_attn.'),
    (r'encoder\.layers\.(\d+)\.self_attn_layer_norm\.', r'encoder.layers.\1.norms.0.'),
    (r'encoder\.layers\.(\d+)\.fc1\.', r'encoder.layers.\1.ffn.layers.0.0.'),
    (r'encoder\.layers\.(\d+)\.fc2\.', r'encoder.layers.\1.ffn.layers.1.'),
    (r'encoder\.layers\.(\d+)\.final_layer_norm\.', r'encoder.layers.\1.norms.1.'),
    (r'mask_projection\.', r'mask_feature.'),
    (r'adapter_1\.0\.', r'lateral_convs.0.conv.'),
    (r'adapter_1\.1\.', r'lateral_convs.0.gn.'),
    (r'layer_1\.0\.', r'output_convs.0.conv.'),
    (r'layer_1\.1\.', r'output_convs.0.gn.'),
]
_M2F_DECODER = [
    (r'layers\.(\d+)\.cross_attn\.', r'transformer_decoder.layers.\1.cross_attn.attn.'),
    (r'layers\.(\d+)\.cross_attn_layer_norm\.', r'transformer_decoder.layers.\1.norms.0.'),
    (r'layers\.(\d+)\.self_attn_layer_norm\.', r'transformer_decoder.layers.\1.norms.1.'),
    (r'layers\.(\d+)\.final_layer_norm\.', r'transformer_decoder.layers.\1.norms.2.'),
    (r'layers\.(\d+)\.fc1\.', r'transformer_decoder.layers.\1.ffn.layers.0.0.'),
    (r'layers\.(\d+)\.fc2\.', r'transformer_decoder.layers.\1.ffn.layers.1.'),
    (r'layernorm\.', r'transformer_decoder.post_norm.'),
    (r'mask_predictor\.mask_embedder\.(\d)\.0\.', None),
]


def _rules(key: str, rules, what: str) -> Optional[str]:
    for pattern, repl in rules:
        m = re.match(pattern, key)
        if m:
            if repl is None:  # mask MLP: 0, 1, 2 -> 0, 2, 4 (ReLUs between)
                return f'mask_embed.{2 * int(m.group(1))}.' + key[m.end():]
            return m.expand(repl) + key[m.end():]
    return None


def _fuse_qkv(state: Dict[str, Tensor], base: str, used: set) -> Tuple[Tensor, Tensor]:
    """q / k / v projections -> nn.MultiheadAttention's in_proj weight / bias."""
    w = torch.cat([state[f'{base}.{p}_proj.weight'] for p in 'qkv'])
    b = torch.cat([state[f'{base}.{p}_proj.bias'] for p in 'qkv'])
    used.update(f'{base}.{p}_proj.{t}' for p in 'qkv' for t in ('weight', 'bias'))
    return w, b


def backbone_config(cfg: Dict, what: str) -> Tuple[Dict, List[int]]:
    """The transformers backbone config (for :class:`HFBackbone`) and its
    output channels."""
    bb = dict(cfg.get('backbone_config') or {})
    if not bb:
        raise CheckpointConversionError(f'{what}: config.json has no backbone_config (a '
                                        'timm backbone cannot run here: timm needs torchvision)')
    if cfg.get('use_timm_backbone'):
        raise CheckpointConversionError(f'{what}: use_timm_backbone=true; timm cannot run here')
    from transformers import AutoBackbone, AutoConfig
    kw = {k: v for k, v in bb.items() if k != 'model_type'}
    channels = list(AutoBackbone.from_config(
        AutoConfig.for_model(bb['model_type'], **kw)).channels)
    return bb, channels


def convert_mask2former(state, cfg, pre, things):
    """Mask2Former -> our Mask2Former with :class:`HFBackbone`."""
    order, num_things, classes, source = label_order(cfg, things)
    bb, channels = backbone_config(cfg, 'Mask2Former')
    used = set()
    out = {}
    pre_pix = 'model.pixel_level_module.decoder.'
    pre_bb = 'model.pixel_level_module.encoder.'
    pre_tr = 'model.transformer_module.'
    for key, value in state.items():
        if key.startswith(pre_bb):
            out['backbone.body.' + key[len(pre_bb):]] = value
            used.add(key)
        elif key.startswith(pre_pix):
            k = key[len(pre_pix):]
            if k == 'level_embed':
                out['panoptic_head.pixel_decoder.level_encoding.weight'] = value
            else:
                new = _rules(k, _M2F_PIXEL, 'pixel decoder')
                if new is None:
                    raise CheckpointConversionError(f'unknown Mask2Former key: {key}')
                out['panoptic_head.pixel_decoder.' + new] = value
            used.add(key)
        elif key.startswith(pre_tr):
            k = key[len(pre_tr):]
            if k.startswith('decoder.'):
                sub = k[len('decoder.'):]
                m = re.match(r'layers\.(\d+)\.self_attn\.[qkv]_proj\.', sub)
                if m:
                    if key not in used:
                        w, b = _fuse_qkv(state, f'{pre_tr}decoder.layers.{m.group(1)}.self_attn',
                                         used)
                        base = (f'panoptic_head.transformer_decoder.layers.{m.group(1)}'
                                '.self_attn.attn.')
                        out[base + 'in_proj_weight'], out[base + 'in_proj_bias'] = w, b
                    continue
                m = re.match(r'layers\.(\d+)\.self_attn\.out_proj\.', sub)
                if m:
                    out[f'panoptic_head.transformer_decoder.layers.{m.group(1)}.self_attn.attn.'
                        f'out_proj.' + sub[m.end():]] = value
                    used.add(key)
                    continue
                new = _rules(sub, _M2F_DECODER, 'decoder')
                if new is None:
                    raise CheckpointConversionError(f'unknown Mask2Former key: {key}')
                out['panoptic_head.' + new] = value
            elif k == 'queries_embedder.weight':
                out['panoptic_head.query_embed.weight'] = value
            elif k == 'queries_features.weight':
                out['panoptic_head.query_feat.weight'] = value
            elif k == 'level_embed.weight':
                out['panoptic_head.level_embed.weight'] = value
            elif re.match(r'input_projections\.(\d+)\.', k):
                m = re.match(r'input_projections\.(\d+)\.', k)
                out[f'panoptic_head.decoder_input_projs.{m.group(1)}.' + k[m.end():]] = value
            else:
                raise CheckpointConversionError(f'unknown Mask2Former key: {key}')
            used.add(key)
        elif key.startswith('class_predictor.'):
            out['panoptic_head.cls_embed.' + key.split('.', 1)[1]] = _permute_classes(value,
                                                                                      order)
            used.add(key)
    _check_used(state, used, 'Mask2Former', ignored=('criterion.', ))
    dim, feat = cfg.get('hidden_dim', 256), cfg.get('feature_size', 256)
    heads = cfg.get('num_attention_heads', 8)
    attn = dict(embed_dims=dim, num_heads=heads, dropout=0.0, batch_first=True)
    ffn = dict(embed_dims=dim, feedforward_channels=cfg.get('dim_feedforward', 2048), num_fcs=2,
               ffn_drop=0.0, act_cfg=dict(type='ReLU', inplace=True))
    enc_ffn = dict(ffn, embed_dims=feat, feedforward_channels=cfg.get('encoder_feedforward_dim',
                                                                      1024))
    model = dict(
        type='Mask2Former', num_things_classes=num_things,
        num_stuff_classes=len(order) - num_things,
        data_preprocessor=data_preprocessor(pre),
        backbone=dict(type='HFBackbone', config=bb),
        panoptic_head=dict(
            type='Mask2FormerQueryHead', in_channels=channels, feat_channels=feat,
            out_channels=cfg.get('mask_feature_size', 256), num_queries=cfg['num_queries'],
            num_transformer_feat_level=3,
            enforce_decoder_input_project=bool(cfg.get('enforce_input_projection', False)),
            pixel_decoder=dict(
                type='mmdet.MSDeformAttnPixelDecoder', strides=list(cfg.get(
                    'feature_strides', (4, 8, 16, 32))), num_outs=3,
                norm_cfg=dict(type='GN', num_groups=32), act_cfg=dict(type='ReLU'),
                encoder=dict(num_layers=cfg.get('encoder_layers', 6), layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=feat, num_heads=heads, num_levels=3,
                                       num_points=4, dropout=0.0, batch_first=True),
                    ffn_cfg=enc_ffn)),
                positional_encoding=dict(num_feats=feat // 2, normalize=True)),
            positional_encoding=dict(num_feats=dim // 2, normalize=True),
            transformer_decoder=dict(
                type='Mask2FormerTransformerDecoder', return_intermediate=True,
                num_layers=cfg.get('decoder_layers', 10) - 1,
                layer_cfg=dict(self_attn_cfg=attn, cross_attn_cfg=attn, ffn_cfg=ffn),
                init_cfg=None)),
        criterion=set_criterion(cfg),
        fusion=transformers_fusion(fixed_mask_size=(384, 384)))
    pipeline = test_pipeline(pre, dict(shortest_edge=800, longest_edge=1333),
                             size_divisor=int(pre.get('size_divisor', 32)))
    return model, out, pipeline, classes, num_things, order, [f'things from {source}']


# ----------------------------------------------------------------- DETR decoder / MaskFormer
def transformers_fusion(**kw) -> Dict:
    """transformers' ``post_process_panoptic_segmentation`` of MaskFormer,
    Mask2Former and DETR (threshold 0.5, mask threshold 0.5, overlap 0.8) as
    :class:`MaskClassificationFusion` settings."""
    return dict(type='MaskClassificationFusion', object_mask_thr=0.5, mask_thr=0.5,
                iou_thr=0.8, strict_overlap=True, score_weighted_area=True,
                filter_low_score=False, merge_stuff=False, mask_resize='transformers',
                panoptic_on=True, semantic_on=False, instance_on=False, **kw)


_DETR_LAYER = [
    (r'self_attn_layer_norm\.', 'norms.0.'),
    (r'encoder_attn_layer_norm\.', 'norms.1.'),
    (r'(mlp\.)?fc1\.', 'ffn.layers.0.0.'),
    (r'(mlp\.)?fc2\.', 'ffn.layers.1.'),
]


def detr_layers_state(state: Dict[str, Tensor], prefix: str, out: str, used: set, *,
                      encoder: bool = False) -> Dict[str, Tensor]:
    """transformers' DETR encoder / decoder layers (``prefix`` + ``layers.N``,
    q / k / v / o projections, post-norms, ``layernorm`` after the decoder)
    -> mmdet's ``DetrTransformerEncoder`` / ``DetrTransformerDecoder``
    (``nn.MultiheadAttention`` with fused in-projection, ``norms``, ``ffn``,
    ``post_norm``)."""
    res = {}
    final_norm = 'norms.1.' if encoder else 'norms.2.'
    for key, value in state.items():
        if not key.startswith(prefix) or key in used:
            continue
        k = key[len(prefix):]
        if k.startswith('layernorm.'):
            res[out + 'post_norm.' + k[len('layernorm.'):]] = value
            used.add(key)
            continue
        m = re.match(r'layers\.(\d+)\.', k)
        if not m:
            raise CheckpointConversionError(f'unknown DETR transformer key: {key}')
        base, rest = f'{out}layers.{m.group(1)}.', k[m.end():]
        a = re.match(r'(self_attn|encoder_attn)\.(q|k|v|o|out)_proj\.(weight|bias)$', rest)
        if a:
            name = 'self_attn' if a.group(1) == 'self_attn' else 'cross_attn'
            if a.group(2) in ('o', 'out'):
                res[f'{base}{name}.attn.out_proj.{a.group(3)}'] = value
                used.add(key)
            else:
                w, b = _fuse_qkv(state, f'{prefix}layers.{m.group(1)}.{a.group(1)}', used)
                res[f'{base}{name}.attn.in_proj_weight'] = w
                res[f'{base}{name}.attn.in_proj_bias'] = b
            continue
        if rest.startswith('final_layer_norm.'):
            res[base + final_norm + rest[len('final_layer_norm.'):]] = value
            used.add(key)
            continue
        new = _rules(rest, _DETR_LAYER, 'DETR layer')
        if new is None:
            raise CheckpointConversionError(f'unknown DETR transformer key: {key}')
        res[base + new] = value
        used.add(key)
    return res


def _mlp_state(state, prefix: str, targets: Sequence[str], used: set) -> Dict[str, Tensor]:
    """``prefix`` + ``N.0.`` / ``layers.N.`` linear layers -> ``targets[N]``."""
    res = {}
    for key, value in state.items():
        if key.startswith(prefix):
            m = re.match(r'(?:layers\.)?(\d+)\.(?:0\.)?(weight|bias)$', key[len(prefix):])
            if not m or int(m.group(1)) >= len(targets):
                raise CheckpointConversionError(f'unknown key: {key}')
            res[f'{targets[int(m.group(1))]}.{m.group(2)}'] = value
            used.add(key)
    return res


def _backbone_state(state, prefix: str, out: str, used: set) -> Dict[str, Tensor]:
    res = {}
    for key, value in state.items():
        if key.startswith(prefix):
            res[out + key[len(prefix):]] = value
            used.add(key)
    return res


def convert_maskformer(state, cfg, pre, things):
    """MaskFormer -> our MaskFormer: the transformers backbone, mmdet's FPN
    ``PixelDecoder`` (transformers' ``fpn.layers.j`` is mmdet's level
    ``L - 2 - j``), mmdet's DETR decoder on the last backbone level."""
    order, num_things, classes, source = label_order(cfg, things)
    bb = dict(cfg.get('backbone_config') or {})
    if bb.get('model_type') == 'swin':  # transformers swaps in its MaskFormer Swin
        bb['model_type'] = 'maskformer-swin'
        bb['out_features'] = ['stage1', 'stage2', 'stage3', 'stage4']
        bb.pop('out_indices', None)
    cfg = dict(cfg, backbone_config=bb)
    bb, channels = backbone_config(cfg, 'MaskFormer')
    dec = dict(cfg.get('decoder_config') or {})
    dim = dec.get('d_model', 256)
    used = set()
    out = _backbone_state(state, 'model.pixel_level_module.encoder.', 'backbone.body.', used)
    pix = 'model.pixel_level_module.decoder.'
    levels = len(channels)
    for key, value in state.items():
        if not key.startswith(pix):
            continue
        k = key[len(pix):]
        m = re.match(r'fpn\.layers\.(\d+)\.(proj|block)\.(\d)\.', k)
        if k.startswith('fpn.stem.'):
            part = {'0': 'conv', '1': 'gn'}[k.split('.')[2]]
            new = f'last_feat_conv.{part}.' + k.split('.', 3)[3]
        elif m:
            i = levels - 2 - int(m.group(1))
            part = {'0': 'conv', '1': 'gn'}[m.group(3)]
            new = (f'lateral_convs.{i}.' if m.group(2) == 'proj' else f'output_convs.{i}.') + \
                f'{part}.' + k[m.end():]
        elif k.startswith('mask_projection.'):
            new = 'mask_feature.' + k[len('mask_projection.'):]
        else:
            raise CheckpointConversionError(f'unknown MaskFormer key: {key}')
        out['panoptic_head.pixel_decoder.' + new] = value
        used.add(key)
    tr = 'model.transformer_module.'
    out.update(detr_layers_state(state, tr + 'decoder.', 'panoptic_head.transformer_decoder.',
                                 used))
    for name, new in (('queries_embedder.weight', 'query_embed.weight'),
                      ('input_projection.weight', 'decoder_input_proj.weight'),
                      ('input_projection.bias', 'decoder_input_proj.bias')):
        if tr + name in state:
            out['panoptic_head.' + new] = state[tr + name]
            used.add(tr + name)
    out.update(_mlp_state(state, 'mask_embedder.', ['panoptic_head.mask_embed.0',
                                                    'panoptic_head.mask_embed.2',
                                                    'panoptic_head.mask_embed.4'], used))
    for t in ('weight', 'bias'):
        out[f'panoptic_head.cls_embed.{t}'] = _permute_classes(state[f'class_predictor.{t}'],
                                                               order)
        used.add(f'class_predictor.{t}')
    _check_used(state, used, 'MaskFormer', ignored=('criterion.', ))
    num_queries = state[tr + 'queries_embedder.weight'].shape[0]
    heads = dec.get('decoder_attention_heads', 8)
    drop = dict(dropout=0.0, batch_first=True)
    model = dict(
        type='MaskFormer', num_things_classes=num_things,
        num_stuff_classes=len(order) - num_things,
        data_preprocessor=data_preprocessor(pre),
        backbone=dict(type='HFBackbone', config=bb),
        panoptic_head=dict(
            type='MaskFormerQueryHead', in_channels=channels,
            feat_channels=cfg.get('fpn_feature_size', 256),
            out_channels=cfg.get('mask_feature_size', 256), num_queries=num_queries,
            pixel_decoder=dict(type='mmdet.PixelDecoder', norm_cfg=dict(type='GN', num_groups=32),
                               act_cfg=dict(type='ReLU')),
            enforce_decoder_input_project=False,
            positional_encoding=dict(num_feats=dim // 2, normalize=True),
            transformer_decoder=dict(
                type='DetrTransformerDecoder', num_layers=dec.get('decoder_layers', 6),
                return_intermediate=True,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=dim, num_heads=heads, **drop),
                    cross_attn_cfg=dict(embed_dims=dim, num_heads=heads, **drop),
                    ffn_cfg=dict(embed_dims=dim, feedforward_channels=dec.get(
                        'decoder_ffn_dim', 2048), num_fcs=2, ffn_drop=0.0,
                        act_cfg=dict(type='ReLU', inplace=True))))),
        criterion=dict(
            type='MaskSetCriterion',
            matcher=dict(type='HungarianMaskMatcher', cost_class=1.0,
                         cost_mask=cfg.get('mask_weight', 20.0),
                         cost_dice=cfg.get('dice_weight', 1.0), mask_cost='focal',
                         num_points=None),
            no_object_weight=cfg.get('no_object_weight', 0.1),
            loss_cls_weight=cfg.get('cross_entropy_weight', 1.0),
            loss_mask_weight=cfg.get('mask_weight', 20.0),
            loss_dice_weight=cfg.get('dice_weight', 1.0), mask_loss='focal', num_points=None),
        fusion=transformers_fusion())
    pipeline = test_pipeline(pre, dict(shortest_edge=800, longest_edge=1333),
                             size_divisor=int(pre.get('size_divisor', 32)))
    return model, out, pipeline, classes, num_things, order, [f'things from {source}']


_DETR_MASK_HEAD = [
    (r'conv([12])\.conv\.', r'lay\1.'),
    (r'conv([12])\.norm\.', r'gn\1.'),
    (r'output_conv\.', 'out_lay.'),
]


def _detr_mask_head_key(k: str) -> Optional[str]:
    m = re.match(r'fpn_stages\.(\d)\.(fpn_adapter|refine\.conv|refine\.norm)\.', k)
    if m:
        i = int(m.group(1))
        part = {'fpn_adapter': f'adapter{i + 1}', 'refine.conv': f'lay{i + 3}',
                'refine.norm': f'gn{i + 3}'}[m.group(2)]
        return f'{part}.' + k[m.end():]
    return _rules(k, _DETR_MASK_HEAD, 'DETR mask head')


def convert_detr(state, cfg, pre, things):
    """DetrForSegmentation -> :class:`DETRPanoptic`: the transformers backbone,
    mmdet's DETR encoder / decoder, DETR's box MLP as mmdet's ``reg_ffn`` /
    ``fc_reg``, the mask head under DETR's own names."""
    if cfg.get('use_timm_backbone', True) or not cfg.get('backbone_config'):
        raise CheckpointConversionError(
            'DETR: use_timm_backbone=true (the hub\'s facebook/detr-* folders): timm needs '
            'torchvision, which cannot run here; convert a checkpoint with a transformers '
            'backbone_config (use_timm_backbone=false)')
    if cfg.get('position_embedding_type', 'sine') != 'sine':
        raise CheckpointConversionError(f'DETR: position_embedding_type '
                                        f'{cfg.get("position_embedding_type")!r} (only sine)')
    order, num_things, classes, source = label_order(cfg, things)
    bb, channels = backbone_config(cfg, 'DETR')
    used = set()
    out = _backbone_state(state, 'detr.model.backbone.model.', 'backbone.body.', used)
    head = 'panoptic_head.'
    out.update(detr_layers_state(state, 'detr.model.encoder.', head + 'encoder.', used,
                                 encoder=True))
    out.update(detr_layers_state(state, 'detr.model.decoder.', head + 'decoder.', used))
    for name, new in (('detr.model.query_position_embeddings.weight', 'query_embedding.weight'),
                      ('detr.model.input_projection.weight', 'input_proj.weight'),
                      ('detr.model.input_projection.bias', 'input_proj.bias')):
        out[head + new] = state[name]
        used.add(name)
    out.update(_mlp_state(state, 'detr.bbox_predictor.', [head + 'reg_ffn.layers.0.0',
                                                          head + 'reg_ffn.layers.1',
                                                          head + 'fc_reg'], used))
    for t in ('weight', 'bias'):
        out[f'{head}cls_embed.{t}'] = _permute_classes(
            state[f'detr.class_labels_classifier.{t}'], order)
        used.add(f'detr.class_labels_classifier.{t}')
    for key, value in state.items():
        if key.startswith('mask_head.'):
            new = _detr_mask_head_key(key[len('mask_head.'):])
            if new is None:
                raise CheckpointConversionError(f'unknown DETR key: {key}')
            out[head + 'mask_head.' + new] = value
            used.add(key)
        elif key.startswith('bbox_attention.'):
            k = key[len('bbox_attention.'):].replace('q_proj.', 'q_linear.').replace(
                'k_proj.', 'k_linear.')
            out[head + 'bbox_attention.' + k] = value
            used.add(key)
    _check_used(state, used, 'DETR', ignored=('criterion.', ))
    dim = cfg.get('d_model', 256)

    def attn(heads):
        return dict(embed_dims=dim, num_heads=heads, dropout=0.0, batch_first=True)

    def ffn(hidden):
        return dict(embed_dims=dim, feedforward_channels=hidden, num_fcs=2, ffn_drop=0.0,
                    act_cfg=dict(type='ReLU', inplace=True))

    if cfg.get('activation_function', 'relu') != 'relu':
        raise CheckpointConversionError(f'DETR: activation_function '
                                        f'{cfg.get("activation_function")!r} (only relu)')
    enc_heads = cfg.get('encoder_attention_heads', 8)
    dec_heads = cfg.get('decoder_attention_heads', 8)
    model = dict(
        type='DETRPanoptic', num_things_classes=num_things,
        num_stuff_classes=len(order) - num_things,
        data_preprocessor=data_preprocessor(pre),
        backbone=dict(type='HFBackbone', config=bb),
        panoptic_head=dict(
            type='DETRPanopticHead', in_channels=channels,
            num_queries=state['detr.model.query_position_embeddings.weight'].shape[0],
            encoder=dict(num_layers=cfg.get('encoder_layers', 6), layer_cfg=dict(
                self_attn_cfg=attn(enc_heads), ffn_cfg=ffn(cfg.get('encoder_ffn_dim', 2048)))),
            decoder=dict(num_layers=cfg.get('decoder_layers', 6), return_intermediate=True,
                         layer_cfg=dict(self_attn_cfg=attn(dec_heads),
                                        cross_attn_cfg=attn(dec_heads),
                                        ffn_cfg=ffn(cfg.get('decoder_ffn_dim', 2048)))),
            positional_encoding=dict(num_feats=dim // 2, normalize=True)),
        criterion=dict(type='DETRSetCriterion',
                       no_object_weight=cfg.get('eos_coefficient', 0.1),
                       loss_bbox_weight=cfg.get('bbox_loss_coefficient', 5.0),
                       loss_giou_weight=cfg.get('giou_loss_coefficient', 2.0),
                       loss_mask_weight=cfg.get('mask_loss_coefficient', 1.0),
                       loss_dice_weight=cfg.get('dice_loss_coefficient', 1.0)),
        fusion=transformers_fusion())
    pipeline = test_pipeline(pre, dict(shortest_edge=800, longest_edge=1333))
    return model, out, pipeline, classes, num_things, order, [f'things from {source}']


# ----------------------------------------------------------------- VidEoMT
def convert_videomt(state, cfg, pre, things):
    """VideomtForUniversalSegmentation -> :class:`VideoPanopticSegmentor`
    with a :class:`VidEoMT` detector (EoMT's weights plus ``query_updater``)
    and :class:`QueryPropagationTracker` ``(refresh_interval=None)``: the
    query index is the track, as in VidEoMT.

    The video processor's fixed-size resize (torchvision's antialiased
    bilinear) is :class:`AntialiasResize` (``keep_ratio=False``); its
    post-processing resizes the mask logits straight to each frame's size
    (``mask_resize='direct'``), keeps queries scoring > 0.8 and the pixels
    whose own mask probability reaches 0.5 (``filter_low_score``)."""
    image_state = {k: v for k, v in state.items() if not k.startswith('query_updater.')}
    model, out, _, classes, num_things, order, notes = convert_eomt(
        image_state, cfg, {}, things, dinov3=False, video=True)
    size = pre.get('size') or {'height': cfg['image_size'], 'width': cfg['image_size']}
    if 'height' not in size:
        raise CheckpointConversionError(f'video_preprocessor_config.json: size {size} is not '
                                        'height / width')
    if pre.get('resample', 2) != 2:
        raise CheckpointConversionError(f'video_preprocessor_config.json: resample '
                                        f'{pre.get("resample")} (only bilinear, 2, is converted)')
    model['type'] = 'VidEoMT'
    model['data_preprocessor'] = data_preprocessor(pre)
    model['fusion'] = dict(model['fusion'], mask_resize='direct')
    for t in ('weight', 'bias'):
        out[f'query_updater.{t}'] = state[f'query_updater.{t}']
    video = dict(type='VideoPanopticSegmentor', detector=model,
                 tracker=dict(type='QueryPropagationTracker', refresh_interval=None))
    state_out = {'detector.' + k: v for k, v in out.items()}
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='AntialiasResize', scale=(int(size['width']), int(size['height'])),
                     keep_ratio=False),
                dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
                     with_seg=False, with_panoptic=True),
                dict(type='PackPanopticInputs',
                     meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                                'video_id', 'frame_id'))]
    return video, state_out, pipeline, classes, num_things, order, notes


# ----------------------------------------------------------------- entry point
CONVERTERS = {
    'EomtForUniversalSegmentation': lambda *a: convert_eomt(*a, dinov3=False),
    'EomtDinov3ForUniversalSegmentation': lambda *a: convert_eomt(*a, dinov3=True),
    'Mask2FormerForUniversalSegmentation': convert_mask2former,
    'MaskFormerForInstanceSegmentation': convert_maskformer,
    'DetrForSegmentation': convert_detr,
    'VideomtForUniversalSegmentation': convert_videomt,
}


def register_converter(architecture: str):
    """Add a converter for another model class (used by the model modules
    that convert MaskFormer, DETR and VidEoMT)."""
    def wrap(fn):
        CONVERTERS[architecture] = fn
        return fn
    return wrap


def convert_hf_model(folder: str, *, things=None) -> ConvertedModel:
    """Convert a ``save_pretrained`` folder (see the module doc)."""
    if not osp.isdir(folder):
        raise PanopticFileError(f'{folder}: not a folder (a save_pretrained folder with '
                                'config.json and model.safetensors / pytorch_model.bin)')
    state, cfg = read_hf_folder(folder)
    arch = (cfg.get('architectures') or [None])[0]
    if arch not in CONVERTERS:
        raise CheckpointConversionError(
            f'{folder}/config.json: model class {arch!r} is not converted; supported: '
            f'{", ".join(sorted(CONVERTERS))}')
    pre = read_preprocessor(folder)
    try:
        model, sd, pipeline, classes, num_things, order, notes = CONVERTERS[arch](
            state, cfg, pre, things)
    except CheckpointConversionError as e:
        raise CheckpointConversionError(f'{folder} ({arch}): {e}') from None
    return ConvertedModel(architecture=arch, model=model, state_dict=sd,
                          test_pipeline=pipeline, classes=classes, num_things=num_things,
                          category_ids=list(order), notes=notes)


__all__ = ['ConvertedModel', 'convert_hf_model', 'register_converter', 'thing_flags',
           'label_order', 'parse_things', 'data_preprocessor', 'test_pipeline',
           'check_against', 'set_criterion', 'eomt_head_state', 'backbone_config']
