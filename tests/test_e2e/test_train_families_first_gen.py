"""Every first-generation family learns in the default tier: a short
training on a tiny toy set must beat the same config untrained (same seed,
same initial weights) by the stated margin (tests/tiny_training.py)."""
import pytest

from mmpanoptic.datasets import make_toy_panoptic

from ..tiny_training import untrained_and_trained

# family: (config, steps, metric, margin).  Trained minus untrained, measured
# on seeds 0 / 1 / 2 (tiny toy set: 16 train / 8 val images at 64 px; see
# the comment of each margin); the margin is about half the smallest gain.
FAMILIES = {
    # PQ 1.2 -> 24.7, 1.0 -> 31.2, 0.0 -> 35.5
    'panoptic_fpn': ('configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py', 40, 'panoptic/PQ',
                     12.0),
    # PQ 0.0 -> 28.5, 0.0 -> 30.2, 0.0 -> 28.9
    'upsnet': ('configs/upsnet/upsnet_r18_fpn_toy.py', 40, 'panoptic/PQ', 14.0),
    # PQ 1.0 -> 15.6, 0.0 -> 17.6, 0.0 -> 18.0
    'panoptic_deeplab': ('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py', 60,
                         'panoptic/PQ', 7.0),
}


@pytest.fixture(scope='module')
def tiny_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('tiny_toy'))
    make_toy_panoptic(root, num_train=16, num_val=8, height=64, width=64, progress=False)
    return root


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_family_learns_on_tiny_toy_data(family, tiny_root, tmp_path):
    config, steps, metric, margin = FAMILIES[family]
    before, after = untrained_and_trained(config, tiny_root, str(tmp_path), steps, seed=0)
    print(family, metric, f'untrained {before[metric]:.2f} trained {after[metric]:.2f}')
    assert after[metric] >= before[metric] + margin
