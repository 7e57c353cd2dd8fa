"""benchmarks/query_model_fps.py (what gpu_check.py times EoMT / VidEoMT with)
runs image and video configs through their own pipeline and fusion."""
import os.path as osp
import sys

import pytest

from ..e2e_utils import ROOT

sys.path.insert(0, osp.join(ROOT, 'benchmarks'))


@pytest.mark.parametrize('config', ['configs/eomt/eomt_vit-t_toy.py',
                                    'configs/video/videomt_vit-t_toy-video.py'])
def test_query_model_fps_times_the_config(config):
    from query_model_fps import measure
    row = measure(config, size=64, frames=2, device='cpu')
    assert row['fps'] > 0 and row['frames'] == 2 and row['segments_per_frame'] >= 0
