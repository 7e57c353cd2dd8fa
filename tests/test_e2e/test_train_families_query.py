"""Every query-based family (and the open-vocabulary and video models built
on them, SAN and ODISE included) learns in the default tier: a short training on a tiny toy set
must beat the same config untrained (same seed, same initial weights) by the
stated margin (tests/tiny_training.py)."""
import pytest

from mmpanoptic.datasets import make_toy_panoptic, make_toy_video
from mmpanoptic.datasets.toy_open_vocab import make_toy_open_vocab

from ..tiny_training import untrained_and_trained

# family: (config, data, steps, metric, margin[, learning-rate factor]).  Trained minus untrained,
# measured on seeds 0 / 1 / 2 (tiny toy sets at 64 px: 16 train / 8 val
# images, or 4 train / 2 val videos of 4 frames; see the comment of each
# margin); the margin is about half the smallest gain.
FAMILIES = {
    # PQ 0.0 -> 10.6, 0.0 -> 17.0, 0.0 -> 11.6
    'maskformer': ('configs/maskformer/maskformer_r18_toy.py', 'image', 120, 'panoptic/PQ',
                   5.0),
    # PQ 0.0 -> 23.7, 0.0 -> 13.8, 0.0 -> 29.6
    'mask2former': ('configs/mask2former/mask2former_r18_toy.py', 'image', 100, 'panoptic/PQ',
                    6.0),
    # a small ViT from scratch, its last 3 blocks taking the queries:
    # PQ 0.0 -> 44.9, 0.0 -> 52.7, 0.0 -> 52.6
    'eomt': ('configs/eomt/eomt_vit-t_toy.py', 'image', 100, 'panoptic/PQ', 22.0),
    # PQ 0.0 -> 7.7, 0.0 -> 11.3, 0.0 -> 9.4 (stuff only this early)
    'knet': ('configs/knet/knet-s3_r18_fpn_toy.py', 'image', 120, 'panoptic/PQ', 3.5),
    # the vocabulary switches from the 12 base to all 16 thing classes at test;
    # PQ 0.6 -> 13.4, 0.6 -> 10.5, 0.0 -> 20.5
    'open_vocab': ('configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py', 'ov',
                   100, 'panoptic/PQ', 5.0),
    # the image model trains on the frames; the test tracks ids (VPQ over
    # windows): VPQ 0.0 -> 25.0, 0.0 -> 18.3, 0.0 -> 17.8
    'video': ('configs/video/mask2former_r18_online-tracker_toy-video.py', 'video', 100,
              'video/VPQ', 8.0),
    # SAN: a side adapter beside a small frozen random CLIP-layout ViT, the
    # MiniLM class layer, at twice the toy learning rate:
    # PQ 0.0 -> 30.1, 2.3 -> 18.8, 0.0 -> 12.4
    'san': ('configs/open_vocab/san_vit-tiny_toy.py', 'image', 200, 'panoptic/PQ', 6.0, 2.0),
    # ODISE: frozen random small Stable Diffusion features (UNet, VAE
    # encoder and decoder taps, implicit captioner) under the toy
    # Mask2Former: PQ 0.0 -> 5.6, 0.0 -> 6.7, 0.0 -> 10.6
    'odise': ('configs/open_vocab/odise_sd-tiny_toy.py', 'image', 100, 'panoptic/PQ', 2.8),
    # VidEoMT: the toy EoMT with its queries carried frame to frame, trained
    # on frame pairs: VPQ 0.0 -> 13.5, 0.0 -> 15.4, 0.0 -> 22.7
    'videomt': ('configs/video/videomt_vit-t_toy-video.py', 'video', 100, 'video/VPQ', 6.5),
}


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp('tiny_query')
    out = dict(image=str(base / 'image'), ov=str(base / 'ov'), video=str(base / 'video'))
    make_toy_panoptic(out['image'], num_train=16, num_val=8, height=64, width=64,
                      progress=False)
    make_toy_open_vocab(out['ov'], num_train=16, num_val=8, height=64, width=64,
                        progress=False)
    make_toy_video(out['video'], num_train=4, num_val=2, num_frames=4, height=64, width=64,
                   progress=False)
    return out


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_family_learns_on_tiny_toy_data(family, roots, tmp_path):
    config, data, steps, metric, margin, *lr_mult = FAMILIES[family]
    before, after = untrained_and_trained(config, roots[data], str(tmp_path), steps, seed=0,
                                          evaluators=None if data == 'video' else 'image',
                                          lr_mult=lr_mult[0] if lr_mult else 1.0)
    print(family, metric, f'untrained {before[metric]:.2f} trained {after[metric]:.2f}')
    assert after[metric] >= before[metric] + margin
