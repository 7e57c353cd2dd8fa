"""Frames per second of an image or video config, network + panoptic fusion.

    python benchmarks/query_model_fps.py CONFIG [--size 640] [--frames 20] [--device cuda]
        [--amp] [--compile]

What the EoMT and VidEoMT papers report: one image (a video frame) at a
time, a random ``--size`` x ``--size`` picture through the config's test
pipeline and model (random weights: speed does not depend on them; a ``pretrained`` backbone
file is not needed), ``--amp`` = bfloat16 autocast, ``--compile`` =
``compile_network()``, the first 3 frames a warm-up.  A video config runs
its tracker / query propagation frame after frame as
:class:`~mmpanoptic.apis.VideoInferencer` does.  ``benchmarks/gpu_check.py``
calls :func:`measure` for EoMT ViT-L 640 (published: 128 FPS on an H100)
and VidEoMT ViT-L (published: 75 FPS on VIPSeg).
"""
import argparse
import contextlib
import json
import os.path as osp
import sys
import time

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)


def _no_pretrained(cfg) -> None:
    """Drop every ``pretrained`` backbone file (random weights time the same)."""
    if isinstance(cfg, dict):
        if 'pretrained' in cfg:
            cfg['pretrained'] = None
        for v in cfg.values():
            _no_pretrained(v)
    elif isinstance(cfg, (list, tuple)):
        for v in cfg:
            _no_pretrained(v)


def measure(config: str, *, size: int = 640, frames: int = 20, device: str = 'cpu',
            amp: bool = False, compile: bool = False) -> dict:
    """``{fps, seconds_per_frame, segments_per_frame, ...}`` of ``config``."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate

    from mmpanoptic.apis import inference_pipeline
    from mmpanoptic.registry import MODELS
    from mmpanoptic.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config if osp.isabs(config) else osp.join(ROOT, config))
    _no_pretrained(cfg.model)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device).eval()
    if compile:
        (model.detector if hasattr(model, 'detector') else model).compile_network()
    pipeline = inference_pipeline(cfg)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    autocast = (torch.autocast(device_type=device.split(':')[0], dtype=torch.bfloat16)
                if amp else contextlib.nullcontext())
    warmup, times, segments = 3, [], []
    with torch.no_grad(), autocast:
        for t in range(warmup + frames):
            frame = np.roll(image, 4 * t, axis=1)  # a moving picture for the trackers
            packed = pipeline(dict(img=frame, img_id=t, video_id=0, frame_id=t))
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            start = time.perf_counter()
            sample = model.test_step(pseudo_collate([packed]))[0]
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            if t >= warmup:
                times.append(time.perf_counter() - start)
                segments.append(len(sample.pred_panoptic_seg.metainfo['segments_info']))
    seconds = float(np.mean(times))
    return dict(config=config, size=size, frames=frames, device=device, amp=amp,
                compile=compile, fps=round(1 / seconds, 3), seconds_per_frame=round(seconds, 5),
                segments_per_frame=round(float(np.mean(segments)), 2))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--size', type=int, default=640)
    p.add_argument('--frames', type=int, default=20)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--amp', action='store_true', help='bfloat16 autocast')
    p.add_argument('--compile', action='store_true', help='torch.compile the network')
    args = p.parse_args(argv)
    print(json.dumps(measure(args.config, size=args.size, frames=args.frames,
                             device=args.device, amp=args.amp, compile=args.compile)))


if __name__ == '__main__':
    main()
