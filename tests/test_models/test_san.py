"""SAN on a small random transformers CLIP written with save_pretrained."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

from mmpanoptic.models.backbones import CLIPViT
from mmpanoptic.registry import MODELS
from mmpanoptic.testing.diffusion import tiny_clip

from ..e2e_utils import ROOT

CONFIG = 'configs/open_vocab/san_clip-vit-b16_coco-panoptic.py'


@pytest.fixture(scope='module')
def clip_folder(tmp_path_factory):
    return tiny_clip(tmp_path_factory.mktemp('san'))


def test_zero_bias_sos_tokens_are_clips_image_embedding(clip_folder):
    """Each [SOS] token starts as the class token and, with zero attention
    biases, sees what the class token sees: its embedding is transformers'
    ``CLIPVisionModelWithProjection`` image embedding; a bias that hides
    half of the patches changes it."""
    from transformers import CLIPVisionModelWithProjection
    ref = CLIPVisionModelWithProjection.from_pretrained(clip_folder).eval()
    ours = CLIPViT(pretrained=clip_folder, last_layer=2, resolution=1.0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = ref(pixel_values=x).image_embeds
        feats = ours(x)
        torch.testing.assert_close(ours.image_embed(x), expected, atol=1e-5, rtol=1e-5)
        sos = ours.recognize(feats, [torch.zeros(2, 4, 3, 8, 8)])
        assert sos.shape == (2, 3, 24)
        for q in range(3):
            torch.testing.assert_close(sos[:, q], expected, atol=1e-5, rtol=1e-5)
        bias = torch.zeros(2, 1, 3, 8, 8)
        bias[:, :, 1, :, 4:] = -100.0  # query 1 sees the left half only
        masked = ours.recognize(feats, [bias])
    torch.testing.assert_close(masked[:, 0], expected, atol=1e-5, rtol=1e-5)
    assert (masked[:, 1] - expected).abs().max() > 1e-3
    assert expected.abs().mean() > 0.1
    trainable = [n for n, p in ours.named_parameters() if p.requires_grad]
    assert trainable == ['embeddings.position_embedding.weight']


def test_san_config_trains_and_predicts(clip_folder):
    """The config's SAN with the tiny CLIP (and a small adapter): losses for
    both decoded adapter blocks, gradients to the adapter and CLIP's
    positional embedding only, and panoptic segments in the vocabulary."""
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.model.backbone.update(pretrained=clip_folder, last_layer=2)
    cfg.model.panoptic_head.update(
        num_queries=10, embed_dims=32, num_heads=4, depth=3, img_size=64,
        deep_supervision=(2, 3))
    cfg.model.panoptic_head['fusion_map'] = {0: 0, 1: 1, 2: 2}  # CLIP layer -> adapter block
    cfg.model.panoptic_head.classifier.text_encoder.pretrained = clip_folder
    cfg.model.panoptic_head.classifier.templates = 'none'
    cfg.model.data_preprocessor.batch_augments = None
    model = MODELS.build(cfg.model)
    from mmengine.structures import InstanceData, PixelData
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                         batch_input_shape=(64, 64), pad_shape=(64, 64)))
    masks = torch.zeros(2, 64, 64, dtype=torch.bool)
    masks[0, :32] = True
    masks[1, 32:] = True
    from mmdet.structures.mask import BitmapMasks
    sample.gt_instances = InstanceData(labels=torch.tensor([0, 2]),
                                       masks=BitmapMasks(masks.numpy(), 64, 64))
    sample.gt_sem_seg = PixelData(sem_seg=torch.full((1, 64, 64), 255))
    model.train()
    losses = model.loss(torch.randn(1, 3, 64, 64), [sample])
    assert any(k.startswith('d0.') for k in losses) and 'loss_cls' in losses
    total = sum(v for v in losses.values() if v.requires_grad)
    total.backward()
    grads = {n.split('.')[0] for n, p in model.named_parameters() if p.grad is not None}
    assert grads <= {'panoptic_head', 'backbone'}
    assert model.backbone.embeddings.position_embedding.weight.grad is not None
    assert all(p.grad is None for n, p in model.backbone.named_parameters()
               if n != 'embeddings.position_embedding.weight')
    model.eval()
    # random weights: keep every query and every pixel it wins, and put "no
    # object" opposite the masks' CLIP embeddings so that a class wins
    model.fusion.object_mask_thr, model.fusion.iou_thr = 0.0, 0.0
    model.fusion.filter_low_score = False
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        clip = model.backbone(x)
        _, biases = model.panoptic_head(x, clip)
        sos = model.backbone.recognize(clip, biases[-1])
        model.panoptic_head.classifier.void_embedding.copy_(-sos.mean((0, 1)))
        pred = model.predict(x, [sample])[0].pred_panoptic_seg
    assert pred.segments_info and all(0 <= s['label'] < 133 for s in pred.segments_info)
    model.set_vocabulary(['cat', 'dog', 'grass'], num_things=2)
    with torch.no_grad():
        pred = model.predict(x, [sample])[0].pred_panoptic_seg
    assert pred.segments_info and all(0 <= s['label'] < 3 for s in pred.segments_info)


@pytest.mark.parametrize('dataset,classes', [('pascal-context-59', 59),
                                             ('pascal-context-459', 459),
                                             ('ade20k-847', 847)])
def test_zero_shot_semantic_configs_give_semantic_maps_in_the_vocabulary(clip_folder, dataset,
                                                                         classes):
    """SAN's zero-shot semantic configs: the fusion's semantic map (what
    their SemanticIoUMetric reads) in the benchmark's label space."""
    from mmpanoptic.vocabularies import load_vocabulary
    cfg = Config.fromfile(osp.join(
        ROOT, f'configs/open_vocab/san_clip-vit-b16_coco-panoptic_zero-shot_{dataset}.py'))
    assert cfg.model.fusion.semantic_on
    assert [e['type'] for e in cfg.test_evaluator] == ['SemanticIoUMetric']
    hook = [h for h in cfg.custom_hooks if h['type'] == 'TextVocabularyHook'][0]
    vocab = load_vocabulary(hook['vocabularies']['test'])
    assert len(vocab.classes) == classes and vocab.num_things == 0
    cfg.model.backbone.update(pretrained=clip_folder, last_layer=2)
    cfg.model.panoptic_head.update(num_queries=10, embed_dims=32, num_heads=4, depth=3,
                                   img_size=64, deep_supervision=(2, 3))
    cfg.model.panoptic_head['fusion_map'] = {0: 0, 1: 1, 2: 2}
    cfg.model.panoptic_head.classifier.text_encoder.pretrained = clip_folder
    cfg.model.panoptic_head.classifier.templates = 'none'
    cfg.model.data_preprocessor.batch_augments = None
    model = MODELS.build(cfg.model).eval()
    model.set_vocabulary(vocab.classes, vocab.num_things)
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                         batch_input_shape=(64, 64), pad_shape=(64, 64)))
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 64, 64), [sample])[0]
    sem = out.pred_sem_seg.sem_seg
    assert sem.shape[-2:] == (64, 64) and 0 <= int(sem.min()) and int(sem.max()) < classes


def test_maskclip_of_a_full_mask_is_clips_image_embedding(clip_folder):
    """ODISE's MaskCLIP (:meth:`CLIPViT.mask_embed`): a mask token that sees
    every patch and the class token is the class token, so its embedding is
    transformers' image embedding of the image resized to CLIP's input; a
    mask over part of the image gives another embedding, an empty one a
    finite one (the class token alone), and the result does not depend on
    the other masks of the batch."""
    from transformers import CLIPVisionModelWithProjection
    ref = CLIPVisionModelWithProjection.from_pretrained(clip_folder).eval()
    ours = CLIPViT(pretrained=clip_folder, last_layer=2)
    x = torch.randn(2, 3, 48, 80)  # any size: resized to CLIP's 64 x 64
    masks = torch.full((2, 3, 12, 20), -10.0)
    masks[:, 0] = 10.0  # everything
    masks[:, 1, :, :10] = 10.0  # the left half
    with torch.no_grad():
        resized = torch.nn.functional.interpolate(x, size=(64, 64), mode='bilinear',
                                                  align_corners=False)
        expected = ref(pixel_values=resized).image_embeds
        emb = ours.mask_embed(x, masks)
        alone = ours.mask_embed(x, masks[:, 1:2])
    assert emb.shape == (2, 3, 24) and emb.isfinite().all()
    torch.testing.assert_close(emb[:, 0], expected, atol=1e-5, rtol=1e-5)
    assert (emb[:, 1] - expected).abs().max() > 1e-3
    assert (emb[:, 2] - emb[:, 1]).abs().max() > 1e-3
    torch.testing.assert_close(alone[:, 0], emb[:, 1], atol=1e-5, rtol=1e-5)
