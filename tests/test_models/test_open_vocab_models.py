"""Open vocabulary in the models: vocabulary swaps on MaskFormer, Mask2Former
and K-Net; FC-CLIP's ensemble against hand computation; the FC-CLIP model."""
import math
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

from mmpanoptic.models.backbones import CLIPResNet
from mmpanoptic.models.classifiers import CLIPTextEncoder, geometric_ensemble, mask_pool
from mmpanoptic.registry import MODELS

from .test_text_classifier import CountingEncoder

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_NAMES = ['ellipse', 'box', 'triangle', 'ring', 'sky', 'grass', 'water', 'sand']


def sample(h=64, w=64):
    return DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                       batch_input_shape=(h, w), pad_shape=(h, w)))


def open_vocab(path, **head):
    cfg = Config.fromfile(osp.join(ROOT, path))
    cfg.model.panoptic_head.update(head, classifier=dict(
        type='TextEmbeddingClassifier', text_encoder=CountingEncoder(), vocabulary=TOY_NAMES))
    return MODELS.build(cfg.model).eval()


@pytest.mark.parametrize('path,head', [
    ('configs/mask2former/mask2former_r18_toy.py', {}),
    ('configs/maskformer/maskformer_r18_toy.py', {}),
    # K-Net's open vocabulary uses the softmax recipe: the official one ties
    # stuff kernel j to stuff class j, so the stuff count cannot change.
    ('configs/knet/knet-s3_r18_fpn_softmax_toy.py', dict(num_stuff_kernels=4)),
])
def test_vocabulary_swap_in_every_query_model(path, head):
    torch.manual_seed(0)
    model = open_vocab(path, **head)
    assert len(model.text_classifiers()) >= 1
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        cls8, _ = model.inference_logits(x, [sample()])
        assert cls8.shape[-1] == 9
        new = ['solar panel', 'car', 'person', 'road', 'sky', 'lake']
        model.set_vocabulary(new, num_things=3)
        cls6, _ = model.inference_logits(x, [sample()])
        # untrained: keep every query so that the label checks see segments
        model.fusion.object_mask_thr, model.fusion.iou_thr = 0.0, 0.0
        out = model.predict(x, [sample()])[0].pred_panoptic_seg
    assert cls6.shape[-1] == 7  # 6 classes + no object, no rebuild, no reload
    assert model.fusion.num_things == 3 and model.fusion.num_stuff == 3
    assert out.segments_info and all(0 <= s['label'] < 6 for s in out.segments_info)
    for s in out.segments_info:
        assert bool(s['isthing']) == (s['label'] < 3)
    if 'knet' in path:  # one text encoder shared by the three stages
        encoders = {id(c.text_encoder) for c in model.text_classifiers()}
        assert len(model.text_classifiers()) == 3 and len(encoders) == 1


def test_closed_model_refuses_a_vocabulary():
    model = MODELS.build(Config.fromfile(
        osp.join(ROOT, 'configs/mask2former/mask2former_r18_toy.py')).model)
    with pytest.raises(TypeError, match='TextEmbeddingClassifier'):
        model.set_vocabulary(['a', 'b'], 1)


def test_geometric_ensemble_by_hand():
    # one query, classes (seen, unseen), void last
    p_in = torch.tensor([0.6, 0.1, 0.3])
    p_out = torch.tensor([0.2, 0.8])
    seen_mask = torch.tensor([True, False])
    # official: p_in over the two classes without void (0.6 / 0.7, 0.1 / 0.7)
    got = geometric_ensemble(p_in.log()[None], p_out.log()[None], seen_mask,
                             alpha=0.4, beta=0.8).exp()[0]
    seen = (0.6 / 0.7) ** 0.6 * 0.2 ** 0.4
    unseen = (0.1 / 0.7) ** 0.2 * 0.8 ** 0.8
    expect = torch.tensor([seen / (seen + unseen) * 0.7, unseen / (seen + unseen) * 0.7, 0.3])
    assert torch.allclose(got, expect, atol=1e-6)
    assert math.isclose(float(got.sum()), 1.0, abs_tol=1e-6)
    # 'joint': the class columns of the softmax over all three
    joint = geometric_ensemble(p_in.log()[None], p_out.log()[None], seen_mask,
                               alpha=0.4, beta=0.8, void='joint').exp()[0]
    seen, unseen = 0.6 ** 0.6 * 0.2 ** 0.4, 0.1 ** 0.2 * 0.8 ** 0.8
    expect = torch.tensor([seen / (seen + unseen) * 0.7, unseen / (seen + unseen) * 0.7, 0.3])
    assert torch.allclose(joint, expect, atol=1e-6)
    assert not torch.allclose(joint, got, atol=1e-3)  # the two readings differ
    # alpha = beta = 0 (or an invalid mask): the in-vocabulary probabilities
    same = geometric_ensemble(p_in.log()[None], p_out.log()[None], seen_mask,
                              alpha=0.0, beta=0.0).exp()[0]
    assert torch.allclose(same, p_in, atol=1e-6)
    two = torch.stack([p_in, p_in]).log()
    masked = geometric_ensemble(two, torch.stack([p_out, p_out]).log(), seen_mask,
                                valid=torch.tensor([True, False])).exp()
    assert torch.allclose(masked[0], got, atol=1e-6)
    assert torch.allclose(masked[1], p_in, atol=1e-6)
    with pytest.raises(ValueError, match='shapes disagree'):
        geometric_ensemble(torch.zeros(1, 3), torch.zeros(1, 3), torch.ones(3, dtype=bool))
    with pytest.raises(ValueError, match='void'):
        geometric_ensemble(p_in[None], p_out[None], seen_mask, void='drop')


def test_mask_pool_by_hand():
    feats = torch.tensor([[1., 2.], [3., 4.]]).view(1, 1, 2, 2).repeat(1, 2, 1, 1)
    feats[:, 1] *= 10
    big = 30.0
    masks = torch.tensor([[[big, -big], [big, -big]],  # left column
                          [[0.0, 0.0], [0.0, 0.0]],  # logit 0: empty as a binary mask
                          [[1.0, -1.0], [-big, -big]]])[None]  # top-left pixel
    pooled = mask_pool(feats, masks)
    assert torch.allclose(pooled[0, 0], torch.tensor([2.0, 20.0]), atol=1e-4)
    assert torch.allclose(pooled[0, 1], torch.zeros(2))
    assert torch.allclose(pooled[0, 2], torch.tensor([1.0, 10.0]), atol=1e-4)
    soft = mask_pool(feats, masks, binary=False)  # sigmoid weights: 0.5 everywhere
    assert torch.allclose(soft[0, 1], torch.tensor([2.5, 25.0]), atol=1e-4)
    # masks at another resolution are resized to the features
    assert mask_pool(feats, masks.repeat_interleave(2, -1).repeat_interleave(2, -2)).shape \
        == (1, 3, 2)


def test_clip_mask_embed_by_hand():
    """CLIP's attention pool restricted to a mask: one pixel -> that pixel's
    value projection; a mask with no pixel -> flagged invalid, no NaN."""
    torch.manual_seed(0)
    tower = CLIPResNet(arch=((1, 1, 1, 1), 16, 32, 64))
    with torch.no_grad():
        tower.attnpool.positional_embedding.normal_()
    res5 = torch.randn(1, 512, 2, 2)
    masks = torch.full((1, 3, 2, 2), -5.0)
    masks[0, 0, 1, 0] = 5.0  # one pixel
    masks[0, 1] = 5.0  # everything
    emb, valid = tower.mask_embed(res5, masks)
    assert valid.tolist() == [[True, True, False]] and emb.isfinite().all()
    pos = tower.attnpool.positional_embedding[1:].t().reshape(1, 512, 2, 2)  # 2 x 2 grid
    pixel = res5[0, :, 1, 0] + pos[0, :, 1, 0]
    expect = tower.attnpool.c_proj(tower.attnpool.v_proj(pixel))
    assert torch.allclose(emb[0, 0], expect, atol=1e-4)
    # the whole mask: softmax-weighted values of all four pixels, 8 heads of 64
    kv = (res5 + pos).flatten(2)[0].t()  # (4, 512)
    q = tower.attnpool.q_proj(res5.flatten(2).mean(-1)[0] + tower.attnpool.positional_embedding[0])
    k, v = tower.attnpool.k_proj(kv), tower.attnpool.v_proj(kv)
    heads = []
    for h in range(8):
        sl = slice(64 * h, 64 * (h + 1))
        w = (k[:, sl] @ q[sl] / 8.0).softmax(0)
        heads.append(w @ v[:, sl])
    assert torch.allclose(emb[0, 1], tower.attnpool.c_proj(torch.cat(heads)), atol=1e-4)


def tiny_fcclip(tmp_path=None):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/open_vocab/'
                                   'fcclip_clip-rn50_lsj-50e_coco-panoptic.py'))
    cfg.model.backbone = CLIPResNet(arch=((1, 1, 1, 1), 16, 32, 64))
    cfg.model.panoptic_head.in_channels = [64, 128, 256, 512]
    cfg.model.panoptic_head.num_queries = 10
    cfg.model.panoptic_head.classifier.text_encoder = CLIPTextEncoder(arch=(32, 32, 4, 1))
    cfg.model.panoptic_head.classifier.templates = 'none'
    cfg.model.data_preprocessor.batch_augments = None
    return MODELS.build(cfg.model).eval()


def test_fcclip_predicts_with_the_ensemble_and_marks_seen_classes():
    torch.manual_seed(0)
    model = tiny_fcclip()
    assert model.num_classes == 133 and model.seen_mask().all()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        logp, masks = model.inference_logits(x, [sample()])
        assert logp.shape == (1, 10, 134)
        assert torch.allclose(logp.exp().sum(-1), torch.ones(1, 10), atol=1e-4)
        # the ensemble is what the model feeds the fusion
        feats = model.backbone(x)
        cls, m = model.panoptic_head(feats, [sample().metainfo])
        emb, valid = model.backbone.mask_embed(feats[-1], m[-1])
        out = model.classifier.class_logits(torch.nn.functional.normalize(emb, dim=-1), 100.0)
        expect = geometric_ensemble(cls[-1], out, model.seen_mask(), valid=valid)
        assert torch.allclose(logp, expect, atol=1e-5)
        model.set_vocabulary(['person, people', 'solar panel', 'sky', 'road'], num_things=2)
        assert model.seen_mask().tolist() == [True, False, False, True]  # COCO has road
        # random weights: keep every query so that there are segments to check
        model.fusion.object_mask_thr, model.fusion.iou_thr = 0.0, 0.0
        pred = model.predict(x, [sample()])[0].pred_panoptic_seg
    assert pred.segments_info
    assert all(0 <= s['label'] < 4 for s in pred.segments_info)


def test_fcclip_checks_its_parts():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/open_vocab/'
                                   'fcclip_clip-rn50_lsj-50e_coco-panoptic.py'))
    cfg.model.backbone = CLIPResNet(arch=((1, 1, 1, 1), 16, 32, 64))
    cfg.model.panoptic_head.in_channels = [64, 128, 256, 512]
    cfg.model.panoptic_head.classifier.text_encoder = CLIPTextEncoder(arch=(16, 32, 4, 1))
    with pytest.raises(ValueError, match='must be one CLIP model'):
        MODELS.build(cfg.model)


@pytest.mark.parametrize('clip', ['rn50', 'convnext-l'])
@pytest.mark.parametrize('dataset', ['ade20k', 'cityscapes', 'mapillary-vistas'])
def test_zero_shot_configs_predict_with_their_vocabulary(dataset, clip):
    """The COCO-trained FC-CLIP (RN50 or ConvNeXt-L CLIP, random weights
    here) switched to the zero-shot dataset's bundled vocabulary predicts in
    its label space."""
    from mmpanoptic.models.backbones import CLIPConvNeXt
    from mmpanoptic.vocabularies import load_vocabulary

    from ..test_configs import without_clip_weights
    cfg = Config.fromfile(osp.join(
        ROOT, f'configs/open_vocab/fcclip_clip-{clip}_coco-panoptic_zero-shot_{dataset}.py'))
    without_clip_weights(cfg.model, cfg.clip_checkpoint)
    # The config's own model, with tiny CLIP towers of its kind (the full
    # text tower costs most of a minute for 150 names on CPU;
    # tests/test_configs.py builds the full one).
    torch.manual_seed(0)  # the weights (and so the segments) do not depend on test order
    if clip == 'rn50':
        cfg.model.backbone = CLIPResNet(arch=((1, 1, 1, 1), 16, 32, 64))
    else:
        assert cfg.model.backbone.type == 'CLIPConvNeXt' and cfg.model.clip_pooling == 'mean'
        cfg.model.backbone = CLIPConvNeXt(arch=((1, 1, 1, 1), (64, 128, 256, 512), 32, 'mlp'))
    cfg.model.panoptic_head.in_channels = [64, 128, 256, 512]
    cfg.model.panoptic_head.num_queries = 50
    cfg.model.panoptic_head.classifier.text_encoder = CLIPTextEncoder(arch=(32, 32, 4, 1))
    cfg.model.panoptic_head.classifier.templates = 'none'  # 14 templates: slow on CPU
    cfg.model.data_preprocessor.batch_augments = None
    model = MODELS.build(cfg.model).eval()
    hook = [h for h in cfg.custom_hooks if h['type'] == 'TextVocabularyHook'][0]
    vocab = load_vocabulary(hook['vocabularies']['test'])
    assert cfg.test_dataloader.dataset.data_root.startswith('data/')
    model.set_vocabulary(vocab.classes, vocab.num_things)
    seen = model.seen_mask()
    assert 0 < int(seen.sum()) < len(vocab.classes)  # shares some COCO classes, not all
    model.fusion.object_mask_thr, model.fusion.iou_thr = 0.0, 0.0  # keep every query
    with torch.no_grad():
        pred = model.predict(torch.randn(1, 3, 64, 64), [sample()])[0].pred_panoptic_seg
    assert pred.segments_info, 'every query chose "no object"'
    assert all(0 <= s['label'] < len(vocab.classes) for s in pred.segments_info)


def test_fcclip_stores_each_weight_once():
    model = tiny_fcclip()
    keys = list(model.state_dict())
    assert not any(k.startswith('classifier.') for k in keys)
    assert any(k.startswith('panoptic_head.cls_embed.text_encoder.') for k in keys)


def test_official_knet_takes_a_vocabulary_with_its_stuff_count_only():
    torch.manual_seed(0)
    model = open_vocab('configs/knet/knet-s3_r18_fpn_toy.py')
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        cls, _ = model.inference_logits(x, [sample()])
        assert cls.shape[-1] == 8  # sigmoid scores: the void column is dropped
        model.set_vocabulary(['car', 'person', 'bus', 'road', 'sky', 'lake', 'sand'], 3)
        # untrained masks may all be below probability 0.5 (no segment can
        # form): shift them up so that the label checks see segments
        model.fusion.instance_score_thr, model.fusion.overlap_thr = 0.0, 0.0
        outputs = model.predict_outputs(x, [sample()])
        outputs['mask_logits'] = outputs['mask_logits'] - outputs['mask_logits'].mean() + 1.0
        ids, segments = model.fusion(outputs, [sample().metainfo])[0]['panoptic']
        assert segments and all(0 <= s['label'] < 7 for s in segments)
        assert {s['label'] for s in segments if not s['isthing']} <= {3, 4, 5, 6}
        model.set_vocabulary(['car', 'person', 'road', 'sky'], num_things=2)
        with pytest.raises(ValueError, match='one kernel per stuff class'):
            model.predict(x, [sample()])


def test_knet_stores_its_shared_text_encoder_once():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/knet/knet-s3_r18_fpn_toy.py'))
    cfg.model.panoptic_head.classifier = dict(
        type='TextEmbeddingClassifier', text_encoder=CLIPTextEncoder(arch=(16, 32, 4, 1)),
        vocabulary=TOY_NAMES)
    model = MODELS.build(cfg.model)
    keys = [k for k in model.state_dict() if '.text_encoder.' in k]
    assert keys and all(k.startswith('panoptic_head.cls_heads.0.') for k in keys)
    encoders = {id(c.text_encoder) for c in model.text_classifiers()}
    assert len(model.text_classifiers()) == 3 and len(encoders) == 1


ZERO_SHOT_VIDEO = 'fcclip_clip-convnext-l_online-tracker_coco-zero-shot_{}.py'
OV_DVIS = '{}_fcclip_clip-convnext-l_coco-pseudo-video_zero-shot_vipseg.py'


@pytest.mark.parametrize('config,classes', [
    (ZERO_SHOT_VIDEO.format('vipseg'), 124), (ZERO_SHOT_VIDEO.format('cityscapes-vps'), 19),
    (ZERO_SHOT_VIDEO.format('kitti-step'), 19), (OV_DVIS.format('ov-dvis'), 124),
    (OV_DVIS.format('ov-dvis-offline'), 124)])
def test_zero_shot_video_configs_track_with_the_datasets_vocabulary(config, classes):
    """The COCO-trained FC-CLIP ConvNeXt-L + online tracker, or OV-DVIS++
    (online / offline) on it (tiny random towers here) switched to the
    video dataset's bundled vocabulary: every frame's labels are in it and
    a segment keeps its id across two frames that are the same picture."""
    from mmpanoptic.models.backbones import CLIPConvNeXt
    from mmpanoptic.vocabularies import load_vocabulary

    from ..test_configs import without_clip_weights
    cfg = Config.fromfile(osp.join(ROOT, 'configs/video', config))
    detector = cfg.model.detector
    without_clip_weights(detector, cfg.clip_checkpoint)
    torch.manual_seed(0)
    detector.backbone = CLIPConvNeXt(arch=((1, 1, 1, 1), (64, 128, 256, 512), 32, 'mlp'))
    detector.panoptic_head.in_channels = [64, 128, 256, 512]
    detector.panoptic_head.num_queries = 30
    detector.panoptic_head.classifier.text_encoder = CLIPTextEncoder(arch=(32, 32, 4, 1))
    detector.panoptic_head.classifier.templates = 'none'
    detector.data_preprocessor.batch_augments = None
    detector.fusion.update(object_mask_thr=0.0, iou_thr=0.0)  # keep every query
    model = MODELS.build(cfg.model).eval()
    hook = [h for h in cfg.custom_hooks if h['type'] == 'TextVocabularyHook'][0]
    assert hook['vocabularies']['test'] == hook['vocabularies']['val']
    vocab = load_vocabulary(hook['vocabularies']['test'])
    assert len(vocab.classes) == classes
    assert cfg.test_dataloader.dataset.type == 'VideoPanopticDataset'
    model.set_vocabulary(vocab.classes, vocab.num_things)
    x = torch.randn(1, 3, 64, 64)
    samples = [sample() for _ in range(2)]
    for t, s in enumerate(samples):
        s.set_metainfo(dict(video_id=0, frame_id=t))
    with torch.no_grad():  # one batch: the offline model's whole video
        frames = [s.pred_panoptic_seg for s in model.predict(torch.cat([x, x]), samples)]
    for pred in frames:
        assert pred.segments_info and all(0 <= s['label'] < classes for s in pred.segments_info)
    ids = [{s['id'] for s in pred.segments_info} for pred in frames]
    assert ids[0] & ids[1]  # the same picture twice: ids carried over
