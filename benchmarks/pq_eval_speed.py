"""PQ evaluation speed against the PNG-decoding floor and the panopticapi algorithm.

    python benchmarks/pq_eval_speed.py [--num-images 300] [--nproc N] [--data-dir DIR]

Generates (or reuses) COCO-sized image pairs (480x640, ~20 segments each, with
VOID borders, crowd regions, wrong labels, merges and shifted boundaries),
then times in one run:

- decode floor: reading both PNGs to RGB arrays (OpenCV, the decoder we use;
  PIL, panopticapi's decoder, is shown too), nothing else;
- baseline: panopticapi's ``pq_compute`` algorithm (benchmarks/panopticapi_baseline.py),
  single process and on all cores;
- ours: ``mmpanoptic.evaluation.files.coco_panoptic``, single process and all cores.

It checks that PQ/SQ/RQ agree to 1e-9 and prints the ratios against the targets
(ours single within 1.3x of the decode floor, >= 2x faster than the baseline
single process, faster than the baseline on all cores).
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import panopticapi_baseline  # noqa: E402

from mmpanoptic.evaluation.files.coco_panoptic import evaluate_panoptic_files  # noqa: E402
from mmpanoptic.structures import id2rgb, mask_bbox  # noqa: E402

CATEGORIES = [dict(id=i + 1, name=f'c{i + 1}', isthing=int(i < 12)) for i in range(24)]


def _voronoi(seeds, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.stack([(xx - x)**2 + (yy - y)**2 for x, y in seeds])
    part = np.partition(d, 1, axis=0)
    return d.argmin(0), np.sqrt(part[1]) - np.sqrt(part[0])


def _segments(ids, cats, crowd):
    out = []
    for sid in np.unique(ids):
        if sid == 0:
            continue
        m = ids == sid
        out.append(
            dict(id=int(sid),
                 category_id=int(cats[sid]),
                 iscrowd=int(crowd.get(sid, 0)),
                 area=int(m.sum()),
                 bbox=mask_bbox(m)))
    return out


def make_pairs(root, n, h, w, num_segments, seed=0):
    """Write gt/ and pred/ PNGs plus gt.json and pred.json under root."""
    rng = np.random.default_rng(seed)
    for sub in ('gt', 'pred'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    gt_anns, pred_anns, images = [], [], []
    for k in range(n):
        name = f'{k + 1:012d}.png'
        seeds = rng.uniform([0, 0], [w, h], (num_segments, 2))
        lab, margin = _voronoi(seeds, h, w)
        gt_ids_of = rng.choice(np.arange(1, 256**3), num_segments, replace=False)
        gt = gt_ids_of[lab]
        gt[margin < 2.0] = 0  # VOID borders, as in COCO
        cats = {int(i): int(rng.integers(1, 25)) for i in gt_ids_of}
        crowd = {int(i): int(rng.random() < 0.05 and cats[int(i)] <= 12) for i in gt_ids_of}
        # Prediction: shifted seeds, some merges, some wrong labels, some VOID.
        pseeds = seeds + rng.normal(0, 12, seeds.shape)
        plab, _ = _voronoi(pseeds, h, w)
        merge = rng.random(num_segments) < 0.1
        plab = np.where(merge[plab], (plab + 1) % num_segments, plab)
        pred_ids_of = rng.choice(np.arange(1, 256**3), num_segments, replace=False)
        pred = pred_ids_of[plab]
        pred[rng.random((h, w)) < 0.002] = 0
        pcats = {
            int(p): (cats[int(g)] if rng.random() > 0.15 else int(rng.integers(1, 25)))
            for p, g in zip(pred_ids_of, gt_ids_of)
        }
        Image.fromarray(id2rgb(gt)).save(osp.join(root, 'gt', name))
        Image.fromarray(id2rgb(pred)).save(osp.join(root, 'pred', name))
        images.append(dict(id=k + 1, file_name=name.replace('.png', '.jpg'), height=h, width=w))
        gt_anns.append(
            dict(image_id=k + 1, file_name=name, segments_info=_segments(gt, cats, crowd)))
        pred_anns.append(
            dict(image_id=k + 1,
                 file_name=name,
                 segments_info=[{
                     k2: v
                     for k2, v in s.items() if k2 in ('id', 'category_id')
                 } for s in _segments(pred, pcats, {})]))
    json.dump(dict(images=images, annotations=gt_anns, categories=CATEGORIES),
              open(osp.join(root, 'gt.json'), 'w'))
    json.dump(dict(annotations=pred_anns), open(osp.join(root, 'pred.json'), 'w'))


def timed(fn, repeat):
    best, out = float('inf'), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--num-images', type=int, default=300)
    p.add_argument('--height', type=int, default=480)
    p.add_argument('--width', type=int, default=640)
    p.add_argument('--segments', type=int, default=20)
    p.add_argument('--nproc', type=int, default=os.cpu_count())
    p.add_argument('--repeat', type=int, default=3, help='best of N timings')
    p.add_argument('--data-dir', help='reuse / keep the generated pairs here')
    args = p.parse_args()

    root = args.data_dir or tempfile.mkdtemp(prefix='pq_bench_')
    if not osp.isfile(osp.join(root, 'pred.json')):
        t = time.perf_counter()
        make_pairs(root, args.num_images, args.height, args.width, args.segments)
        print(f'generated {args.num_images} pairs in {root} ({time.perf_counter() - t:.1f} s)')
    gt_json = json.load(open(osp.join(root, 'gt.json')))
    pred_json = json.load(open(osp.join(root, 'pred.json')))
    n = len(gt_json['annotations'])
    files = [(osp.join(root, 'gt', a['file_name']), osp.join(root, 'pred', a['file_name']))
             for a in gt_json['annotations']]

    def decode_cv2():  # the floor: only decoding, no ids, no pairing
        for g, q in files:
            for f in (g, q):
                cv2.imread(f, cv2.IMREAD_COLOR)

    def decode_pil():
        for g, q in files:
            for f in (g, q):
                np.array(Image.open(f), dtype=np.uint32)

    args_files = (osp.join(root, 'gt.json'), osp.join(root, 'gt'), osp.join(root, 'pred.json'),
                  osp.join(root, 'pred'))
    gt_dir, pred_dir = osp.join(root, 'gt'), osp.join(root, 'pred')
    methods = {
        'floor':
        decode_cv2,
        'pil':
        decode_pil,
        'ref1':
        lambda: panopticapi_baseline.pq_compute(gt_json, pred_json, gt_dir, pred_dir, 1),
        'refn':
        lambda: panopticapi_baseline.pq_compute(gt_json, pred_json, gt_dir, pred_dir, args.nproc),
        'our1':
        lambda: evaluate_panoptic_files(*args_files, nproc=1, progress=False),
        'ourn':
        lambda: evaluate_panoptic_files(*args_files, nproc=args.nproc, progress=False),
    }
    decode_cv2()  # warm-up: files in the page cache, CPU clocked up
    best, out = {k: float('inf') for k in methods}, {}
    for _ in range(args.repeat):  # round-robin, so drifts hit every method alike
        for name, fn in methods.items():
            t, out[name] = timed(fn, 1)
            best[name] = min(best[name], t)
    t_floor, t_pil, t_ref1, t_refn, t_our1, t_ourn = (best[k] for k in methods)
    ref1, refn, our1, ourn = out['ref1'], out['refn'], out['our1'], out['ourn']

    same = True
    for res in (refn, our1, ourn):
        for split in ('All', 'Things', 'Stuff'):
            for k in ('pq', 'sq', 'rq'):
                same &= abs(res[split][k] - ref1[split][k]) <= 1e-9
    ms = lambda t: 1000 * t / n  # noqa: E731
    print(f'\n{n} image pairs of {args.height}x{args.width}, ~{args.segments} segments, '
          f'nproc={args.nproc}, numpy {np.__version__}')
    print(f'  decode floor (OpenCV, both PNGs)   {ms(t_floor):7.2f} ms/image')
    print(f'  decode with PIL (panopticapi)      {ms(t_pil):7.2f} ms/image')
    print(f'  baseline pq_compute, 1 process     {ms(t_ref1):7.2f} ms/image')
    print(f'  baseline pq_compute, {args.nproc} processes   {ms(t_refn):7.2f} ms/image')
    print(f'  ours, 1 process                    {ms(t_our1):7.2f} ms/image')
    print(f'  ours, {args.nproc} processes                 {ms(t_ourn):7.2f} ms/image')
    print(f'  PQ {100 * our1["All"]["pq"]:.3f}; identical to baseline (1e-9): {same}')
    checks = [
        ('ours 1 proc / decode floor', t_our1 / t_floor, '<= 1.3', t_our1 / t_floor <= 1.3),
        ('baseline 1 proc / ours 1 proc', t_ref1 / t_our1, '>= 2', t_ref1 / t_our1 >= 2),
        (f'baseline {args.nproc} proc / ours {args.nproc} proc', t_refn / t_ourn, '> 1',
         t_refn / t_ourn > 1),
    ]
    print()
    for name, ratio, target, ok in checks:
        print(f'  {name:34s} {ratio:6.2f}  target {target:6s} {"OK" if ok else "MISSED"}')
    if not same:
        sys.exit('results differ from the baseline')


if __name__ == '__main__':
    main()
