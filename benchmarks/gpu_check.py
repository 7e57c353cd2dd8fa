"""Checks to run whenever a GPU machine is available; prints one JSON.

    python benchmarks/gpu_check.py [--json gpu_check.json] [--skip-models] [--repeat 3]

1. mmcv's CUDA kernels against their CPU / PyTorch results, forward and
   backward (``mmpanoptic/testing/cuda_ops.py``: MultiScaleDeformableAttention,
   ModulatedDeformConv2d, RoIAlign), with the tolerances the ``cuda`` tests use;
2. Mask2Former R50 and Panoptic FPN R50, ours next to mmdet's on the same
   config and weights (``benchmarks/mmdet_model_speed.py``): one training step
   at the LSJ size 1024x1024 (2 images), and inference on an image the test
   pipeline resizes to 800x1333; seconds, images per second and peak GPU
   memory, each model alone in a fresh process for memory;
3. EoMT ViT-L at 640 px and VidEoMT ViT-L (the VIPSeg config) frames per
   second (``benchmarks/query_model_fps.py``: fp32, and bfloat16 autocast +
   ``torch.compile`` as the papers time them) beside the published 128 FPS
   (EoMT, H100) and 75 FPS (VidEoMT, H100).

Without a GPU it says so and exits 0 (nothing to check).
"""
import argparse
import json
import os
import os.path as osp
import platform
import sys
import tempfile
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--json', help='also write the JSON here')
    p.add_argument('--skip-models', action='store_true', help='only the op checks')
    p.add_argument('--repeat', type=int, default=3)
    args = p.parse_args()
    report = dict(host=platform.node(), torch=torch.__version__, cuda=torch.version.cuda,
                  gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    if not torch.cuda.is_available():
        report['skipped'] = 'no CUDA GPU on this machine'
        print(json.dumps(report, indent=1))
        return
    from mmcv.ops import get_compiling_cuda_version

    from mmpanoptic.testing.cuda_ops import CHECKS, TOLERANCES
    report['mmcv_cuda'] = get_compiling_cuda_version()
    ops = {}
    for name, check in CHECKS.items():
        t = time.perf_counter()
        try:
            diffs = check('cuda')
            ops[name] = dict(max_abs_diff=diffs, tolerance=TOLERANCES[name],
                             ok=max(diffs.values()) <= TOLERANCES[name])
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            ops[name] = dict(ok=False, error=f'{type(e).__name__}: {e}')
        ops[name]['seconds'] = time.perf_counter() - t
    report['ops'] = ops
    if not args.skip_models:
        import mmdet_model_speed
        out = osp.join(tempfile.mkdtemp(), 'models.json')
        mmdet_model_speed.main(['--device', 'cuda', '--train-size', '1024', '--image-size', '600',
                                '1000', '--repeat', str(args.repeat), '--json', out])
        models = json.load(open(out))['models']
        for row in models.values():
            for side in ('mmdet', 'ours'):
                row[f'predict_{side}']['images_per_s'] = 1 / row[f'predict_{side}']['time_s']
        report['models'] = models
        import query_model_fps
        published = {'configs/eomt/eomt_vit-l_640_coco-panoptic.py': 128.0,
                     'configs/video/videomt_vit-l_vipseg.py': 75.0}
        fps = []
        for config, paper in published.items():
            for amp, compiled in ((False, False), (True, True)):
                try:
                    row = query_model_fps.measure(config, size=640, frames=50, device='cuda',
                                                  amp=amp, compile=compiled)
                except Exception as e:  # noqa: BLE001 - reported, not hidden
                    row = dict(config=config, amp=amp, compile=compiled,
                               error=f'{type(e).__name__}: {e}')
                row['published_fps'] = paper
                fps.append(row)
        report['query_model_fps'] = fps
    text = json.dumps(report, indent=1, default=str)
    print(text)
    if args.json:
        with open(args.json, 'w') as f:
            f.write(text)
    if not all(v['ok'] for v in ops.values()):
        sys.exit('a CUDA kernel disagrees with its CPU result')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    main()
