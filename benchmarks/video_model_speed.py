"""Frames per second and peak memory of each video model on the same frames.

    python benchmarks/video_model_speed.py [--frames 40] [--size 256] [--device cpu|cuda]
        [--configs CONFIG ...] [--tag long]

Each video config (default: every toy video config) is built with its
initial weights (speed does not depend on training; the trackers get the
same number of segments from the fusion's thresholds either way) and run
through :class:`mmpanoptic.apis.VideoInferencer` on the same synthetic video
of ``--frames`` frames of ``--size`` pixels (moving blobs); the first two
frames are a warm-up.  Peak memory: each model alone in a fresh process,
the peak resident size (CUDA: ``max_memory_allocated``) over the frames
minus before them; ``memory_growth_mb`` compares the second half of a run
with the first (constant memory shows as ~0).  A model that needs the whole
video (DVIS offline) is timed over the whole call, reading included, after a
2-frame warm-up video; its memory holds the video (no growth figure).  Ratios are to the
image model + online tracker (``mask2former_r18_online-tracker_toy-video``):
>= 1 is as fast / as small; ViP-DeepLab is compared with its own image
model + tracker (``panoptic-deeplab_r18_online-tracker_toy-video``) in
``same_backbone_fps_ratio``.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = 'configs/video/mask2former_r18_online-tracker_toy-video.py'
CONFIGS = [BASELINE,
           'configs/video/mask2former_r18_no-tracker_toy-video.py',
           'configs/video/mask2former_r18_query-tracker_toy-video.py',
           'configs/video/videomt_vit-t_toy-video.py',
           'configs/video/dvis_mask2former_r18_toy-video.py',
           'configs/video/dvis-offline_mask2former_r18_toy-video.py',
           'configs/video/mask2former_r18_tube-clip2_toy-video.py',
           'configs/video/panoptic-deeplab_r18_online-tracker_toy-video.py',
           'configs/video/vip-deeplab_r18_toy-video.py']


# A design and the image model + online tracker at its backbone, when that is
# not the Mask2Former baseline.
SAME_BACKBONE = {'vip-deeplab_r18_toy-video': 'panoptic-deeplab_r18_online-tracker_toy-video'}


def synthetic_video(n: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
    blobs = [(rng.integers(0, size - 20, 2), rng.integers(-3, 4, 2), rng.integers(0, 255, 3))
             for _ in range(6)]
    for t in range(n):
        frame = base.copy()
        for (y, x), (dy, dx), colour in blobs:
            yy, xx = int(y + dy * t) % (size - 20), int(x + dx * t) % (size - 20)
            frame[yy:yy + 20, xx:xx + 20] = colour
        yield frame


def checkpoint_for(config: str, folder: str) -> str:
    """The config's initial weights with class names (what VideoInferencer reads)."""
    from mmengine.config import Config

    from mmpanoptic.registry import MODELS
    from mmpanoptic.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(os.path.join(ROOT, config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    detector = cfg.model.detector
    if detector.get('image_model'):
        detector = detector.image_model
    n = detector.num_things_classes + detector.num_stuff_classes
    classes = [f'class {i}' for i in range(n)]
    path = os.path.join(folder, os.path.basename(config) + '.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=classes))), path)
    return path


def run(config: str, ckpt: str, frames: int, size: int, device: str, memory: bool) -> dict:
    from mmpanoptic.apis import VideoInferencer
    sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
    from mmdet_model_speed import memory_mark, peak_since
    inf = VideoInferencer(os.path.join(ROOT, config), ckpt, device=device)
    if inf.needs_whole_video:
        # It predicts at the end of the video: warm up on a short video, then
        # time the whole call (reading every frame, then predicting them).
        list(inf(synthetic_video(2, size)))
        base = memory_mark(device)
        start = time.perf_counter()
        for _ in inf(synthetic_video(frames, size)):
            pass
        seconds = time.perf_counter() - start
        out = dict(fps=round(frames / seconds, 3))
        if memory:
            out.update(peak_mb=round(peak_since(base, device), 1), memory_growth_mb=None,
                       whole_video=True)
        return out
    video = synthetic_video(frames, size)
    results = inf(video)
    for _ in range(2):  # warm-up
        next(results)
    base = memory_mark(device)
    half, peaks, start = (frames - 2) // 2, [], time.perf_counter()
    for i, _ in enumerate(results):
        if i == half - 1:
            peaks.append(peak_since(base, device))
    if device == 'cuda':
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = peak_since(base, device)
    out = dict(fps=round((frames - 2) / seconds, 3))
    if memory:
        out.update(peak_mb=round(peak, 1),
                   memory_growth_mb=round(peak - (peaks[0] if peaks else peak), 1))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--configs', nargs='+', default=CONFIGS)
    p.add_argument('--frames', type=int, default=40)
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--tag', default='', help='results file suffix (e.g. long for a long-video '
                   'memory run)')
    p.add_argument('--one', nargs=2, help=argparse.SUPPRESS)  # config checkpoint
    args = p.parse_args(argv)
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    if args.one:
        print(json.dumps(run(*args.one, args.frames, args.size, args.device, memory=True)))
        return
    folder = tempfile.mkdtemp()
    rows = {}
    env = dict(os.environ, PYTHONWARNINGS='ignore',
               MALLOC_MMAP_THRESHOLD_=os.environ.get('MALLOC_MMAP_THRESHOLD_', '131072'))
    for config in args.configs:
        ckpt = checkpoint_for(config, folder)
        proc = subprocess.run([sys.executable, __file__, '--one', config, ckpt, '--frames',
                               str(args.frames), '--size', str(args.size), '--device',
                               args.device], capture_output=True, text=True, env=env)
        if proc.returncode:
            raise SystemExit(f'{config} failed:\n{proc.stderr[-3000:]}')
        name = os.path.splitext(os.path.basename(config))[0]
        rows[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(name, rows[name], flush=True)
    base = rows.get(os.path.splitext(os.path.basename(BASELINE))[0])
    if base:
        for row in rows.values():
            row['fps_ratio'] = round(row['fps'] / base['fps'], 3)
            row['memory_ratio'] = round(base['peak_mb'] / max(row['peak_mb'], 1e-6), 3)
    for name, own in SAME_BACKBONE.items():
        if name in rows and own in rows:
            rows[name]['same_backbone_fps_ratio'] = round(rows[name]['fps'] / rows[own]['fps'],
                                                          3)
    print(f'device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'{args.frames} frames of {args.size} px; ratios to the image model + online tracker')
    print(f'{"model":45s} {"frames/s":>9s} {"x":>6s} {"peak MB":>8s} {"growth MB":>9s}')
    for name, row in rows.items():
        growth = row['memory_growth_mb']
        growth = 'video' if growth is None else f'{growth:.1f}'  # offline: holds the video
        print(f'{name:45s} {row["fps"]:9.2f} {row.get("fps_ratio", 1):6.2f} '
              f'{row["peak_mb"]:8.0f} {growth:>9s}')
    from mmpanoptic.testing.results import write_result
    tag = f'_{args.tag}' if args.tag else ''
    print('figures ->', write_result(f'video_model_speed_{args.device}{tag}',
                                     dict(device=args.device, torch=torch.__version__,
                                          frames=args.frames, size=args.size, models=rows),
                                     ['python', 'benchmarks/video_model_speed.py',
                                      *(argv if argv is not None else sys.argv[1:])]))


if __name__ == '__main__':
    main()
