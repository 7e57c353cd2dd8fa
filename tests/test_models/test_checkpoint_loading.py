"""mmdet and detectron2 Mask2Former weights load into our models."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config, ConfigDict

from mmpanoptic.models.converters import ConversionError, convert_mask2former_d2
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
    assert len(cls_o) == len(cls_t)
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
    sd.update({pd + 'adapter_1.weight': rng(64, 64, 1, 1), pd + 'adapter_1.norm.weight': rng(64),
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
    missing = [k for k in state if k not in converted and not k.endswith('num_batches_tracked')]
    assert not missing
    for k, v in converted.items():
        assert state[k].shape == v.shape, k
    ours.load_state_dict(converted, strict=False)
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
