"""Hub checkpoints in, the same numbers out: small random transformers models
(saved with ``save_pretrained``, as a hub folder) are converted by
``tools/model_converters/hf_to_mmpanoptic.py`` and compared with
transformers itself: class and mask logits on the same pixel tensor, and
``PanopticInferencer``'s segments against transformers' image processor +
``post_process_panoptic_segmentation`` on an image (label and IoU >= 0.99
each, no extra or missing segment)."""
import os.path as osp
import runpy

import numpy as np
import pytest
import torch

from mmpanoptic.fileio import CheckpointConversionError

from ..e2e_utils import ROOT
from ..extras import require

transformers = require('transformers', 'transformers')
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'hf_to_mmpanoptic.py')
LABELS = {i: f'class {i}' for i in range(7)}


def convert(hf_dir, out_dir, *args):
    runpy.run_path(TOOL)['main']([str(hf_dir), str(out_dir), *map(str, args)])


def image(seed=0, shape=(50, 70)):
    """A picture with structure: blobs of colour on noise."""
    rng = np.random.default_rng(seed)
    img = (rng.random((*shape, 3)) * 80).astype(np.uint8)
    for _ in range(6):
        y, x = rng.integers(0, shape[0] - 10), rng.integers(0, shape[1] - 10)
        img[y:y + rng.integers(5, 20), x:x + rng.integers(5, 25)] = rng.integers(0, 255, 3)
    return img


def eomt(dinov3=False, seed=0):
    torch.manual_seed(seed)
    common = dict(hidden_size=64, num_hidden_layers=4, num_attention_heads=4, image_size=64,
                  patch_size=8, num_blocks=2, num_queries=14, num_register_tokens=4,
                  num_upscale_blocks=1, id2label=LABELS,
                  label2id={v: k for k, v in LABELS.items()})
    if dinov3:
        cfg = transformers.EomtDinov3Config(intermediate_size=128, **common)
        model = transformers.EomtDinov3ForUniversalSegmentation(cfg)
    else:
        model = transformers.EomtForUniversalSegmentation(transformers.EomtConfig(**common))
    from transformers.models.eomt.image_processing_pil_eomt import EomtImageProcessorPil
    return model.eval(), EomtImageProcessorPil(size=dict(shortest_edge=64, longest_edge=64),
                                               do_pad=True)


def _backbone(kind):
    stages = ['stage1', 'stage2', 'stage3', 'stage4']
    if kind == 'resnet':
        return transformers.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32, 64, 128],
                                         depths=[1, 1, 1, 1], layer_type='bottleneck',
                                         out_features=stages)
    return transformers.SwinConfig(image_size=64, embed_dim=16, depths=[1, 1, 2, 1],
                                   num_heads=[1, 2, 2, 4], window_size=4, out_features=stages)


def mask2former(backbone, seed=0):
    torch.manual_seed(seed)
    cfg = transformers.Mask2FormerConfig(
        backbone_config=_backbone(backbone), feature_size=32, mask_feature_size=32, hidden_dim=32,
        encoder_feedforward_dim=64, encoder_layers=2, decoder_layers=4, num_attention_heads=4,
        dim_feedforward=64, num_queries=14, id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()})
    from transformers.models.mask2former.image_processing_pil_mask2former import (
        Mask2FormerImageProcessorPil,
    )
    return (transformers.Mask2FormerForUniversalSegmentation(cfg).eval(),
            Mask2FormerImageProcessorPil(size=dict(shortest_edge=64, longest_edge=96),
                                         size_divisor=32))


def maskformer(backbone, seed=0):
    """Decoder wider (64) than the FPN (32): the query layers follow the decoder."""
    torch.manual_seed(seed)
    cfg = transformers.MaskFormerConfig(
        backbone_config=_backbone(backbone), fpn_feature_size=32, mask_feature_size=32,
        decoder_config=dict(model_type='detr', d_model=64, decoder_layers=2,
                            decoder_attention_heads=4, decoder_ffn_dim=64, num_queries=14),
        id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
    from transformers.models.maskformer.image_processing_pil_maskformer import (
        MaskFormerImageProcessorPil,
    )
    return (transformers.MaskFormerForInstanceSegmentation(cfg).eval(),
            MaskFormerImageProcessorPil(size=dict(shortest_edge=64, longest_edge=96),
                                        size_divisor=32))


def detr(seed=0):
    """DETR's masks live on its 1/32 grid: a larger input (8 x 12 cells)."""
    torch.manual_seed(seed)
    cfg = transformers.DetrConfig(
        use_timm_backbone=False, backbone_config=_backbone('resnet'), d_model=64,
        encoder_layers=1, decoder_layers=2, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=64, decoder_ffn_dim=64, num_queries=14,
        id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
    from transformers.models.detr.image_processing_pil_detr import DetrImageProcessorPil
    return (transformers.DetrForSegmentation(cfg).eval(),
            DetrImageProcessorPil(size=dict(shortest_edge=256, longest_edge=384)))


MODELS = {'eomt': lambda: eomt(), 'eomt_dinov3': lambda: eomt(dinov3=True),
          'mask2former_resnet': lambda: mask2former('resnet'),
          'mask2former_swin': lambda: mask2former('swin'),
          'maskformer_resnet': lambda: maskformer('resnet'),
          'maskformer_swin': lambda: maskformer('swin'),
          'detr': lambda: detr()}
THINGS = '0,2,4,5'  # interleaved with stuff: the class rows are permuted


@pytest.mark.parametrize('name', sorted(MODELS))
def test_logits_equal_transformers_on_the_same_pixels(name, tmp_path):
    """Random weights (EoMT's attention masks on: attn_mask_probs = 1)."""
    from mmpanoptic.apis import PanopticInferencer
    model, proc = MODELS[name]()
    model.save_pretrained(tmp_path / 'hf')
    proc.save_pretrained(tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'out', '--things', THINGS)
    ours = PanopticInferencer(str(tmp_path / 'out' / 'config.py'),
                              str(tmp_path / 'out' / 'weights.pth'))
    pixels = proc(images=[image()], return_tensors='pt')['pixel_values']
    with torch.no_grad():
        ref = model(pixel_values=pixels)
        got = ours.model.predict_outputs(pixels, [_sample(pixels)])
    rows = ours.category_ids + [len(LABELS)]
    assert sorted(ours.category_ids[:4]) == [0, 2, 4, 5]  # things first
    if name == 'detr':
        cls, masks = ref.logits, ref.pred_masks
        torch.testing.assert_close(got['boxes'], ref.pred_boxes, atol=1e-5, rtol=1e-5)
    else:
        cls, masks = ref.class_queries_logits, ref.masks_queries_logits
    torch.testing.assert_close(got['cls_logits'], cls[..., rows], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got['mask_logits'], masks, atol=1e-4, rtol=1e-4)


def _sample(pixels):
    from mmdet.structures import DetDataSample
    h, w = pixels.shape[-2:]
    return DetDataSample(metainfo=dict(img_shape=(h, w), batch_input_shape=(h, w),
                                       ori_shape=(h, w)))


@pytest.mark.parametrize('name', sorted(MODELS))
def test_inferencer_segments_equal_transformers_pipeline(name, tmp_path):
    """Weights made decisive (mmpanoptic.testing.hf_reference) so that many
    queries survive the thresholds; our pipeline from the image file up
    against transformers' processor + model + post-processing."""
    from mmpanoptic.apis import PanopticInferencer
    from mmpanoptic.testing.hf_reference import compare_segments, make_decisive
    model, proc = MODELS[name]()
    img = image(seed=1)
    make_decisive(model, proc(images=[img], return_tensors='pt')['pixel_values'])
    model.save_pretrained(tmp_path / 'hf')
    proc.save_pretrained(tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'out', '--things', THINGS)
    ours = PanopticInferencer(str(tmp_path / 'out' / 'config.py'),
                              str(tmp_path / 'out' / 'weights.pth'))(img)[0]
    with torch.no_grad():
        outputs = model(**proc(images=[img], return_tensors='pt'))
    ref = proc.post_process_panoptic_segmentation(outputs, target_sizes=[img.shape[:2]])[0]
    assert len(ref['segments_info']) >= 8, ref['segments_info']
    assert {s['category_id'] for s in ours['segments_info']} & {0, 2, 4, 5}  # things too
    assert compare_segments(ours['ids'], ours['segments_info'], ref['segmentation'],
                            ref['segments_info']) is None
    # --fuse-stuff: transformers with the stuff labels to fuse
    convert(tmp_path / 'hf', tmp_path / 'fused', '--things', THINGS, '--fuse-stuff')
    fused = PanopticInferencer(str(tmp_path / 'fused' / 'config.py'),
                               str(tmp_path / 'fused' / 'weights.pth'))(img)[0]
    stuff = {1, 3, 6}
    kw = dict(stuff_classes=sorted(stuff)) if 'eomt' in name else \
        dict(label_ids_to_fuse=stuff)  # Mask2Former, MaskFormer, DETR
    ref = proc.post_process_panoptic_segmentation(outputs, target_sizes=[img.shape[:2]],
                                                  **kw)[0]
    labels = [s['category_id'] for s in fused['segments_info'] if s['category_id'] in stuff]
    assert len(labels) == len(set(labels))  # one segment per stuff class
    if 'eomt' in name:  # Mask2Former's processor renumbers fused ids inconsistently
        assert compare_segments(fused['ids'], fused['segments_info'], ref['segmentation'],
                                ref['segments_info']) is None


def test_coco_names_split_by_the_bundled_vocabulary(tmp_path):
    from mmpanoptic.vocabularies import vocabulary_entries
    names = [e['name'] for e in vocabulary_entries('coco_panoptic')]
    torch.manual_seed(0)
    cfg = transformers.EomtConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  image_size=32, patch_size=8, num_blocks=1, num_queries=4,
                                  num_upscale_blocks=1, id2label=dict(enumerate(names)),
                                  label2id={n: i for i, n in enumerate(names)})
    transformers.EomtForUniversalSegmentation(cfg).save_pretrained(tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'out')
    ckpt = torch.load(tmp_path / 'out' / 'weights.pth', weights_only=False)
    meta = ckpt['meta']['dataset_meta']
    assert len(meta['thing_classes']) == 80 and meta['classes'][0] == 'person'
    assert meta['classes'][80] == 'banner' and meta['category_ids'][:3] == [0, 1, 2]


def test_bad_input_is_named(tmp_path, capsys):
    model, proc = eomt()
    model.save_pretrained(tmp_path / 'hf')
    with pytest.raises(SystemExit, match='cannot split the 7 labels .*class 0.*--things'):
        convert(tmp_path / 'hf', tmp_path / 'out')
    with pytest.raises(SystemExit, match=r"--things names 'tree'"):
        convert(tmp_path / 'hf', tmp_path / 'out', '--things', 'tree')
    with pytest.raises(SystemExit, match='not a folder'):
        convert(tmp_path / 'nope', tmp_path / 'out')
    (tmp_path / 'hf' / 'model.safetensors').unlink()
    with pytest.raises(SystemExit, match='neither model.safetensors nor pytorch_model.bin'):
        convert(tmp_path / 'hf', tmp_path / 'out', '--things', '0')
    cfg = transformers.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, architectures=['BertModel'])
    transformers.BertModel(cfg).save_pretrained(tmp_path / 'bert')
    with pytest.raises(SystemExit, match="model class 'BertModel' is not converted"):
        convert(tmp_path / 'bert', tmp_path / 'out')


def test_hub_backbones_load_strictly(tmp_path):
    """DINOv2 with registers and DINOv3, saved as hub folders, load into our
    ViT (the pretrained weights of EoMT's configs) with the same outputs."""
    from mmpanoptic.models.backbones import ViT
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    for kind in ('dinov2', 'dinov3'):
        if kind == 'dinov2':
            cfg = transformers.Dinov2WithRegistersConfig(
                hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=256, image_size=64, patch_size=8, num_register_tokens=4,
                layerscale_value=0.5)
            hf = transformers.Dinov2WithRegistersModel(cfg)
            vit = ViT(embed_dims=64, depth=3, num_heads=4, patch_size=8, img_size=64,
                      pretrained=str(tmp_path / kind))
        else:
            cfg = transformers.DINOv3ViTConfig(
                hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=256, image_size=64, patch_size=8, num_register_tokens=4,
                layerscale_value=0.5)
            hf = transformers.DINOv3ViTModel(cfg)
            vit = ViT(embed_dims=64, depth=3, num_heads=4, patch_size=8, img_size=64, rope=True,
                      key_bias=False, eps=cfg.layer_norm_eps, pretrained=str(tmp_path / kind))
        hf.eval().save_pretrained(tmp_path / kind)
        vit.init_weights()
        vit.eval()
        with torch.no_grad():
            ref = hf(pixel_values=x).last_hidden_state
            tokens, _, rope = vit.embed(x)
            for block in vit.blocks:
                tokens = block(tokens, rope=rope)
        torch.testing.assert_close(vit.norm(tokens), ref, atol=1e-5, rtol=1e-5)
    # another patch size: the kernel is resampled, the strict load still passes
    other = ViT(embed_dims=64, depth=3, num_heads=4, patch_size=16, img_size=64,
                pretrained=str(tmp_path / 'dinov2'))
    other.init_weights()
    wrong = ViT(embed_dims=64, depth=2, num_heads=4, patch_size=8, img_size=64,
                pretrained=str(tmp_path / 'dinov2'))
    with pytest.raises(CheckpointConversionError, match='blocks.2'):
        wrong.init_weights()
