"""COCO panopticapi's per-image algorithm on in-memory arrays, for the VPQ reference.

The PQ tests and ``pq_eval_speed.py`` use the official panopticapi itself
(PyPI ``panopticapi-lite``, a test extra).  This module stays only as the
per-window kernel of ``vpq_reference.py``, which scores stacked video frames in
memory (the VPS reference is not on PyPI).  It re-implements, step by step, what
its ``pq_compute_single_core`` / ``pq_compute_multi_core`` do: decode both
PNGs with PIL as uint32, ``rgb2id``, count pred areas with ``np.unique``,
pair ids with ``np.unique`` over ``gt * 256^3 + pred``, match and count in
Python dicts; with several cores, split the image list into ``nproc`` equal
chunks over a ``multiprocessing.Pool``.  ``tests/test_evaluation`` checks
the same algorithm against the reference numbers.  Used only to time
against; not part of the package.
"""
import multiprocessing
import os.path as osp
from collections import defaultdict

import numpy as np
from PIL import Image

OFFSET = 256 * 256 * 256
VOID = 0


def _rgb2id(color):
    color = color.astype(np.int32) if color.dtype == np.uint8 else color
    return color[:, :, 0] + 256 * color[:, :, 1] + 256 * 256 * color[:, :, 2]


def image_stats(pan_gt, pan_pred, gt_ann, pred_ann, stat):
    """Add one image's [iou, tp, fp, fn] per category to ``stat``."""
    gt_segms = {el['id']: dict(el) for el in gt_ann['segments_info']}
    pred_segms = {el['id']: dict(el) for el in pred_ann['segments_info']}
    labels, labels_cnt = np.unique(pan_pred, return_counts=True)
    for label, cnt in zip(labels, labels_cnt):
        if label not in pred_segms:
            if label == VOID:
                continue
            raise KeyError(f'segment {label} in PNG and not in JSON')
        pred_segms[label]['area'] = cnt
    pan_gt_pred = pan_gt.astype(np.uint64) * OFFSET + pan_pred.astype(np.uint64)
    gt_pred_map = {}
    labels, labels_cnt = np.unique(pan_gt_pred, return_counts=True)
    for label, intersection in zip(labels, labels_cnt):
        gt_pred_map[(int(label // OFFSET), int(label % OFFSET))] = int(intersection)
    gt_matched, pred_matched = set(), set()
    for (g, p), inter in gt_pred_map.items():
        if g not in gt_segms or p not in pred_segms:
            continue
        if gt_segms[g]['iscrowd'] == 1:
            continue
        if gt_segms[g]['category_id'] != pred_segms[p]['category_id']:
            continue
        union = pred_segms[p]['area'] + gt_segms[g]['area'] - inter - \
            gt_pred_map.get((VOID, p), 0)
        iou = inter / union
        if iou > 0.5:
            s = stat[gt_segms[g]['category_id']]
            s[1] += 1
            s[0] += iou
            gt_matched.add(g)
            pred_matched.add(p)
    crowd = {}
    for g, info in gt_segms.items():
        if g in gt_matched:
            continue
        if info['iscrowd'] == 1:
            crowd[info['category_id']] = g
            continue
        stat[info['category_id']][3] += 1
    for p, info in pred_segms.items():
        if p in pred_matched:
            continue
        inter = gt_pred_map.get((VOID, p), 0)
        if info['category_id'] in crowd:
            inter += gt_pred_map.get((crowd[info['category_id']], p), 0)
        if inter / info['area'] > 0.5:
            continue
        stat[info['category_id']][2] += 1
    return stat


def new_stat():
    return defaultdict(lambda: [0.0, 0, 0, 0])  # iou, tp, fp, fn


def _single_core(pairs, gt_dir, pred_dir, categories):
    stat = new_stat()
    for gt_ann, pred_ann in pairs:
        pan_gt = _rgb2id(np.array(Image.open(osp.join(gt_dir, gt_ann['file_name'])),
                                  dtype=np.uint32))
        pan_pred = _rgb2id(np.array(Image.open(osp.join(pred_dir, pred_ann['file_name'])),
                                    dtype=np.uint32))
        image_stats(pan_gt, pan_pred, gt_ann, pred_ann, stat)
    return dict(stat)


def _summary(stat, categories):
    def average(isthing):
        n, pq, sq, rq = 0, 0.0, 0.0, 0.0
        for cat, info in categories.items():
            if isthing is not None and bool(info['isthing']) != isthing:
                continue
            iou, tp, fp, fn = stat.get(cat, [0.0, 0, 0, 0])
            if tp + fp + fn == 0:
                continue
            n += 1
            pq += iou / (tp + 0.5 * fp + 0.5 * fn)
            sq += iou / tp if tp else 0
            rq += tp / (tp + 0.5 * fp + 0.5 * fn)
        return dict(pq=pq / n, sq=sq / n, rq=rq / n, n=n) if n else None
    return {'All': average(None), 'Things': average(True), 'Stuff': average(False)}


def pq_compute(gt_json, pred_json, gt_dir, pred_dir, nproc=1):
    """PQ summary of already loaded gt / pred JSON dicts (like panopticapi)."""
    categories = {c['id']: c for c in gt_json['categories']}
    preds = {a['image_id']: a for a in pred_json['annotations']}
    pairs = [(g, preds[g['image_id']]) for g in gt_json['annotations']]
    if nproc <= 1:
        stat = _single_core(pairs, gt_dir, pred_dir, categories)
    else:
        chunks = np.array_split(np.arange(len(pairs)), nproc)
        with multiprocessing.get_context('fork').Pool(nproc) as pool:
            parts = pool.starmap(_single_core, [([pairs[i] for i in c], gt_dir, pred_dir,
                                                 categories) for c in chunks])
        stat = new_stat()
        for part in parts:
            for cat, v in part.items():
                for k in range(4):
                    stat[cat][k] += v[k]
    return _summary(stat, categories)
