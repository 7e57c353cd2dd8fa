"""ODISE's diffusion backbone on a small random Stable Diffusion written with
diffusers' / transformers' ``save_pretrained`` (no download)."""
import os.path as osp

import pytest
import torch

diffusers = pytest.importorskip('diffusers', reason='diffusers (the tests extra) is ODISE\'s UNet')

from mmengine.config import Config  # noqa: E402

from mmpanoptic.models.backbones.diffusion_backbone import DiffusionBackbone  # noqa: E402
from mmpanoptic.registry import MODELS  # noqa: E402
from mmpanoptic.testing.diffusion import tiny_stable_diffusion  # noqa: E402

from ..e2e_utils import ROOT  # noqa: E402


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    # the captioner's CLIP embeds in the tiny text tower's 32 dims below: it
    # is also ODISE's MaskCLIP head
    return tiny_stable_diffusion(tmp_path_factory.mktemp('odise'), captioner_dim=32)


def test_features_are_odise_taps_at_four_strides_and_only_the_new_parts_train(folders):
    sd, clip = folders
    backbone = DiffusionBackbone(pretrained=sd, captioner=clip, projection_dim=64)
    # ODISE's taps: UNet decoder resnets 2, 5, 8, 11 (inputs, after the skip
    # concatenation), VAE encoder blocks 5, 7 and decoder blocks 2, 5 (outputs)
    ups = backbone.unet.up_blocks
    vae = backbone.vae
    expected = [ups[0].resnets[2], ups[1].resnets[2], ups[2].resnets[2], ups[3].resnets[2],
                vae.encoder.down_blocks[2].resnets[1], vae.encoder.down_blocks[3].resnets[1],
                vae.decoder.up_blocks[0].resnets[2], vae.decoder.up_blocks[1].resnets[2]]
    assert [t[0] for t in backbone.taps] == expected
    assert [t[3] for t in backbone.taps] == [64, 32, 16, 8, 4, 8, 8, 4]
    assert backbone.strides == [4, 8, 16, 32]

    # the tapped UNet input is the concatenation of the running state and the skip
    seen = {}
    ups[3].resnets[2].register_forward_pre_hook(lambda m, a: seen.update(input=a[0]))
    x = torch.rand(2, 3, 96, 80) * 2 - 1
    outs = backbone(x)
    assert seen['input'].shape[1] == ups[3].resnets[2].in_channels == 64
    assert [tuple(o.shape) for o in outs] == [(2, 64, 24, 20), (2, 64, 12, 10),
                                              (2, 64, 6, 5), (2, 64, 3, 3)]
    sum(o.mean() for o in outs).backward()
    trainable = {n.split('.')[0] for n, p in backbone.named_parameters() if p.requires_grad}
    assert trainable == {'projections', 'alpha_cond', 'clip_project', 'time_embed_project',
                         'alpha_cond_time_embed'}
    assert backbone.alpha_cond.grad.abs().sum() > 0  # the captioner trains through the UNet
    assert all(p.grad is None for p in backbone.unet.parameters())


def test_noise_step_and_the_empty_caption(folders):
    """The latent is noised by the scheduler's q(x_t | x_0) at ``step`` with
    the fixed seed-42 noise; with zero alphas (the start of training) the
    UNet's context is the empty caption's text-encoder states."""
    from diffusers import DDPMScheduler
    from transformers import CLIPTextModel, CLIPTokenizer
    sd, clip = folders
    backbone = DiffusionBackbone(pretrained=sd, captioner=clip, step=100, projection_dim=64)
    scheduler = DDPMScheduler.from_pretrained(sd, subfolder='scheduler')
    acp = scheduler.alphas_cumprod[100]
    latent = torch.randn(1, 4, 64, 64)
    noise = torch.randn(1, 4, 64, 64, generator=torch.Generator().manual_seed(42))
    torch.testing.assert_close(
        backbone.scheduler.add_noise(latent, backbone.shared_noise, torch.tensor([100])),
        acp.sqrt() * latent + (1 - acp).sqrt() * noise)
    tokenizer = CLIPTokenizer.from_pretrained(sd, subfolder='tokenizer')
    ids = tokenizer([''], padding='max_length', max_length=77, return_tensors='pt').input_ids
    assert ids[0, :2].tolist() == [0, 1] and (ids[0, 2:] == 1).all()  # bos, eos, eos-padded
    with torch.no_grad():
        empty = CLIPTextModel.from_pretrained(sd, subfolder='text_encoder')(ids)[0]
        context, time_cond = backbone.conditioning(torch.zeros(2, 3, 64, 64))
    torch.testing.assert_close(context, empty.expand(2, -1, -1))
    assert time_cond.abs().max() == 0
    with torch.no_grad():
        backbone.alpha_cond.fill_(0.5)
        moved, _ = backbone.conditioning(torch.zeros(2, 3, 64, 64))
    assert (moved - context).abs().max() > 0


def test_missing_folder_parts_are_named(tmp_path):
    (tmp_path / 'unet').mkdir()
    with pytest.raises(FileNotFoundError, match='no vae/ folder'):
        DiffusionBackbone(pretrained=str(tmp_path))
    with pytest.raises(ValueError, match='needs pretrained='):
        DiffusionBackbone()


def test_odise_config_builds_and_predicts_on_the_tiny_diffusion_model(folders):
    """configs/open_vocab/odise_*: the config's model with the tiny folders
    (and a tiny CLIP text tower; the captioner's CLIP as the MaskCLIP head)
    predicts panoptic segments."""
    from mmdet.structures import DetDataSample

    from mmpanoptic.models.classifiers.text_encoders import CLIPTextEncoder
    sd, clip = folders
    cfg = Config.fromfile(osp.join(ROOT, 'configs/open_vocab/odise_sd-v1.3_label_coco-panoptic.py'))
    assert cfg.model.backbone.type == 'DiffusionBackbone'
    cfg.model.backbone.update(pretrained=sd, captioner=clip, projection_dim=64)
    assert cfg.model.type == 'ODISE' and cfg.model.clip_head.pretrained == cfg.captioner_folder
    cfg.model.clip_head.update(pretrained=clip, last_layer=1)
    cfg.model.panoptic_head.in_channels = [64] * 4
    cfg.model.panoptic_head.num_queries = 20
    cfg.model.panoptic_head.classifier.text_encoder = CLIPTextEncoder(arch=(32, 32, 4, 1))
    cfg.model.panoptic_head.classifier.templates = 'none'
    cfg.model.data_preprocessor.batch_augments = None
    cfg.model.fusion.update(object_mask_thr=0.0, iou_thr=0.0)
    model = MODELS.build(cfg.model).eval()
    meta = dict(img_shape=(64, 64), ori_shape=(64, 64), batch_input_shape=(64, 64),
                pad_shape=(64, 64))
    with torch.no_grad():
        pred = model.predict(torch.rand(1, 3, 64, 64) * 2 - 1,
                             [DetDataSample(metainfo=meta)])[0].pred_panoptic_seg
    assert pred.segments_info and all(0 <= s['label'] < 133 for s in pred.segments_info)
