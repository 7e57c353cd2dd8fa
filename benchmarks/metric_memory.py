"""Memory of the runner metrics as the data grows: flat, not per frame.

    python benchmarks/metric_memory.py [--height 512] [--width 1024]
        [--video-lengths 25 100 400] [--images 50 200 800]

Feeds synthetic predictions straight into ``VideoPanopticMetric`` (one long
video per run) and ``PanopticQualityMetric`` (many images), and measures with
``tracemalloc`` (numpy's buffers are traced) the peak while processing and
what the metric still holds afterwards.  The video metric scores frames as
they arrive and keeps only the pair tables of the last ``max(k) - 1`` frames;
the image metric keeps per-image tables of a few categories.  For contrast
it prints what keeping every frame's two int64 id maps (this metric's
previous design) would hold.
"""
import argparse
import os.path as osp
import pickle
import sys
import time
import tracemalloc

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmpanoptic.evaluation.metrics import PanopticQualityMetric, VideoPanopticMetric  # noqa: E402
from mmpanoptic.testing.results import write_result  # noqa: E402

CATS = dict(category_ids=[1, 2, 7, 9], isthing=[1, 1, 0, 0], classes=['car', 'person', 'road',
                                                                      'sky'])


def frame(rng, t, h, w):
    """A road / sky scene with a few moving cars and people (track ids kept)."""
    gt = np.full((h, w), 7000, np.int64)
    gt[:h // 3] = 9000
    for k in range(6):
        cls = 1 if k < 4 else 2
        x = (37 * k + 3 * t) % (w - w // 8)
        y = h // 2 + (k % 3) * h // 10
        gt[y:y + h // 8, x:x + w // 10] = cls * 1000 + k + 1
    pred = gt.copy()
    pred[rng.random((h, w)) < 0.01] = 7000
    return gt, pred


def sample(video, t, gt, pred):
    def segs(ids, gt_side):
        out = []
        for s in np.unique(ids):
            if gt_side:
                out.append(dict(id=int(s), category_id=int(s // 1000), iscrowd=0,
                                area=int((ids == s).sum())))
            else:
                out.append(dict(id=int(s), label=CATS['category_ids'].index(int(s // 1000))))
        return out
    return dict(video_id=video, frame_id=t, img_id=t, img_path=f'{t}.png',
                gt_panoptic_seg=dict(sem_seg=torch.from_numpy(gt[None]),
                                     segments_info=segs(gt, True)),
                pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pred[None]),
                                       segments_info=segs(pred, False)))


def measure(metric, samples):
    """(peak MB while processing, MB held by metric.results after, seconds)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    for s in samples:
        metric.process({}, [s()])
    if hasattr(metric, '_finish_video'):
        metric._finish_video()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    held = len(pickle.dumps(metric.results)) / 2**20
    return peak, held, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--height', type=int, default=512)
    p.add_argument('--width', type=int, default=1024)
    p.add_argument('--video-lengths', type=int, nargs='+', default=[25, 100, 400])
    p.add_argument('--images', type=int, nargs='+', default=[50, 200, 800])
    args = p.parse_args()
    h, w = args.height, args.width
    rng = np.random.default_rng(0)
    print(f'frames of {h}x{w}; peak = tracemalloc peak while processing (includes the '
          f'sample being built); held = pickled size of metric.results\n')
    figures = dict(height=h, width=w, video=[], image=[])
    print('VideoPanopticMetric, one video of N frames')
    print(f'  {"N":>6} {"peak MB":>9} {"held MB":>9} {"s":>7}   keeping every frame would hold')
    for n in args.video_lengths:
        metric = VideoPanopticMetric()
        metric.dataset_meta = CATS
        samples = [lambda t=t: sample('v', t, *frame(rng, t, h, w)) for t in range(n)]
        peak, held, sec = measure(metric, samples)
        former = n * 2 * h * w * 8 / 2**20
        print(f'  {n:6d} {peak:9.1f} {held:9.3f} {sec:7.1f}   {former:9.0f} MB')
        figures['video'].append(dict(frames=n, peak_mb=peak, held_kb=held * 1024,
                                     seconds=sec, every_frame_mb=former))
    print('\nPanopticQualityMetric, N images')
    print(f'  {"N":>6} {"peak MB":>9} {"held MB":>9} {"s":>7}')
    for n in args.images:
        metric = PanopticQualityMetric(classwise=False)
        metric.dataset_meta = CATS
        samples = [lambda t=t: sample('v', t, *frame(rng, t, h, w)) for t in range(n)]
        peak, held, sec = measure(metric, samples)
        print(f'  {n:6d} {peak:9.1f} {held:9.3f} {sec:7.1f}')
        figures['image'].append(dict(images=n, peak_mb=peak, held_kb=held * 1024, seconds=sec))
    path = write_result('metric_memory', figures, ['python', 'benchmarks/metric_memory.py',
                                                  *sys.argv[1:]])
    print(f'\nfigures -> {path}')


if __name__ == '__main__':
    main()
