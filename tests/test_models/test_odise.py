"""ODISE's class path: the pooled mask embedding, the text-side projection
and the MaskCLIP ensemble at test time (small random CLIP written with
save_pretrained)."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.config import Config

from mmpanoptic.models.classifiers import TextEmbeddingClassifier, geometric_ensemble
from mmpanoptic.registry import MODELS
from mmpanoptic.testing.diffusion import tiny_clip

from ..e2e_utils import ROOT
from .test_text_classifier import CountingEncoder

TOY = 'configs/mask2former/mask2former_r18_toy.py'


@pytest.fixture(scope='module')
def clip_folder(tmp_path_factory):
    return tiny_clip(tmp_path_factory.mktemp('odise'))


def toy_head(**changes):
    cfg = Config.fromfile(osp.join(ROOT, TOY))
    cfg.model.panoptic_head.update(num_classes=5, **changes)
    return MODELS.build(cfg.model.panoptic_head)


def test_pooled_mask_embed_classifies_each_query_from_its_own_mask():
    """The class layer reads MLP(norm(proj(mean of the mask features where
    the query's mask logit > 0)) + query) (ODISE's PooledMaskEmbed); no
    gradient reaches the masks through the pooling."""
    torch.manual_seed(0)
    head = toy_head(pooled_mask_embed=dict(projection_dim=16))
    assert head.cls_embed.in_features == 16
    queries = torch.randn(2, 4, head.query_feat.embedding_dim, requires_grad=True)
    feats = torch.randn(2, head.mask_embed[-1].out_features, 6, 5)
    cls, masks, _ = head.predict_layer(queries, feats, None)
    pooled = head.pooled_embed
    normed = head.transformer_decoder.post_norm(queries)
    for b in range(2):
        for q in range(4):
            inside = masks[b, q] > 0
            assert 0 < inside.sum() < inside.numel()
            mean = feats[b][:, inside].mean(-1)
            expect = head.cls_embed(pooled.mask_embed(pooled.pool_proj(mean) + normed[b, q]))
            torch.testing.assert_close(cls[b, q], expect, atol=1e-5, rtol=1e-5)
    grad_masks, = torch.autograd.grad(cls.sum(), [masks], allow_unused=True)
    assert grad_masks is None


def test_text_side_projection_and_empty_text_void():
    """project='text' (ODISE's CategoryEmbed): logits are the scaled cosine
    of the embeddings with the *projected* text embeddings; the void
    embedding starts as the empty text's embedding, projected the same way."""
    torch.manual_seed(0)
    enc = CountingEncoder()
    layer = TextEmbeddingClassifier(in_channels=5, text_encoder=enc, vocabulary=['cat', 'dog'],
                                    project='text')
    torch.testing.assert_close(layer.void_embedding.detach(), F.normalize(enc.vec(''), dim=0))
    x = torch.randn(3, 5)
    out = layer(x)
    text = F.normalize(layer.text_proj(torch.stack([F.normalize(enc.vec(t), dim=0)
                                                    for t in ('cat', 'dog', '')])), dim=-1)
    expect = layer.logit_scale_value() * F.normalize(x, dim=-1) @ text.t()
    torch.testing.assert_close(out, expect, atol=1e-5, rtol=1e-5)
    out.sum().backward()
    assert layer.text_proj.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="'text'"):
        TextEmbeddingClassifier(in_channels=5, text_encoder=enc, vocabulary=['a'],
                                project='image')


def test_odise_ensembles_its_classes_with_maskclip(clip_folder):
    """At test time ODISE's class scores are the geometric ensemble (alpha
    0.3 seen, beta 0.7 unseen) of the head's and MaskCLIP's on the CLIP
    input re-normalised from the data preprocessor's."""
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, TOY))
    cfg.model.update(type='ODISE', num_things_classes=2, num_stuff_classes=1,
                     clip_head=dict(type='CLIPViT', pretrained=clip_folder, last_layer=2))
    cfg.model.panoptic_head.update(
        pooled_mask_embed=dict(projection_dim=16),
        classifier=dict(type='TextEmbeddingClassifier', project='text', templates='none',
                        text_encoder=dict(type='HFCLIPTextEncoder', pretrained=clip_folder),
                        vocabulary=['cat', 'dog', 'sky']))
    model = MODELS.build(cfg.model).eval()
    assert not any(p.requires_grad for p in model.clip_head.parameters())
    x = torch.randn(1, 3, 64, 64)
    meta = dict(img_shape=(64, 64), ori_shape=(64, 64), batch_input_shape=(64, 64),
                pad_shape=(64, 64))
    model.set_vocabulary(['cat', 'zebra', 'sky'], num_things=2)
    assert model.seen_mask().tolist() == [True, False, True]
    with torch.no_grad():
        out = model.predict_outputs(x, [DetDataSample(metainfo=meta)])
        cls, masks, _, _ = model.head_outputs(x, [DetDataSample(metainfo=meta)])
        pre = model.data_preprocessor
        pixels = (x * pre.std + pre.mean) / 255
        clip_x = (pixels - torch.tensor([0.48145466, 0.4578275, 0.40821073])[:, None, None]) \
            / torch.tensor([0.26862954, 0.26130258, 0.27577711])[:, None, None]
        emb = model.clip_head.mask_embed(clip_x, masks[-1])
        clip_logits = model.classifier.class_logits(F.normalize(emb, dim=-1), 100.0)
    expect = geometric_ensemble(cls[-1], clip_logits, torch.tensor([True, False, True]),
                                alpha=0.3, beta=0.7)
    torch.testing.assert_close(out['cls_logits'], expect, atol=1e-5, rtol=1e-5)
    assert (out['cls_logits'] - cls[-1].log_softmax(-1)).abs().max() > 1e-3


def test_odise_class_path_trains():
    """A training step of ODISE's class path (pooled mask embedding, text-side
    projection, no CLIP head in training) gives gradients to both."""
    from .test_dvis import clip_sample
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, TOY))
    cfg.model.update(type='ODISE', num_things_classes=2, num_stuff_classes=1)
    cfg.model.panoptic_head.update(
        pooled_mask_embed=dict(projection_dim=16),
        classifier=dict(type='TextEmbeddingClassifier', project='text',
                        text_encoder=CountingEncoder(), vocabulary=['cat', 'dog', 'sky']))
    model = MODELS.build(cfg.model).train()
    samples = [clip_sample(0, t, [(1, 0, (4, 4)), (2, 1, (20, 20))], num_things=2, stuff=2)
               for t in range(2)]
    data = model.data_preprocessor(dict(inputs=[torch.randint(0, 255, (3, 32, 32),
                                                              dtype=torch.uint8)] * 2,
                                        data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    model.parse_losses(losses)[0].backward()
    head = model.panoptic_head
    for part in (head.pooled_embed, head.cls_embed.text_proj):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
