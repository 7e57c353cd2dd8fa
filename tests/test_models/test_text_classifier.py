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


@pytest.mark.parametrize('reduce', ['max', 'mean'])
def test_logits_equal_the_explicit_formula_with_templates_and_synonyms(reduce):
    enc = CountingEncoder()
    templates = ('a photo of a {}.', 'a {}')
    clf = TextEmbeddingClassifier(in_channels=5, text_encoder=enc,
                                  vocabulary=['red disk', ['sky', 'heaven']],
                                  templates=templates, synonym_reduce=reduce)
    x = torch.randn(2, 3, 5)
    got = clf(x)
    assert got.shape == (2, 3, 3)

    def synonym_emb(name):  # templates averaged, as FC-CLIP does
        vs = [F.normalize(enc.vec(t.format(name)), dim=0) for t in templates]
        return F.normalize(torch.stack(vs).mean(0), dim=0)

    z = F.normalize(clf.proj(x), dim=-1)
    scale = clf.logit_scale.exp()
    disk, sky, heaven = (scale * z @ synonym_emb(n) for n in ('red disk', 'sky', 'heaven'))
    if reduce == 'max':  # a class scores as its best synonym
        sky_logit = torch.maximum(sky, heaven)
    else:  # one embedding: the synonyms' mean
        sky_logit = scale * z @ F.normalize(synonym_emb('sky') + synonym_emb('heaven'), dim=0)
    void = scale * z @ F.normalize(clf.void_embedding.detach(), dim=0)
    assert torch.allclose(got, torch.stack([disk, sky_logit, void], -1), atol=1e-5)
    assert torch.isclose(scale, torch.tensor(1 / 0.07))
    with torch.no_grad():  # CLIP's clamp: the scale never exceeds 100
        clf.logit_scale.fill_(10.0)
    assert torch.allclose(clf(x), 100.0 / scale * got, atol=1e-3)
    with pytest.raises(ValueError, match='synonym_reduce'):
        TextEmbeddingClassifier(in_channels=5, text_encoder=enc, vocabulary=['a'],
                                synonym_reduce='first')


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


def test_fixed_temperature_is_a_buffer_and_checkpoints_load_either_way():
    """learn_temperature=False (SAN: CLIP's fixed scale 100) keeps the
    scale out of the parameters; a state dict of either kind loads into the
    other."""
    fixed = TextEmbeddingClassifier(in_channels=4, text_encoder=CountingEncoder(),
                                    vocabulary=['a', 'b'], init_temperature=0.01,
                                    learn_temperature=False)
    learned = TextEmbeddingClassifier(in_channels=4, text_encoder=CountingEncoder(),
                                      vocabulary=['a', 'b'], init_temperature=0.07)
    assert 'logit_scale' not in dict(fixed.named_parameters())
    assert float(fixed.logit_scale_value()) == pytest.approx(100.0)
    fixed.load_state_dict(learned.state_dict())
    assert float(fixed.logit_scale_value()) == pytest.approx(1 / 0.07)
    learned.load_state_dict(TextEmbeddingClassifier(
        in_channels=4, text_encoder=CountingEncoder(), vocabulary=['a'], init_temperature=0.01,
        learn_temperature=False).state_dict())
    assert float(learned.logit_scale_value()) == pytest.approx(100.0)
