"""TextEmbeddingClassifier against its formula; vocabulary swaps and the cache."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmpanoptic.models.classifiers import TextEmbeddingClassifier


class CountingEncoder(nn.Module):
    """A deterministic stand-in text encoder: a fixed random vector per text."""
    embed_dim = 8

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.table = {}
        self.dummy = nn.Parameter(torch.zeros(1))

    def vec(self, text):
        if text not in self.table:
            g = torch.Generator().manual_seed(sum(map(ord, text)) * 7919 + len(text))
            self.table[text] = torch.randn(self.embed_dim, generator=g)
        return self.table[text]

    def encode(self, texts):
        self.calls += 1
        return torch.stack([self.vec(t) for t in texts])


def test_logits_equal_the_explicit_formula_with_templates_and_synonyms():
    enc = CountingEncoder()
    clf = TextEmbeddingClassifier(in_channels=5, text_encoder=enc,
                                  vocabulary=['red disk', ['sky', 'heaven']],
                                  templates=('a photo of a {}.', 'a {}'))
    x = torch.randn(2, 3, 5)
    got = clf(x)
    assert got.shape == (2, 3, 3)

    def cls_emb(names):
        vs = [F.normalize(enc.vec(t.format(n)), dim=0) for n in names
              for t in ('a photo of a {}.', 'a {}')]
        return F.normalize(torch.stack(vs).sum(0), dim=0)

    text = torch.stack([cls_emb(['red disk']), cls_emb(['sky', 'heaven']),
                        F.normalize(clf.void_embedding.detach(), dim=0)])
    z = F.normalize(clf.proj(x), dim=-1)
    expect = clf.logit_scale.exp() * torch.einsum('bqd,kd->bqk', z, text)
    assert torch.allclose(got, expect, atol=1e-6)
    assert torch.isclose(clf.logit_scale.exp(), torch.tensor(1 / 0.07))


def test_vocabulary_swap_changes_outputs_and_invalidates_the_cache():
    enc = CountingEncoder()
    clf = TextEmbeddingClassifier(in_channels=5, text_encoder=enc, vocabulary=['a', 'b'])
    x = torch.randn(4, 5)
    first = clf(x)
    clf(x)
    assert enc.calls == 1  # cached: not encoded per call (per image)
    clf.set_vocabulary(['a', 'b', 'solar panel'])
    second = clf(x)
    assert enc.calls == 2 and second.shape == (4, 4)
    assert torch.allclose(second[:, :2], first[:, :2])  # same names, same columns
    assert not torch.allclose(second[:, 2], first[:, 2])  # the new class, void moved on
    clf.set_vocabulary(['a', 'b', 'solar panel'])
    clf(x)
    assert enc.calls == 2  # the same vocabulary again: still cached
    assert clf.vocabulary == [('a',), ('b',), ('solar panel',)]


def test_encoder_is_frozen_and_inputs_checked():
    enc = CountingEncoder()
    clf = TextEmbeddingClassifier(in_channels=5, text_encoder=enc,
                                  vocabulary=['person, people, pedestrian'])
    assert clf.vocabulary == [('person', 'people', 'pedestrian')]
    assert not enc.dummy.requires_grad
    with pytest.raises(ValueError, match='empty'):
        clf.set_vocabulary([])
    with pytest.raises(ValueError, match='template'):
        TextEmbeddingClassifier(in_channels=5, text_encoder=enc, vocabulary=['a'],
                                templates=('no slot',))


def test_mask2former_head_takes_the_text_classifier():
    import os.path as osp

    from mmengine.config import Config

    from mmpanoptic.registry import MODELS
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs/mask2former/mask2former_r18_toy.py'))
    names = ['ellipse', 'box', 'triangle', 'ring', 'sky', 'grass', 'water', 'sand']
    cfg.model.panoptic_head.classifier = dict(
        type='TextEmbeddingClassifier', text_encoder=CountingEncoder(), vocabulary=names)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        cls, masks = model.panoptic_head(model.extract_feat(torch.randn(1, 3, 64, 64)), [])
    assert cls[-1].shape == (1, 20, 9)
    cfg.model.panoptic_head.classifier['vocabulary'] = names[:3]
    with pytest.raises(ValueError, match='3 classes, the model 8'):
        MODELS.build(cfg.model)
