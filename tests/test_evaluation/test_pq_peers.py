"""torchmetrics' ``PanopticQuality`` (the PQ that EoMT and Lightning users see)
as a second peer of our PQ, which equals the official panopticapi
(test_pq.py, test_coco_panoptic_eval.py).

Where the two agree and where they differ, each shown here (docs/evaluation.md):

- agree: a match is the same category with IoU > 0.5; ground-truth VOID pixels
  are left out of a prediction's union, a prediction mostly on VOID is not a
  false positive; the mean is over the classes with TP + FP + FN > 0.  On
  images without crowd regions and without VOID in the prediction the two
  give the same PQ / SQ / RQ per class.
- differ: (1) torchmetrics has no ``iscrowd``: a crowd region is an ordinary
  segment (a false negative when missed) and predictions on it are false
  positives; (2) it also leaves *prediction*-VOID pixels out of the union and
  ignores a ground-truth segment that is mostly VOID in the prediction
  (panopticapi: a false negative); (3) it merges the instance ids of a stuff
  class into one segment.
"""
import numpy as np
import pytest
import torch

from mmpanoptic.evaluation.functional import PQStats, pq_image_stats, pq_summary

from ..extras import require

tm_detection = require('torchmetrics.detection', 'torchmetrics')

CATS = {1: dict(id=1, name='car', isthing=1), 2: dict(id=2, name='person', isthing=1),
        3: dict(id=3, name='road', isthing=0), 4: dict(id=4, name='sky', isthing=0)}
VOID_CAT = 99  # not a category: torchmetrics' "unknown" = void


def _to_torchmetrics(ids, segments):
    """An id map + segments_info -> torchmetrics' (H, W, 2) [category, instance]."""
    out = np.zeros(ids.shape + (2,), np.int64)
    out[..., 0] = VOID_CAT
    for s in segments:
        mask = ids == s['id']
        out[mask, 0] = s['category_id']
        out[mask, 1] = s['id']
    return torch.from_numpy(out)


def _ours(images):
    stats = PQStats()
    for k, (gt, gt_segs, pred, pred_segs) in enumerate(images):
        gt_segs = [dict(s, area=int((gt == s['id']).sum())) for s in gt_segs]
        stats.add(pq_image_stats(gt, gt_segs, pred, pred_segs, CATS, image=str(k)))
    return pq_summary(stats, CATS)


def _theirs(images):
    metric = tm_detection.PanopticQuality(things={1, 2}, stuffs={3, 4},
                                          allow_unknown_preds_category=True,
                                          return_sq_and_rq=True, return_per_class=True)
    for gt, gt_segs, pred, pred_segs in images:
        metric.update(_to_torchmetrics(pred, pred_segs)[None],
                      _to_torchmetrics(gt, gt_segs)[None])
    return metric.compute()  # (classes, 3): PQ, SQ, RQ in category order 1..4


def _random_image(rng, h=48, w=64, pred_void=False):
    """A scene and a prediction that shifts, relabels, drops and invents things."""
    gt = np.where(np.arange(h)[:, None] < rng.integers(8, 24), 4, 3) * np.ones((1, w), np.int64)
    gt_segs = [dict(id=3, category_id=3, iscrowd=0), dict(id=4, category_id=4, iscrowd=0)]
    pred = gt.copy()
    pred_segs = [dict(id=3, category_id=3), dict(id=4, category_id=4)]
    for j in range(int(rng.integers(2, 6))):
        y, x = int(rng.integers(0, h - 10)), int(rng.integers(0, w - 12))
        hh, ww, cat = int(rng.integers(4, 10)), int(rng.integers(4, 12)), int(rng.integers(1, 3))
        gt[y:y + hh, x:x + ww] = 100 + j
        gt_segs.append(dict(id=100 + j, category_id=cat, iscrowd=0))
        fate = rng.random()
        if fate < 0.7:  # found, maybe shifted, maybe wrong class
            dy, dx = int(rng.integers(-3, 4)), int(rng.integers(-3, 4))
            y2, x2 = max(0, y + dy), max(0, x + dx)
            pred[y2:y2 + hh, x2:x2 + ww] = 200 + j
            pred_segs.append(dict(id=200 + j, category_id=cat if rng.random() < 0.8 else 3 - cat))
    if rng.random() < 0.5:  # a false positive
        pred[2:6, 2:8] = 300
        pred_segs.append(dict(id=300, category_id=1))
    gt[0, :int(rng.integers(0, 10))] = 0  # ground-truth VOID: both leave it out
    if pred_void:
        pred[h // 2:h // 2 + 6, :] = 0
    gt_segs = [s for s in gt_segs if (gt == s['id']).any()]
    pred_segs = [s for s in pred_segs if (pred == s['id']).any()]
    return gt, gt_segs, pred, pred_segs


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_torchmetrics_agrees_without_crowd_and_prediction_void(seed):
    rng = np.random.default_rng(seed)
    images = [_random_image(rng) for _ in range(6)]
    ours, theirs = _ours(images), _theirs(images)
    for row, cat in zip(theirs.tolist(), sorted(CATS)):
        mine = ours['per_class'].get(cat) or ours['per_class'].get(str(cat))
        assert mine is not None
        # torchmetrics returns float32 fractions
        assert row == pytest.approx([mine['pq'], mine['sq'], mine['rq']], abs=1e-6), cat
    # Not a vacuous comparison: every class is scored and not all perfectly.
    assert 0 < ours['All']['pq'] < 1 and ours['All']['n'] == 4


def _per_class(ours, cat):
    return ours['per_class'].get(cat) or ours['per_class'].get(str(cat))


def test_crowd_region_is_an_ordinary_segment_for_torchmetrics():
    gt = np.full((10, 10), 3)
    gt[2:6, 2:6] = 50  # a crowd of cars
    gt_segs = [dict(id=3, category_id=3, iscrowd=0), dict(id=50, category_id=1, iscrowd=1)]
    pred = np.full((10, 10), 3)
    pred[2:5, 2:5] = 7  # a car predicted inside the crowd
    pred_segs = [dict(id=3, category_id=3), dict(id=7, category_id=1)]
    images = [(gt, gt_segs, pred, pred_segs)]
    ours, theirs = _ours(images), _theirs(images)
    # panopticapi: the crowd is ignored, the car on it is no false positive.
    assert ours['Things'] is None  # no thing class scored
    # torchmetrics: car IoU 9/16 > 0.5 -> a true positive of class car.
    assert theirs[0].tolist() == pytest.approx([9 / 16, 9 / 16, 1.0])


def test_prediction_void_leaves_the_union_in_torchmetrics_only():
    gt = np.full((4, 4), 3)
    gt_segs = [dict(id=3, category_id=3, iscrowd=0)]
    pred = np.full((4, 4), 3)
    pred[:, :3] = 0  # 12 of 16 pixels VOID in the prediction
    pred_segs = [dict(id=3, category_id=3)]
    images = [(gt, gt_segs, pred, pred_segs)]
    ours, theirs = _ours(images), _theirs(images)
    # panopticapi: IoU 4/16 -> no match: one FP and one FN, PQ 0.
    assert _per_class(ours, 3)['pq'] == 0
    # torchmetrics: the gt segment is mostly VOID in the prediction -> not an
    # FN; the union leaves the 12 VOID pixels out -> IoU 4/4, a match.
    assert theirs[2].tolist() == pytest.approx([1.0, 1.0, 1.0])
