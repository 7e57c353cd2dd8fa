"""VPQ speed against a straightforward per-window ``np.unique`` implementation.

    python benchmarks/video_eval_speed.py [--videos 6] [--frames 6] [--size 512 1024]

Synthetic videos (Voronoi-like stuff and moving box-shaped things with
persisting ids, id switches, crowd and VOID) are scored for windows of 1..4
annotated frames by:

- baseline: ``benchmarks/vpq_reference.py``, which stacks every window's frames
  and runs ``np.unique`` over the combined ids of all their pixels (what
  the Cityscapes-VPS script does);
- ours: ``mmpanoptic.evaluation.functional.vpq.vpq_video_stats``, which counts
  each frame's pixel pairs once and sums the small per-window tables.

Checks that both give the same per-class statistics and prints the speed-up
(target >= 10x).  STQ time (ours) is printed too.
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np
import vpq_reference

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmpanoptic.evaluation.functional.stq import STQAccumulator  # noqa: E402
from mmpanoptic.evaluation.functional.vpq import vpq_video_stats  # noqa: E402
from mmpanoptic.testing.results import write_result  # noqa: E402

CATS = {c: dict(isthing=int(c > 4)) for c in range(1, 9)}


def make_video(rng, frames, h, w):
    out = []
    stuff = rng.integers(1, 5, (4, 8))
    boxes = [(rng.integers(0, h - 80), rng.integers(0, w - 80), rng.integers(5, 9), i + 1)
             for i in range(12)]
    for t in range(frames):
        gt = np.kron(stuff, np.ones((h // 4 + 1, w // 8 + 1), int))[:h, :w] * 1000
        for y, x, c, i in boxes:
            y, x = y + 5 * t, x + 7 * t
            gt[y:y + 60, x:x + 70] = c * 1000 + i
        gt[:8] = 0
        gt[-30:, :40] = 5000  # a crowd of class 5
        pred = gt.copy()
        noise = rng.random((h, w)) < 0.02
        pred[noise] = 1000
        if t >= frames // 2:
            pred[pred == boxes[0][2] * 1000 + 1] += 50  # an id switch half way
        segs = []
        for sid, area in zip(*np.unique(gt, return_counts=True)):
            if sid:
                segs.append(dict(id=int(sid), category_id=int(sid) // 1000, area=int(area),
                                 iscrowd=int(sid == 5000)))
        psegs = [dict(id=int(s), category_id=int(s) // 1000) for s in np.unique(pred) if s]
        out.append((gt, segs, pred, psegs))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--videos', type=int, default=6)
    p.add_argument('--frames', type=int, default=6)
    p.add_argument('--size', type=int, nargs=2, default=(512, 1024))
    args = p.parse_args()
    rng = np.random.default_rng(0)
    videos = [make_video(rng, args.frames, *args.size) for _ in range(args.videos)]
    windows = (1, 2, 3, 4)

    t = time.perf_counter()
    ref = [{k: vpq_reference.vpq_video(v, k) for k in windows} for v in videos]
    t_ref = time.perf_counter() - t
    t = time.perf_counter()
    ours = [vpq_video_stats(v, CATS, windows, f'video {i}') for i, v in enumerate(videos)]
    t_ours = time.perf_counter() - t
    same = all(
        np.allclose(o[k].per_cat.get(c, np.zeros(4)), vals)
        for r, o in zip(ref, ours) for k in windows for c, vals in r[k].items())

    t = time.perf_counter()
    stq = STQAccumulator(num_classes=9, things=[5, 6, 7, 8])
    for i, v in enumerate(videos):
        for gt, _, pred, _ in v:
            stq.update((gt // 1000) << 16 | gt % 1000, (pred // 1000) << 16 | pred % 1000, i)
    stq.result()
    t_stq = time.perf_counter() - t

    n = args.videos * args.frames
    print(f'{args.videos} videos x {args.frames} frames of {args.size[0]}x{args.size[1]}, '
          f'VPQ windows {windows}')
    print(f'baseline (per-window np.unique): {t_ref:7.2f} s')
    print(f'ours (per-frame pairs once):     {t_ours:7.2f} s   same statistics: {same}')
    print(f'speed-up {t_ref / t_ours:.1f}x (target >= 10x: '
          f'{"met" if t_ref / t_ours >= 10 else "MISSED"})')
    print(f'STQ (ours): {t_stq:.2f} s for {n} frames ({1000 * t_stq / n:.1f} ms/frame)')
    if not same:
        raise SystemExit('statistics differ')
    print('figures ->', write_result('video_eval_speed', dict(
        videos=args.videos, frames=args.frames, height=args.size[0], width=args.size[1],
        baseline_s=t_ref, ours_s=t_ours, stq_s=t_stq, stq_ms_per_frame=1000 * t_stq / n),
        ['python', 'benchmarks/video_eval_speed.py', *sys.argv[1:]]))


if __name__ == '__main__':
    main()
