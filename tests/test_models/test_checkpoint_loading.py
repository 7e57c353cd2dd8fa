"""mmdet and detectron2 weights (Mask2Former, Panoptic-DeepLab) load into our models."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config, ConfigDict

from mmpanoptic.fileio import CheckpointConversionError as ConversionError
from mmpanoptic.models.checkpoints.detectron2_keys import (
    convert_mask2former_d2,
    convert_panoptic_deeplab_d2,
)
from mmpanoptic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = {'Mask2Former': 'configs/mask2former/mask2former_r18_toy.py',
       'MaskFormer': 'configs/maskformer/maskformer_r18_toy.py'}


def ours_and_mmdet(name):
    """Our toy model and mmdet's model of the same shape, built independently."""
    cfg = Config.fromfile(osp.join(ROOT, TOY[name])).model
    ours = MODELS.build(copy.deepcopy(cfg))
    head = copy.deepcopy(cfg.panoptic_head)
    head.type = 'Mask2FormerHead' if name == 'Mask2Former' else 'MaskFormerHead'
    head.pixel_decoder.type = head.pixel_decoder.type.replace('mmdet.', '')
    for key in ('transformer_decoder', ):
        head[key].pop('type')
    head.update(num_things_classes=cfg.num_things_classes,
                num_stuff_classes=cfg.num_stuff_classes,
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                              class_weight=[1.0] * (cfg.num_things_classes +
                                                    cfg.num_stuff_classes) + [0.1]))
    backbone = copy.deepcopy(cfg.backbone)
    backbone.type = 'ResNet'
    theirs = MMDET_MODELS.build(ConfigDict(
        type=f'mmdet.{name}', backbone=backbone, panoptic_head=head,
        panoptic_fusion_head=dict(type='MaskFormerFusionHead',
                                  num_things_classes=cfg.num_things_classes,
                                  num_stuff_classes=cfg.num_stuff_classes),
        test_cfg=dict(panoptic_on=True, semantic_on=False, instance_on=False)))
    return ours, theirs


def samples(n, size):
    from mmdet.structures import DetDataSample
    return [DetDataSample(metainfo=dict(batch_input_shape=(size, size),
                                        img_shape=(size, size))) for _ in range(n)]


@pytest.mark.parametrize('name', ['Mask2Former', 'MaskFormer'])
def test_mmdet_checkpoint_loads_and_gives_the_same_outputs(name):
    torch.manual_seed(0)
    ours, theirs = ours_and_mmdet(name)
    theirs.init_weights()
    state = theirs.state_dict()
    result = ours.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    ours.eval(), theirs.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        feats = theirs.extract_feat(x)
        cls_t, mask_t = theirs.panoptic_head(feats, samples(2, 64))
        metas = [s.metainfo for s in samples(2, 64)]
        cls_o, mask_o = ours.panoptic_head(ours.extract_feat(x), metas)
        if name == 'Mask2Former':
            # The inference fast path: the last layer only, the same logits.
            cls_f, mask_f = ours.panoptic_head(ours.extract_feat(x), metas)
            assert len(cls_f) == len(mask_f) == 1
            torch.testing.assert_close(cls_f[0], cls_t[-1])
            torch.testing.assert_close(mask_f[0], mask_t[-1])
            ours.panoptic_head.last_layer_only_at_inference = False
            cls_o, mask_o = ours.panoptic_head(ours.extract_feat(x), metas)
    assert len(cls_o) == len(cls_t) > 1
    for a, b in zip(list(cls_o) + list(mask_o), list(cls_t) + list(mask_t)):
        torch.testing.assert_close(a, b)


def d2_decoder_keys(num_layers, dim, ffn, num_classes, rng):
    """Official Mask2Former predictor keys (mask2former_transformer_decoder.py)."""
    p = 'sem_seg_head.predictor.'
    sd = {}
    for i in range(num_layers):
        for part, attn in (('transformer_self_attention_layers', 'self_attn'),
                           ('transformer_cross_attention_layers', 'multihead_attn')):
            sd[f'{p}{part}.{i}.{attn}.in_proj_weight'] = rng(3 * dim, dim)
            sd[f'{p}{part}.{i}.{attn}.in_proj_bias'] = rng(3 * dim)
            sd[f'{p}{part}.{i}.{attn}.out_proj.weight'] = rng(dim, dim)
            sd[f'{p}{part}.{i}.{attn}.out_proj.bias'] = rng(dim)
            sd[f'{p}{part}.{i}.norm.weight'] = 1 + rng(dim)
            sd[f'{p}{part}.{i}.norm.bias'] = rng(dim)
        f = f'{p}transformer_ffn_layers.{i}.'
        sd.update({f + 'linear1.weight': rng(ffn, dim), f + 'linear1.bias': rng(ffn),
                   f + 'linear2.weight': rng(dim, ffn), f + 'linear2.bias': rng(dim),
                   f + 'norm.weight': 1 + rng(dim), f + 'norm.bias': rng(dim)})
    sd.update({p + 'decoder_norm.weight': 1 + rng(dim), p + 'decoder_norm.bias': rng(dim),
               p + 'query_feat.weight': rng(20, dim), p + 'query_embed.weight': rng(20, dim),
               p + 'level_embed.weight': rng(3, dim),
               p + 'class_embed.weight': rng(num_classes + 1, dim),
               p + 'class_embed.bias': rng(num_classes + 1)})
    for j in range(3):
        sd[f'{p}mask_embed.layers.{j}.weight'] = rng(dim, dim)
        sd[f'{p}mask_embed.layers.{j}.bias'] = rng(dim)
    return sd


def d2_pixel_decoder_and_backbone(ours, rng):
    """Official MSDeformAttnPixelDecoder and detectron2 ResNet keys, shaped
    after our model's tensors (the names come from detectron2's modules)."""
    ref = ours.state_dict()
    pd = 'sem_seg_head.pixel_decoder.'
    sd = {}
    for i in range(3):
        sd[f'{pd}input_proj.{i}.0.weight'] = rng(
            *ref[f'panoptic_head.pixel_decoder.input_convs.{i}.conv.weight'].shape)
        for t in ('0.bias', '1.weight', '1.bias'):
            sd[f'{pd}input_proj.{i}.{t}'] = rng(64)
    sd[pd + 'transformer.level_embed'] = rng(3, 64)
    for i in range(2):
        e = f'{pd}transformer.encoder.layers.{i}.'
        for lin, shape in (('sampling_offsets', (4 * 3 * 4 * 2, 64)),
                           ('attention_weights', (4 * 3 * 4, 64)), ('value_proj', (64, 64)),
                           ('output_proj', (64, 64))):
            sd[f'{e}self_attn.{lin}.weight'] = rng(*shape)
            sd[f'{e}self_attn.{lin}.bias'] = rng(shape[0])
        sd.update({e + 'linear1.weight': rng(256, 64), e + 'linear1.bias': rng(256),
                   e + 'linear2.weight': rng(64, 256), e + 'linear2.bias': rng(64),
                   e + 'norm1.weight': rng(64), e + 'norm1.bias': rng(64),
                   e + 'norm2.weight': rng(64), e + 'norm2.bias': rng(64)})
    lateral = ref['panoptic_head.pixel_decoder.lateral_convs.0.conv.weight'].shape
    sd.update({pd + 'adapter_1.weight': rng(*lateral), pd + 'adapter_1.norm.weight': rng(64),
               pd + 'adapter_1.norm.bias': rng(64), pd + 'layer_1.weight': rng(64, 64, 3, 3),
               pd + 'layer_1.norm.weight': rng(64), pd + 'layer_1.norm.bias': rng(64),
               pd + 'mask_features.weight': rng(64, 64, 1, 1), pd + 'mask_features.bias': rng(64)})
    # detectron2 ResNet-18: stem + res2..res5 of BasicBlocks, FrozenBN norms.
    norm = ('weight', 'bias', 'running_mean', 'running_var')
    sd['backbone.stem.conv1.weight'] = rng(64, 3, 7, 7)
    sd.update({f'backbone.stem.conv1.norm.{n}': rng(64) for n in norm})
    width_in = 64
    for stage, width in zip(range(2, 6), (64, 128, 256, 512)):
        for block in range(2):
            b = f'backbone.res{stage}.{block}.'
            cin = width_in if block == 0 else width
            sd[b + 'conv1.weight'] = rng(width, cin, 3, 3)
            sd[b + 'conv2.weight'] = rng(width, width, 3, 3)
            sd.update({f'{b}conv{k}.norm.{n}': rng(width) for k in (1, 2) for n in norm})
            if block == 0 and stage > 2:
                sd[b + 'shortcut.weight'] = rng(width, cin, 1, 1)
                sd.update({f'{b}shortcut.norm.{n}': rng(width) for n in norm})
        width_in = width
    return sd


def test_detectron2_checkpoint_converts_and_loads_strictly():
    gen = torch.Generator().manual_seed(0)

    def rng(*shape):
        return torch.randn(*shape, generator=gen) * 0.1

    ours, _ = ours_and_mmdet('Mask2Former')
    d2 = d2_decoder_keys(6, 64, 256, 8, rng)
    d2.update(d2_pixel_decoder_and_backbone(ours, rng))
    d2['pixel_mean'] = torch.zeros(3, 1, 1)
    converted = convert_mask2former_d2(d2)
    state = ours.state_dict()
    missing = [k for k in state if k not in converted]
    assert not missing
    for k, v in converted.items():
        assert state[k].shape == v.shape, k
    ours.load_state_dict(converted, strict=True)
    # The decoder layer computes what detectron2's layer computes:
    # cross-attention -> norm, self-attention -> norm, FFN -> norm (post-norm).
    layer = ours.panoptic_head.transformer_decoder.layers[0].eval()
    p = 'sem_seg_head.predictor.'
    q, k = torch.randn(1, 20, 64), torch.randn(1, 30, 64)
    qpos, kpos = torch.randn(1, 20, 64), torch.randn(1, 30, 64)

    def mha(prefix, query, key, value):
        out, _ = F.multi_head_attention_forward(
            query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1), 64, 4,
            d2[prefix + 'in_proj_weight'], d2[prefix + 'in_proj_bias'], None, None, False,
            0.0, d2[prefix + 'out_proj.weight'], d2[prefix + 'out_proj.bias'],
            training=False, need_weights=False)
        return out.transpose(0, 1)

    def ln(x, prefix):
        return F.layer_norm(x, (64, ), d2[prefix + 'weight'], d2[prefix + 'bias'])

    c = f'{p}transformer_cross_attention_layers.0.'
    s = f'{p}transformer_self_attention_layers.0.'
    f = f'{p}transformer_ffn_layers.0.'
    x = ln(q + mha(c + 'multihead_attn.', q + qpos, k + kpos, k), c + 'norm.')
    x = ln(x + mha(s + 'self_attn.', x + qpos, x + qpos, x), s + 'norm.')
    hidden = F.relu(F.linear(x, d2[f + 'linear1.weight'], d2[f + 'linear1.bias']))
    x = ln(x + F.linear(hidden, d2[f + 'linear2.weight'], d2[f + 'linear2.bias']), f + 'norm.')
    with torch.no_grad():
        ours_out = layer(query=q, key=k, value=k, query_pos=qpos, key_pos=kpos,
                         cross_attn_mask=None, query_key_padding_mask=None,
                         key_padding_mask=None)
    torch.testing.assert_close(ours_out, x, rtol=1e-4, atol=1e-5)
    # mask_embed MLP layers 0, 1, 2 sit at 0, 2, 4 (ReLUs between).
    assert torch.equal(converted['panoptic_head.mask_embed.4.weight'],
                       d2[p + 'mask_embed.layers.2.weight'])


def test_detectron2_conversion_class_order_and_unknown_keys():
    w = torch.arange(4.)[:, None].repeat(1, 2)
    sd = {'sem_seg_head.predictor.class_embed.weight': w,
          'sem_seg_head.predictor.class_embed.bias': torch.arange(4.)}
    out = convert_mask2former_d2(sd, class_order=[2, 0, 1])
    assert out['panoptic_head.cls_embed.bias'].tolist() == [2., 0., 1., 3.]  # no-object last
    with pytest.raises(ValueError, match='permutation'):
        convert_mask2former_d2(sd, class_order=[0, 0, 1])
    with pytest.raises(ConversionError, match='sem_seg_head.predictor.bogus'):
        convert_mask2former_d2({'sem_seg_head.predictor.bogus.weight': w})
    # Buffers that our config derives are dropped, anything else unknown stops.
    assert not convert_mask2former_d2({'criterion.empty_weight': w, 'pixel_std': w})
    with pytest.raises(ConversionError, match='unknown Mask2Former key: neck.x'):
        convert_mask2former_d2({'neck.x': w})


def released_checkpoint(state, style):
    """A checkpoint file laid out as mmdet's released ones (after
    ``publish_model.py``): mmdet 2.x runs (``CLASSES``, ``PALETTE``, config
    text, numpy seed) or mmengine runs (``dataset_meta``, ``cfg``, iteration)."""
    import collections

    import numpy as np
    if style == 'mmdet2':
        meta = dict(mmdet_version='2.25.0', mmcv_version='1.6.0', config='model = dict()',
                    CLASSES=('person', 'bicycle'), PALETTE=[(220, 20, 60), (119, 11, 32)],
                    env_info='sys.platform: linux', seed=np.int64(1234), exp_name='x.py',
                    epoch=12, iter=87960, time='Sat Aug 21 10:11:53 2021',
                    hook_msgs=dict(last_ckpt='work_dirs/x/epoch_12.pth'))
    else:
        meta = dict(cfg='model = dict()', seed=np.int32(0), experiment_name='x',
                    time='20230118_125535', mmengine_version='0.4.0', epoch=50, iter=368750,
                    dataset_meta=dict(classes=('person', 'wall-other-merged'),
                                      thing_classes=('person', ), stuff_classes=('wall', ),
                                      palette=[(220, 20, 60), (102, 102, 156)]))
    return dict(meta=meta, state_dict=collections.OrderedDict(state))


@pytest.mark.parametrize('style', ['mmdet2', 'mmengine'])
def test_released_mmdet_checkpoint_file_loads_as_is(tmp_path, style):
    """``load_from`` / ``tools/test.py`` read mmdet's released files on
    torch >= 2.6 (``weights_only`` loading, nothing turned off), strictly."""
    from mmengine.runner import load_checkpoint
    torch.manual_seed(0)
    ours, theirs = ours_and_mmdet('Mask2Former')
    theirs.init_weights()
    path = str(tmp_path / 'released.pth')
    torch.save(released_checkpoint(theirs.state_dict(), style), path)
    ckpt = load_checkpoint(ours, path, map_location='cpu', strict=True)
    assert set(ckpt['meta']) >= {'epoch', 'iter'}
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def d2_swin_keys(embed, depths, heads, window, rng):
    """Official Mask2Former ``D2SwinTransformer`` backbone keys (swin.py:
    patch_embed.proj / norm, layers.i.blocks.j.{norm1, attn, norm2, mlp},
    layers.i.downsample.{reduction, norm}, out norms norm0..norm3)."""
    sd = {'backbone.patch_embed.proj.weight': rng(embed, 3, 4, 4),
          'backbone.patch_embed.proj.bias': rng(embed),
          'backbone.patch_embed.norm.weight': 1 + rng(embed),
          'backbone.patch_embed.norm.bias': rng(embed)}
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window),
                                        indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + window - 1
    index = rel[..., 0] * (2 * window - 1) + rel[..., 1]
    for i, (depth, head) in enumerate(zip(depths, heads)):
        dim = embed * 2**i
        for j in range(depth):
            b = f'backbone.layers.{i}.blocks.{j}.'
            sd.update({b + 'norm1.weight': 1 + rng(dim), b + 'norm1.bias': rng(dim),
                       b + 'attn.relative_position_bias_table': rng((2 * window - 1)**2, head),
                       b + 'attn.relative_position_index': index,
                       b + 'attn.qkv.weight': rng(3 * dim, dim), b + 'attn.qkv.bias': rng(3 * dim),
                       b + 'attn.proj.weight': rng(dim, dim), b + 'attn.proj.bias': rng(dim),
                       b + 'norm2.weight': 1 + rng(dim), b + 'norm2.bias': rng(dim),
                       b + 'mlp.fc1.weight': rng(4 * dim, dim), b + 'mlp.fc1.bias': rng(4 * dim),
                       b + 'mlp.fc2.weight': rng(dim, 4 * dim), b + 'mlp.fc2.bias': rng(dim)})
        if i < len(depths) - 1:
            d = f'backbone.layers.{i}.downsample.'
            sd.update({d + 'reduction.weight': rng(2 * dim, 4 * dim),
                       d + 'norm.weight': 1 + rng(4 * dim), d + 'norm.bias': rng(4 * dim)})
        sd[f'backbone.norm{i}.weight'] = 1 + rng(dim)
        sd[f'backbone.norm{i}.bias'] = rng(dim)
    return sd


def test_detectron2_swin_checkpoint_converts_and_loads_strictly():
    """The Swin path: official D2SwinTransformer names -> mmdet's Swin, strict;
    the patch-merging reduction is reordered to mmdet's unfold order."""
    gen = torch.Generator().manual_seed(0)

    def rng(*shape):
        return torch.randn(*shape, generator=gen) * 0.1

    cfg = Config.fromfile(osp.join(ROOT, TOY['Mask2Former'])).model
    embed, depths, heads, window = 32, [2, 2, 2, 2], [1, 2, 4, 8], 7
    cfg.backbone = ConfigDict(type='mmdet.SwinTransformer', embed_dims=embed, depths=depths,
                              num_heads=heads, window_size=window, out_indices=(0, 1, 2, 3),
                              convert_weights=False)
    cfg.panoptic_head.in_channels = [embed * 2**i for i in range(4)]
    ours = MODELS.build(cfg)
    d2 = d2_decoder_keys(6, 64, 256, 8, rng)
    pixel = d2_pixel_decoder_and_backbone(ours, rng)
    d2.update({k: v for k, v in pixel.items() if not k.startswith('backbone.')})
    d2.update(d2_swin_keys(embed, depths, heads, window, rng))
    converted = convert_mask2former_d2(d2)
    state = ours.state_dict()
    assert sorted(converted) == sorted(state)
    for k, v in converted.items():
        assert state[k].shape == v.shape, k
    ours.load_state_dict(converted, strict=True)
    # Same block weights under mmdet's names.
    assert torch.equal(converted['backbone.stages.1.blocks.0.attn.w_msa.qkv.weight'],
                       d2['backbone.layers.1.blocks.0.attn.qkv.weight'])
    assert torch.equal(converted['backbone.stages.0.blocks.1.ffn.layers.0.0.weight'],
                       d2['backbone.layers.0.blocks.1.mlp.fc1.weight'])
    # Patch merging: detectron2 concatenates the 2x2 neighbours position-major
    # as (0,0), (1,0), (0,1), (1,1); mmdet's nn.Unfold is channel-major with
    # positions (0,0), (0,1), (1,0), (1,1).
    w = d2['backbone.layers.0.downsample.reduction.weight'].view(64, 4, embed)
    expect = w[:, [0, 2, 1, 3]].transpose(1, 2).reshape(64, 4 * embed)
    assert torch.equal(converted['backbone.stages.0.downsample.reduction.weight'], expect)


def d2_panoptic_deeplab_keys(num_classes, rng):
    """detectron2's Panoptic-DeepLab R-52 DSConv COCO model: key names and
    shapes from its modules (``build_resnet_deeplab_backbone`` with the
    DeepLab stem, ``PanopticDeepLabSemSegHead`` / ``PanopticDeepLabInsEmbedHead``
    on ``DeepLabV3PlusHead`` with ``ASPP`` and ``DepthwiseSeparableConv2d``),
    written out here because detectron2 is not installed."""
    sd = {}

    def norm(prefix, c):  # SyncBN; model-zoo files carry no num_batches_tracked
        sd.update({f'{prefix}norm.{n}': rng(c) for n in
                   ('weight', 'bias', 'running_mean', 'running_var')})

    def conv(prefix, cout, cin, k, with_norm=True):
        sd[prefix + 'weight'] = rng(cout, cin, k, k)
        if with_norm:
            norm(prefix, cout)
        else:
            sd[prefix + 'bias'] = rng(cout)

    def ds_conv(prefix, cin, cout, k):
        conv(prefix + 'depthwise.', cin, 1, k)
        conv(prefix + 'pointwise.', cout, cin, 1)

    for i, (cin, cout) in enumerate(((3, 64), (64, 64), (64, 128)), 1):
        conv(f'backbone.stem.conv{i}.', cout, cin, 3)
    cin = 128
    for stage, (blocks, width) in zip(range(2, 6), ((3, 64), (4, 128), (6, 256), (3, 512))):
        for b in range(blocks):
            p = f'backbone.res{stage}.{b}.'
            conv(p + 'conv1.', width, cin, 1)
            conv(p + 'conv2.', width, width, 3)
            conv(p + 'conv3.', width * 4, width, 1)
            if b == 0:
                conv(p + 'shortcut.', width * 4, cin, 1)
            cin = width * 4

    def decoder(prefix, projections, decoder_channels):
        a = prefix + 'decoder.res5.project_conv.'
        conv(a + 'convs.0.', 256, 2048, 1)
        for i in (1, 2, 3):
            ds_conv(f'{a}convs.{i}.', 2048, 256, 3)
        conv(a + 'convs.4.1.', 256, 2048, 1, with_norm=False)
        conv(a + 'project.', 256, 5 * 256, 1)
        width = 256
        for level, cin_level, proj in zip(('res3', 'res2'), (512, 256), projections):
            conv(f'{prefix}decoder.{level}.project_conv.', proj, cin_level, 1)
            ds_conv(f'{prefix}decoder.{level}.fuse_conv.', proj + width, decoder_channels, 5)
            width = decoder_channels

    decoder('sem_seg_head.', (64, 32), 256)
    ds_conv('sem_seg_head.head.', 256, 256, 5)
    conv('sem_seg_head.predictor.', num_classes, 256, 1, with_norm=False)
    decoder('ins_embed_head.', (32, 16), 128)
    conv('ins_embed_head.center_head.0.', 128, 128, 3)
    conv('ins_embed_head.center_head.1.', 32, 128, 3)
    conv('ins_embed_head.center_predictor.', 1, 32, 1, with_norm=False)
    ds_conv('ins_embed_head.offset_head.', 128, 32, 5)
    conv('ins_embed_head.offset_predictor.', 2, 32, 1, with_norm=False)
    sd['pixel_mean'] = torch.zeros(3, 1, 1)
    return sd


def test_detectron2_panoptic_deeplab_checkpoint_converts_and_loads_strictly():
    """Every key of detectron2's model maps to ours with its shape, the load
    is strict, and the instance decoder computes what detectron2's computes
    (ASPP branches then image pooling; low-level projection then upsampled)."""
    gen = torch.Generator().manual_seed(0)

    def rng(*shape):
        return torch.rand(*shape, generator=gen) * 0.2 + (0.9 if len(shape) == 1 else -0.1)

    cfg = Config.fromfile(osp.join(ROOT, 'configs/panoptic_deeplab/'
                                   'panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py'))
    ours = MODELS.build(cfg.model).eval()
    d2 = d2_panoptic_deeplab_keys(133, rng)
    converted = convert_panoptic_deeplab_d2(d2)
    state = ours.state_dict()
    assert sorted(converted) == sorted(state)
    for k, v in converted.items():
        assert state[k].shape == v.shape, k
    ours.load_state_dict(converted, strict=True)

    def bn(x, p):
        return F.batch_norm(x, d2[p + 'norm.running_mean'], d2[p + 'norm.running_var'],
                            d2[p + 'norm.weight'], d2[p + 'norm.bias'], eps=1e-5)

    def conv(x, p, padding=0, dilation=1, groups=1):
        return F.relu(bn(F.conv2d(x, d2[p + 'weight'], padding=padding, dilation=dilation,
                                  groups=groups), p))

    def ds(x, p, k, dilation=1):
        x = conv(x, p + 'depthwise.', padding=dilation * (k // 2), dilation=dilation,
                 groups=x.shape[1])
        return conv(x, p + 'pointwise.')

    torch.manual_seed(0)
    feats = [torch.randn(1, c, s, s) for c, s in ((256, 16), (512, 8), (1024, 4), (2048, 4))]
    p = 'ins_embed_head.decoder.'
    a = p + 'res5.project_conv.'
    top = feats[-1]
    branches = [conv(top, a + 'convs.0.')]
    branches += [ds(top, f'{a}convs.{i}.', 3, d) for i, d in zip((1, 2, 3), (6, 12, 18))]
    pooled = F.relu(F.conv2d(top.mean((2, 3), keepdim=True), d2[a + 'convs.4.1.weight'],
                             d2[a + 'convs.4.1.bias'])).expand(-1, -1, 4, 4)
    y = conv(torch.cat(branches + [pooled], 1), a + 'project.')
    for level, feat in (('res3', feats[1]), ('res2', feats[0])):
        proj = conv(feat, f'{p}{level}.project_conv.')
        up = F.interpolate(y, size=proj.shape[-2:], mode='bilinear', align_corners=False)
        y = ds(torch.cat([proj, up], 1), f'{p}{level}.fuse_conv.', 5)
    with torch.no_grad():
        torch.testing.assert_close(ours.decode_head.instance_decoder(feats), y,
                                   rtol=1e-4, atol=1e-4)
        center = conv(conv(y, 'ins_embed_head.center_head.0.', padding=1),
                      'ins_embed_head.center_head.1.', padding=1)
        center = F.conv2d(center, d2['ins_embed_head.center_predictor.weight'],
                          d2['ins_embed_head.center_predictor.bias'])
        torch.testing.assert_close(ours.decode_head.center_predictor(y), center,
                                   rtol=1e-4, atol=1e-4)
    # the backbone: DeepLab stem (3 convs), res5 dilated 2, 4, 8
    assert [m.conv2.dilation for m in ours.backbone.layer4] == [(2, 2), (4, 4), (8, 8)]
    torch.testing.assert_close(converted['backbone.stem.6.weight'],
                               d2['backbone.stem.conv3.weight'])
    with pytest.raises(ConversionError, match='ins_embed_head.extra'):
        convert_panoptic_deeplab_d2({'ins_embed_head.extra.weight': torch.zeros(1)})


def test_panoptic_deeplab_converter_tool_reads_a_model_zoo_pkl(tmp_path):
    """The tool reads detectron2's pickled numpy arrays and writes a file that
    ``load_from`` / ``tools/test.py`` load strictly."""
    import pickle
    import sys

    from mmengine.runner import load_checkpoint
    sys.path.insert(0, osp.join(ROOT, 'tools', 'model_converters'))
    try:
        from panoptic_deeplab_d2_to_mmpanoptic import main
    finally:
        sys.path.pop(0)
    gen = torch.Generator().manual_seed(1)
    d2 = d2_panoptic_deeplab_keys(19, lambda *s: torch.rand(*s, generator=gen))
    src, dst = str(tmp_path / 'model_final.pkl'), str(tmp_path / 'converted.pth')
    with open(src, 'wb') as f:
        pickle.dump(dict(model={k: v.numpy() for k, v in d2.items()},
                         __author__='Detectron2 Model Zoo'), f)
    order = list(range(19))[::-1]
    main([src, dst, '--class-order', ','.join(map(str, order))])
    cfg = Config.fromfile(osp.join(ROOT, 'configs/panoptic_deeplab/'
                                   'panoptic-deeplab_r52-dsconv_os16_200k_coco-panoptic.py'))
    cfg.model.num_things_classes, cfg.model.num_stuff_classes = 8, 11
    model = MODELS.build(cfg.model)
    load_checkpoint(model, dst, strict=True)
    torch.testing.assert_close(model.decode_head.semantic_predictor[1].bias,
                               d2['sem_seg_head.predictor.bias'][order])


def test_detectron2_pkl_is_read_with_a_restricted_unpickler(tmp_path):
    """A crafted .pkl that would run code (pickle's REDUCE of os.system) is
    refused with the file and the global named; nothing runs.  Before:
    ``pickle.load`` ran it."""
    import pickle
    import sys

    sys.path.insert(0, osp.join(ROOT, 'tools', 'model_converters'))
    try:
        from panoptic_deeplab_d2_to_mmpanoptic import main
    finally:
        sys.path.pop(0)
    marker = tmp_path / 'ran'

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, (f'touch {marker}', ))

    src = str(tmp_path / 'evil.pkl')
    with open(src, 'wb') as f:
        pickle.dump(dict(model={'w': Evil()}), f)
    from ..fault_cases import FAULTS
    with pytest.raises(SystemExit, match=r'evil.pkl: refuses to unpickle (posix|os)\.system') \
            as e:
        main([src, str(tmp_path / 'out.pth')])
    assert FAULTS['pkl_code'].found_in(str(e.value))
    assert not marker.exists()
    with open(src, 'wb') as f:
        f.write(b'not a pickle')
    with pytest.raises(SystemExit, match='not a readable detectron2 .pkl'):
        main([src, str(tmp_path / 'out.pth')])


def test_image_checkpoint_loads_into_the_video_models_detector(tmp_path):
    """``load_from=EOMT.pth`` in a VidEoMT config (and an image Mask2Former
    for its video config): the image model's keys go to ``detector.``; only
    the video parts (VidEoMT's query updater) are left to their init.  A
    video checkpoint loads as it is."""
    from mmengine.runner import load_checkpoint
    video = MODELS.build(Config.fromfile(osp.join(ROOT, 'configs/video/videomt_vit-t_toy-video.py'))
                         .model)
    torch.manual_seed(1)
    image = MODELS.build(Config.fromfile(osp.join(ROOT, 'configs/eomt/eomt_vit-t_toy.py')).model)
    path = str(tmp_path / 'eomt.pth')
    torch.save(dict(state_dict=image.state_dict()), path)
    before = video.detector.query_updater.weight.clone()
    load_checkpoint(video, path, map_location='cpu')
    ours = video.state_dict()
    image_keys = image.state_dict()
    assert image_keys and all(torch.equal(ours['detector.' + k], v)
                              for k, v in image_keys.items())
    assert torch.equal(video.detector.query_updater.weight, before)
    again = MODELS.build(Config.fromfile(osp.join(ROOT, 'configs/video/videomt_vit-t_toy-video.py'))
                         .model)
    again.load_state_dict(ours)  # strict: a video checkpoint as it is
    assert all(torch.equal(again.state_dict()[k], v) for k, v in ours.items())
