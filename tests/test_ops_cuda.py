"""CUDA kernels of mmcv's ops (deformable attention, DCNv2, RoIAlign) against
their CPU / PyTorch results, forward and backward.  Skipped without a GPU;
``benchmarks/gpu_check.py`` runs the same checks and reports the figures."""
import pytest
import torch

from mmpanoptic.testing.cuda_ops import CHECKS, TOLERANCES

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU'),
]


@pytest.mark.parametrize('name', sorted(CHECKS))
def test_cuda_kernel_matches_cpu(name):
    from mmcv.ops import get_compiling_cuda_version
    if get_compiling_cuda_version() == 'not available':
        pytest.fail('a GPU is present but mmcv was built without CUDA kernels: rerun '
                    'tools/setup_env.sh where nvcc is on PATH')
    diffs = CHECKS[name]('cuda')
    assert max(diffs.values()) <= TOLERANCES[name], diffs
