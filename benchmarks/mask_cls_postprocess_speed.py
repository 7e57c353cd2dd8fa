"""Mask-classification panoptic inference against mmdet's MaskFormerFusionHead.

    python benchmarks/mask_cls_postprocess_speed.py [--queries 100] [--classes 133]
        [--size 800 1200] [--confident 60] [--repeat 5] [--device cpu|cuda]

Random but realistic inputs (one disc-shaped mask per query at 1/4 of the
image, ``--confident`` queries with a peaked class) are post-processed by:

- ``core``: the panoptic post-process on masks already at full size
  (mmdet's ``panoptic_postprocess`` vs our ``keep_queries`` + ``panoptic_from_queries``);
- ``predict``: what a model's predict step does from 1/4-size logits:
  resize to the image, then post-process (mmdet resizes every query; ours,
  ``MaskClassificationFusion``, only the kept ones).

Both give the same partition and labels (checked here on every run). Prints
the best of ``--repeat`` timings and the speed-up; the target is >= 2.5x on CPU.
"""
import argparse
import os.path as osp
import sys
import time

import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.seg_heads.panoptic_fusion_heads import MaskFormerFusionHead
from mmengine.config import ConfigDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmpanoptic.models.fusion import (  # noqa: E402
    MaskClassificationFusion,
    keep_queries,
    panoptic_from_queries,
)
from mmpanoptic.testing.results import write_result  # noqa: E402


def make_inputs(q, c, things, h, w, confident, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    cls = torch.randn(q, c + 1, generator=g)
    cls[:, -1] += 2.0  # unconfident queries mostly say "no object"
    sure = torch.randperm(q, generator=g)[:confident]
    cls[sure, torch.randint(0, c, (confident,), generator=g)] += 12.0
    hs, ws = h // 4, w // 4
    yy, xx = torch.meshgrid(torch.arange(hs), torch.arange(ws), indexing='ij')
    cy, cx = torch.rand(q, 1, 1, generator=g) * hs, torch.rand(q, 1, 1, generator=g) * ws
    r = 6 + torch.rand(q, 1, 1, generator=g) * min(hs, ws) / 8
    small = 6 * (1 - ((yy - cy)**2 + (xx - cx)**2) / r**2)
    small = small.clamp(min=-10) + torch.randn(q, hs, ws, generator=g) * 0.5
    return cls.to(device), small.to(device)


def best_of(fn, repeat, device):
    times = []
    for _ in range(repeat):
        if device == 'cuda':
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return min(times), out


def same_partition(ids, segments, mm, num_classes):
    ids, mm = ids.cpu().long(), mm.cpu().long()
    if not torch.equal(ids == 0, mm == num_classes):
        return False
    pairs = torch.unique(torch.stack([ids.flatten(), mm.flatten()]), dim=1)
    if not pairs.shape[1] == len(torch.unique(ids)) == len(torch.unique(mm)):
        return False
    label_of = {s['id']: s['label'] for s in segments}
    return all(label_of[a] == b % INSTANCE_OFFSET for a, b in pairs.t().tolist() if a)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--queries', type=int, default=100)
    parser.add_argument('--classes', type=int, default=133)
    parser.add_argument('--things', type=int, default=80)
    parser.add_argument('--size', type=int, nargs=2, default=(800, 1200))
    parser.add_argument('--confident', type=int, default=60)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    h, w = args.size
    cls, small = make_inputs(args.queries, args.classes, args.things, h, w, args.confident,
                             args.device)
    full = F.interpolate(small[None], size=(h, w), mode='bilinear', align_corners=False)[0]
    head = MaskFormerFusionHead(num_things_classes=args.things,
                                num_stuff_classes=args.classes - args.things,
                                test_cfg=ConfigDict(object_mask_thr=0.8, iou_thr=0.8))
    cfg = dict(num_classes=args.classes, object_mask_thr=0.8)

    def ours_core():
        keep, scores, labels = keep_queries(cls, **cfg)
        return panoptic_from_queries(scores, labels, full, keep=keep,
                                     num_things=args.things)

    def mmdet_predict():
        up = F.interpolate(small[None], size=(h, w), mode='bilinear', align_corners=False)[0]
        return head.panoptic_postprocess(cls, up).sem_seg[0]

    fusion = MaskClassificationFusion(num_things=args.things,
                                      num_stuff=args.classes - args.things,
                                      object_mask_thr=0.8, iou_thr=0.8)
    meta = dict(img_shape=(h, w), ori_shape=(h, w), batch_input_shape=(h, w))

    def ours_predict():  # what a model's predict calls
        return fusion(dict(cls_logits=cls[None], mask_logits=small[None]), [meta])[0]['panoptic']

    kept = int(keep_queries(cls, **cfg)[0].sum())
    print(f'{args.queries} queries x {args.classes} classes at {h}x{w}, {kept} kept, '
          f'device {args.device}, torch threads {torch.get_num_threads()}')
    with torch.no_grad():
        best_of(ours_core, 1, args.device)  # warm-up
        t_mm, mm = best_of(lambda: head.panoptic_postprocess(cls, full).sem_seg[0],
                           args.repeat, args.device)
        t_ours, (ids, segs) = best_of(ours_core, args.repeat, args.device)
        ok_core = same_partition(ids, segs, mm, args.classes)
        t_mm_p, mm_p = best_of(mmdet_predict, args.repeat, args.device)
        t_ours_p, (ids_p, segs_p) = best_of(ours_predict, args.repeat, args.device)
        ok_pred = same_partition(ids_p, segs_p, mm_p, args.classes)
    print(f'{"":10}{"mmdet (s)":>12}{"ours (s)":>12}{"speed-up":>10}  same output')
    print(f'{"core":10}{t_mm:12.3f}{t_ours:12.3f}{t_mm / t_ours:9.2f}x  {ok_core}'
          f'  ({len(segs)} segments)')
    print(f'{"predict":10}{t_mm_p:12.3f}{t_ours_p:12.3f}{t_mm_p / t_ours_p:9.2f}x  {ok_pred}')
    print(f'target: core speed-up >= 2.5x on CPU -> '
          f'{"met" if t_mm / t_ours >= 2.5 else "MISSED"}')
    if not (ok_core and ok_pred):
        raise SystemExit('outputs differ from mmdet')
    if args.device == 'cpu':
        path = write_result('mask_cls_postprocess_speed', dict(
            queries=args.queries, classes=args.classes, height=h, width=w, kept=kept,
            torch_threads=torch.get_num_threads(), segments=len(segs),
            core=dict(mmdet=t_mm, ours=t_ours), predict=dict(mmdet=t_mm_p, ours=t_ours_p)),
            ['python', 'benchmarks/mask_cls_postprocess_speed.py', *sys.argv[1:]])
        print(f'figures -> {path}')


if __name__ == '__main__':
    main()
