"""CUDA kernels of mmcv's compiled ops against their CPU / PyTorch results.

Used by ``tests/test_ops_cuda.py`` (marked ``cuda``, skipped without a GPU)
and ``benchmarks/gpu_check.py``.  Each check runs forward and backward on the
same random inputs on both devices and returns the largest absolute
differences of the output and of every input gradient.  The reference side:

- ``MultiScaleDeformableAttention``: mmcv's pure-PyTorch
  ``multi_scale_deformable_attn_pytorch`` (the op has no CPU kernel), in
  float64;
- ``ModulatedDeformConv2d`` (DCNv2) and ``RoIAlign``: mmcv's own CPU kernels.
"""
from typing import Dict

import torch


def _grads(outputs: torch.Tensor, inputs, seed: int = 0):
    g = torch.Generator(device='cpu').manual_seed(seed)
    upstream = torch.randn(outputs.shape, generator=g, dtype=outputs.dtype).to(outputs.device)
    return torch.autograd.grad(outputs, inputs, upstream)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach().double().cpu() - b.detach().double().cpu()).abs().max())


def check_msda(device: str = 'cuda', seed: int = 0) -> Dict[str, float]:
    """Deformable attention: mmcv's CUDA kernel vs the PyTorch formula."""
    from mmcv.ops.multi_scale_deform_attn import (
        MultiScaleDeformableAttnFunction,
        multi_scale_deformable_attn_pytorch,
    )
    g = torch.Generator().manual_seed(seed)
    bs, heads, dim, queries, levels, points = 2, 4, 8, 30, 3, 4
    shapes = torch.tensor([[12, 16], [6, 8], [3, 4]])
    start = torch.cat([shapes.new_zeros(1), (shapes[:, 0] * shapes[:, 1]).cumsum(0)[:-1]])
    length = int((shapes[:, 0] * shapes[:, 1]).sum())
    value = torch.rand(bs, length, heads, dim, generator=g, dtype=torch.float64)
    loc = torch.rand(bs, queries, heads, levels, points, 2, generator=g, dtype=torch.float64)
    weights = torch.rand(bs, queries, heads, levels, points, generator=g, dtype=torch.float64)
    weights = weights / weights.sum((-1, -2), keepdim=True)

    ref_in = [t.clone().requires_grad_() for t in (value, loc, weights)]
    ref = multi_scale_deformable_attn_pytorch(ref_in[0], shapes, ref_in[1], ref_in[2])
    ref_grads = _grads(ref, ref_in, seed)

    dev_in = [t.to(device).requires_grad_() for t in (value, loc, weights)]
    out = MultiScaleDeformableAttnFunction.apply(dev_in[0], shapes.to(device),
                                                 start.to(device), dev_in[1], dev_in[2], 64)
    dev_grads = _grads(out, dev_in, seed)
    return dict(forward=_max_diff(out, ref), grad_value=_max_diff(dev_grads[0], ref_grads[0]),
                grad_sampling_locations=_max_diff(dev_grads[1], ref_grads[1]),
                grad_attention_weights=_max_diff(dev_grads[2], ref_grads[2]))


def check_modulated_deform_conv(device: str = 'cuda', seed: int = 0) -> Dict[str, float]:
    """DCNv2: mmcv's CUDA kernel vs its CPU kernel (float32)."""
    from mmcv.ops import modulated_deform_conv2d
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 8, 11, 13, generator=g)
    offset = torch.randn(2, 2 * 9, 11, 13, generator=g) * 2
    mask = torch.rand(2, 9, 11, 13, generator=g)
    weight = torch.randn(6, 8, 3, 3, generator=g) * 0.1
    bias = torch.randn(6, generator=g)

    def run(dev):
        ins = [t.to(dev).requires_grad_() for t in (x, offset, mask, weight, bias)]
        out = modulated_deform_conv2d(ins[0], ins[1], ins[2], ins[3], ins[4], 1, 1, 1, 1, 1)
        return out, _grads(out, ins, seed)

    ref, ref_grads = run('cpu')
    out, grads = run(device)
    names = ('input', 'offset', 'mask', 'weight', 'bias')
    result = dict(forward=_max_diff(out, ref))
    result.update({f'grad_{n}': _max_diff(a, b) for n, a, b in zip(names, grads, ref_grads)})
    return result


def check_roi_align(device: str = 'cuda', seed: int = 0) -> Dict[str, float]:
    """RoIAlign (aligned, sampling ratio 0 and 2): CUDA vs mmcv's CPU kernel."""
    from mmcv.ops import roi_align
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(2, 5, 20, 24, generator=g, dtype=torch.float64)
    xy = torch.rand(12, 2, generator=g, dtype=torch.float64) * 80
    wh = torch.rand(12, 2, generator=g, dtype=torch.float64) * 60 + 2
    rois = torch.cat([torch.randint(0, 2, (12, 1), generator=g).double(), xy, xy + wh], 1)
    result = {}
    for ratio in (0, 2):
        def run(dev):
            f = feats.to(dev).requires_grad_()
            out = roi_align(f, rois.to(dev), (7, 7), 0.25, ratio, 'avg', True)
            return out, _grads(out, [f], seed)[0]
        ref, ref_grad = run('cpu')
        out, grad = run(device)
        result[f'forward_ratio{ratio}'] = _max_diff(out, ref)
        result[f'grad_input_ratio{ratio}'] = _max_diff(grad, ref_grad)
    return result


# Largest accepted difference per check (float64 except DCNv2 in float32;
# gradients of atomically accumulated kernels differ in summation order).
TOLERANCES = dict(msda=1e-9, modulated_deform_conv=1e-3, roi_align=1e-9)
CHECKS = dict(msda=check_msda, modulated_deform_conv=check_modulated_deform_conv,
              roi_align=check_roi_align)
