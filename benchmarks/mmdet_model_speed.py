"""Our Mask2Former and Panoptic FPN against mmdet's: same config, same weights, same input.

    python benchmarks/mmdet_model_speed.py [--models mask2former_r50 panoptic-fpn_r50_1x]
        [--repeat 3] [--train-size 512] [--image-size 480 640] [--device cpu|cuda]
        [--json out.json]

For each pair in ``mmpanoptic.testing.reference.PAIRS`` both models are built
from their own config files (mmdet's from the installed package), mmdet's
state dict is loaded strictly into ours, and both run

- ``predict``: ``test_step`` on one 480x640 image (``--image-size``) resized
  by the test pipeline to 800x1066 (600x1000 gives 800x1333; preprocessing,
  network, fusion), best of ``--repeat``;
- ``train``: one training step (``loss`` + backward) on 2 images of
  ``--train-size`` pixels with 6 things and 3 stuff segments each; the batch
  padding of the LSJ configs (1024x1024) is set to ``--train-size`` for both
  (at 1024 one CPU step takes over a minute).

Both models get the same weights: random ones adjusted on the benchmark
image to behave like trained ones (``decisive_query_head`` /
``decisive_box_head``, as the parity tests), so the fusion has segments to
build; the panoptic maps are checked identical first.  Times: both models in
one process, run alternately (mmdet, ours, ours, mmdet, ...) so that the machine's
speed drift hits both alike, best of ``--repeat`` after a warm-up.  Peak
memory: each model alone in a fresh process; on CUDA
``torch.cuda.max_memory_allocated`` minus the weights; on CPU the peak
resident size of one run after a warm-up (Linux's peak counter reset before
it) minus the size before it, with glibc's mmap threshold fixed
(``MALLOC_MMAP_THRESHOLD_``) so that freed buffers leave the resident set.
Ratios are mmdet / ours: >= 1.0 means we are at least as fast / as small.
The panoptic outputs are checked identical before timing.
"""
import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


def _reset_peak_rss() -> float:
    """Reset the kernel's peak-RSS counter (``clear_refs`` 5); return the RSS in MB."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:  # not Linux: the peak then includes the model build
        pass
    return _proc_status('VmRSS')


def memory_mark(device: str) -> float:
    """Reset the peak-memory counter (CUDA's, or the kernel's peak RSS on
    CPU) and return the memory in use now, in MB: the base of
    :func:`peak_since`."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated() / 2**20
    return _reset_peak_rss()


def peak_since(base: float, device: str) -> float:
    """Peak memory (MB) above ``base`` since :func:`memory_mark`."""
    return (torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda'
            else _proc_status('VmHWM')) - base


def _proc_status(key: str) -> float:
    """A ``/proc/self/status`` field in MB (ru_maxrss where there is none)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def training_batch(n: int, size: int, num_things: int, num_classes: int, seed: int = 0):
    """``n`` images of ``size`` px with 6 rectangles (things) and 3 stuff bands."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for _ in range(n):
        img = torch.from_numpy(rng.integers(0, 255, (3, size, size), dtype=np.uint8))
        sem = np.full((size, size), 255, dtype=np.int64)
        for band in np.array_split(np.arange(size), 3):
            sem[band] = num_things + int(rng.integers(0, num_classes - num_things))
        masks, boxes = [], []
        for _ in range(6):
            y, x = rng.integers(0, size * 3 // 4, 2)
            h, w = rng.integers(size // 10, size // 4, 2)
            m = np.zeros((size, size), dtype=np.uint8)
            m[y:y + h, x:x + w] = 1
            masks.append(m)
            boxes.append([x, y, x + w, y + h])
        labels = torch.from_numpy(rng.integers(0, num_things, 6))
        sem_t = torch.from_numpy(sem)
        for m, lab in zip(masks, labels.tolist()):
            sem_t[torch.from_numpy(m).bool()] = lab
        s = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                        scale_factor=(1.0, 1.0), img_id=0))
        s.gt_instances = InstanceData(labels=labels,
                                      bboxes=HorizontalBoxes(torch.tensor(boxes).float()),
                                      masks=BitmapMasks(np.stack(masks), size, size))
        s.gt_sem_seg = PixelData(sem_seg=sem_t[None])
        inputs.append(img)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def prepare_weights(name: str, path: str) -> int:
    """Trained-like weights for both models (see ``decisive_query_head``),
    saved to ``path``; checks that both models give the same panoptic map on
    the benchmark image and returns its number of segments."""
    from mmdet.evaluation.functional import INSTANCE_OFFSET

    from mmpanoptic.testing.reference import (
        packed_test_inputs,
        paired_models,
        panoptic_disagreement,
        predict,
        realistic_image,
        segment_count,
    )
    torch.manual_seed(0)
    data = packed_test_inputs(realistic_image(480, 640, seed=1))
    theirs, ours, num_classes = paired_models(name, data)
    a, b = predict(theirs, data)[0], predict(ours, data)[0]
    ids = b.pred_panoptic_seg.sem_seg[0]
    problems = panoptic_disagreement(ids, b.pred_panoptic_seg.segments_info,
                                     a.pred_panoptic_seg.sem_seg[0], num_classes=num_classes,
                                     instance_offset=INSTANCE_OFFSET)
    if problems:
        raise SystemExit(f'{name}: outputs differ: {problems[:5]}')
    torch.save(ours.state_dict(), path)
    return segment_count(ids)


def build(name: str, side: str, device: str, train_size: int, weights: str):
    """One model (mmdet's or ours) from its config, with the shared weights."""
    from mmpanoptic.testing.reference import build_mmdet_model, build_our_model, load_pair
    theirs_cfg, ours_cfg = load_pair(name)
    cfg = theirs_cfg if side == 'mmdet' else ours_cfg
    for aug in cfg.model.data_preprocessor.get('batch_augments') or []:
        aug['size'] = (train_size, train_size)
    model = build_mmdet_model(cfg) if side == 'mmdet' else build_our_model(cfg)
    model.load_state_dict(torch.load(weights, map_location='cpu'), strict=True)
    counts = (ours_cfg.model.get('num_things_classes', 80),
              ours_cfg.model.get('num_stuff_classes', 53))
    return model.to(device), counts


def _sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def _run_once(model, mode: str, data: dict, batch: dict, device: str) -> float:
    """Seconds for one ``test_step`` or one training step (loss + backward)."""
    _sync(device)
    t = time.perf_counter()
    if mode == 'predict':
        model.eval()
        with torch.no_grad():
            model.test_step(data)
    else:
        model.train()
        inputs = model.data_preprocessor(batch, True)
        loss, _ = model.parse_losses(model.loss(inputs['inputs'], inputs['data_samples']))
        loss.backward()
        model.zero_grad(set_to_none=True)
    _sync(device)
    return time.perf_counter() - t


IMAGE_SIZE = (480, 640)  # --image-size: the test image before the test pipeline's resize


def _inputs(things: int, stuff: int, train_size: int, n: int):
    from mmpanoptic.testing.reference import packed_test_inputs, realistic_image
    data = packed_test_inputs(realistic_image(*IMAGE_SIZE, seed=1))
    return data, [training_batch(2, train_size, things, things + stuff, seed=i) for i in range(n)]


def measure_memory(name: str, side: str, mode: str, device: str, train_size: int,
                   weights: str) -> float:
    """Peak memory (MB) of one (model, side, mode), alone in this process:
    one warm-up run, then the counter is reset and one run measured."""
    model, (things, stuff) = build(name, side, device, train_size, weights)
    data, batches = _inputs(things, stuff, train_size, 2)
    _run_once(model, mode, data, batches[0], device)
    base = memory_mark(device)
    _run_once(model, mode, data, batches[1], device)
    return peak_since(base, device)


def measure_time(name: str, mode: str, device: str, repeat: int, train_size: int,
                 weights: str) -> dict:
    """Best-of-``repeat`` seconds of both models, measured alternately in one
    process (mmdet, ours, ours, mmdet, mmdet, ...) so that drift of the
    machine's speed hits both alike; one warm-up run each first."""
    models = {side: build(name, side, device, train_size, weights)[0]
              for side in ('mmdet', 'ours')}
    from mmpanoptic.testing.reference import load_pair
    _, ours_cfg = load_pair(name)
    things = ours_cfg.model.get('num_things_classes', 80)
    stuff = ours_cfg.model.get('num_stuff_classes', 53)
    data, batches = _inputs(things, stuff, train_size, repeat + 1)
    times = {side: [] for side in models}
    order = list(models)
    for i in range(repeat + 1):
        for side in order if i % 2 == 0 else order[::-1]:  # ABBA: no side always second
            times[side].append(_run_once(models[side], mode, data, batches[i], device))
    return {side: min(t[1:]) for side, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=['mask2former_r50', 'panoptic-fpn_r50_1x'])
    parser.add_argument('--modes', nargs='+', default=['predict', 'train'],
                        choices=['predict', 'train'])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--train-size', type=int, default=512)
    parser.add_argument('--image-size', type=int, nargs=2, default=[480, 640],
                        metavar=('H', 'W'), help='predict image before the test resize')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', default=None, help='also write the results here')
    parser.add_argument('--one', nargs=5, metavar=('WHAT', 'MODEL', 'SIDE', 'MODE', 'WEIGHTS'),
                        help=argparse.SUPPRESS)  # internal: one measurement, JSON on stdout
    args = parser.parse_args(argv)
    global IMAGE_SIZE
    IMAGE_SIZE = tuple(args.image_size)
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # mmdet's init messages
    if args.one:
        what, name, side, mode, weights = args.one
        if what == 'time':
            out = measure_time(name, mode, args.device, args.repeat, args.train_size, weights)
        else:
            out = measure_memory(name, side, mode, args.device, args.train_size, weights)
        print(json.dumps(out))
        return
    rows = {}
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, PYTHONWARNINGS='ignore')

    # For memory, a fixed mmap threshold turns off glibc's adaptive one, under
    # which freed large buffers stay resident and the CPU peak varies by +-25%.
    memory_env = dict(env, MALLOC_MMAP_THRESHOLD_=env.get('MALLOC_MMAP_THRESHOLD_', '131072'))

    def child(*one):
        cmd = [sys.executable, __file__, '--one', *one, '--device', args.device,
               '--repeat', str(args.repeat), '--train-size', str(args.train_size),
               '--image-size', *map(str, args.image_size)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                             env=memory_env if one[0] == 'memory' else env)
        return json.loads(out.stdout.strip().splitlines()[-1])

    for name in args.models:
        weights = os.path.join(tmp, f'{name}.pth')
        row = dict(segments=prepare_weights(name, weights))
        for mode in args.modes:
            times = child('time', name, '-', mode, weights)
            for side in ('mmdet', 'ours'):
                row[f'{mode}_{side}'] = dict(time_s=times[side],
                                             peak_mb=child('memory', name, side, mode, weights))
            m, o = row[f'{mode}_mmdet'], row[f'{mode}_ours']
            row[f'{mode}_speed_ratio'] = m['time_s'] / o['time_s']
            row[f'{mode}_memory_ratio'] = m['peak_mb'] / max(o['peak_mb'], 1e-6)
        rows[name] = row
    print(f'device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; '
          f'ratios are mmdet / ours (>= 1.0: ours is as fast / as small)')
    print(f'{"model":22s} {"mode":8s} {"mmdet s":>9s} {"ours s":>9s} {"speed":>6s} '
          f'{"mmdet MB":>9s} {"ours MB":>9s} {"memory":>6s}')
    for name, row in rows.items():
        for mode in args.modes:
            m, o = row[f'{mode}_mmdet'], row[f'{mode}_ours']
            print(f'{name:22s} {mode:8s} {m["time_s"]:9.3f} {o["time_s"]:9.3f} '
                  f'{row[f"{mode}_speed_ratio"]:6.2f} {m["peak_mb"]:9.0f} {o["peak_mb"]:9.0f} '
                  f'{row[f"{mode}_memory_ratio"]:6.2f}')
    figures = dict(device=args.device, torch=torch.__version__,
                   image_size=list(args.image_size), train_size=args.train_size, models=rows)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=1)
    from mmpanoptic.testing.results import write_result
    print('figures ->', write_result(f'mmdet_model_speed_{args.device}', figures,
                                     ['python', 'benchmarks/mmdet_model_speed.py',
                                      *(argv if argv is not None else sys.argv[1:])]))


if __name__ == '__main__':
    main()
