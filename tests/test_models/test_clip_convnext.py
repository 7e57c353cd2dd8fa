"""CLIPConvNeXt and CLIPTextEncoder against open_clip itself (run in a
subprocess by mmpanoptic.testing.open_clip_reference, since open_clip and
timm import torchvision, which does not load with the CPU torch here)."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmpanoptic.models.backbones.clip_convnext import CLIP_CONVNEXT_ARCHS, CLIPConvNeXt
from mmpanoptic.models.classifiers.open_vocab_ensemble import mask_pool
from mmpanoptic.models.classifiers.text_encoders import CLIPTextEncoder, clip_tokenize

from ..e2e_utils import ROOT

# Not imported here: both import torchvision (see open_clip_reference).
if importlib.util.find_spec('open_clip') is None or importlib.util.find_spec('timm') is None:
    pytest.skip('open-clip-torch and timm are the reference (tools/setup_env.sh installs them '
                'with the tests extra)', allow_module_level=True)


def reference(out_dir, *args):
    subprocess.run([sys.executable, '-m', 'mmpanoptic.testing.open_clip_reference',
                    str(out_dir), *args], cwd=ROOT, check=True, capture_output=True, timeout=300)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp('open_clip')
    reference(out, '--model', 'convnext_large_d_320', '--tiny')
    return out


def test_convnext_tower_and_text_tower_equal_open_clip(tiny):
    """A small model in convnext_large_d_320's layout (timm's ConvNeXt at
    depths 1-1-2-1, open_clip's MLP head, 2-layer text tower) with random
    weights: our towers load open_clip's state dict strictly and give its
    stage features, image embedding, FC-CLIP's per-mask head and text
    embeddings; our tokenizer gives open_clip's ids."""
    ckpt = str(tiny / 'open_clip.pt')
    inputs = torch.load(tiny / 'inputs.pt')
    ref = torch.load(tiny / 'outputs.pt')
    image_tower = CLIPConvNeXt(arch=((1, 1, 2, 1), (32, 64, 96, 128), 48, 'mlp'),
                               checkpoint=ckpt)
    with torch.no_grad():
        stages = image_tower(inputs['image'])
        for ours, theirs in zip(stages, ref['stages']):
            assert ours.shape == theirs.shape
            torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(image_tower.image_embed(inputs['image']), ref['encode_image'],
                                   atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(image_tower.embed(inputs['pooled']), ref['per_mask'],
                                   atol=1e-4, rtol=1e-4)
    assert ref['per_mask'].abs().mean() > 0.1  # not a comparison of near-zero outputs

    tokens = clip_tokenize(inputs['texts'])
    assert torch.equal(tokens, ref['tokens'])
    text_tower = CLIPTextEncoder(arch=(48, 64, 4, 2), checkpoint=ckpt, normalize=False)
    with torch.no_grad():
        torch.testing.assert_close(text_tower(tokens), ref['encode_text'], atol=1e-4, rtol=1e-4)


def test_full_size_keys_and_shapes_match_open_clips_model(tmp_path):
    """convnext_large_d_320 (FC-CLIP's CLIP): every key and shape of
    open_clip's model (built on the meta device) is what our two towers
    load: the image tower under ``visual.``, the text tower at the root
    (all but open_clip's ``logit_scale``, which FC-CLIP does not use)."""
    reference(tmp_path, '--model', 'convnext_large_d_320', '--keys')
    theirs = json.load(open(tmp_path / 'keys.json'))
    with torch.device('meta'):
        image_tower = CLIPConvNeXt(model_name='convnext_large_d_320')
        text_tower = CLIPTextEncoder(model_name='convnext_large_d_320')
    ours = {f'visual.{k}': list(v.shape) for k, v in image_tower.state_dict().items()}
    ours.update({k: list(v.shape) for k, v in text_tower.state_dict().items()})
    assert {k: v for k, v in theirs.items() if k != 'logit_scale'} == ours
    assert image_tower.out_channels == [192, 384, 768, 1536] and image_tower.embed_dim == 768


def test_checkpoint_errors_name_the_file_and_key(tiny, tmp_path):
    ckpt = str(tiny / 'open_clip.pt')
    with pytest.raises(ValueError, match='open_clip.pt: visual.trunk.stem.0.weight has shape'):
        CLIPConvNeXt(arch=((1, 1, 2, 1), (40, 64, 96, 128), 48, 'mlp'), checkpoint=ckpt)
    with pytest.raises(KeyError, match="no CLIP ConvNeXt under prefix 'vision.'"):
        CLIPConvNeXt(arch=((1, 1, 2, 1), (32, 64, 96, 128), 48, 'mlp'), checkpoint=ckpt,
                     prefix='vision.')
    with pytest.raises(KeyError, match='unknown CLIP ConvNeXt'):
        CLIPConvNeXt(model_name='convnext_huge')
    assert set(CLIP_CONVNEXT_ARCHS) >= {'convnext_large_d_320', 'convnext_base_w'}


def test_mask_pooled_embedding_is_fcclip_convnext_path(tiny):
    """FC-CLIP's ConvNeXt classification of a mask: the binary-mask average
    of the last stage, then the tower's head (what FCCLIP(clip_pooling=
    'mean') computes with this backbone), equals open_clip's head on the
    same pooled vector."""
    tower = CLIPConvNeXt(arch=((1, 1, 2, 1), (32, 64, 96, 128), 48, 'mlp'),
                         checkpoint=str(tiny / 'open_clip.pt'))
    torch.manual_seed(0)
    res5 = torch.randn(1, 128, 4, 6)
    masks = torch.randn(1, 3, 16, 24) * 5
    pooled = mask_pool(res5, masks)
    inside = torch.nn.functional.interpolate(masks, size=(4, 6), mode='bilinear',
                                             align_corners=False) > 0
    by_hand = torch.stack([res5[0][:, m].mean(1) for m in inside[0]])[None]
    torch.testing.assert_close(pooled, by_hand)
    assert tower.embed(pooled).shape == (1, 3, 48)
    assert osp.isfile(tiny / 'open_clip.pt')
