"""The FP / FN breakdown: hand-built images where the cause is known, and on
random COCO-like images the causes add up to PQ's FP and FN for every class."""
import numpy as np
import pytest

from mmpanoptic.evaluation.functional import pair_counts, pq_image_stats
from mmpanoptic.evaluation.functional.pq_errors import (
    FN_CAUSES,
    FP_CAUSES,
    PQErrorStats,
    pq_error_causes,
)

A, B, C = 1, 2, 3
CATS = {A: dict(isthing=1), B: dict(isthing=1), C: dict(isthing=0)}


def gseg(i, cat, ids, crowd=0):
    return dict(id=i, category_id=cat, iscrowd=crowd, area=int((ids == i).sum()))


def causes(gt, gts, pred, preds):
    return pq_error_causes(*pair_counts(gt, pred), gts, preds, CATS)


def nonzero(table):
    return {cat: {k: v for k, v in c.items() if v} for cat, c in table.items()
            if any(c.values())}


def test_wrong_class_on_both_sides():
    gt = np.ones((4, 4), int)
    pred = np.full((4, 4), 5)
    r = causes(gt, [gseg(1, A, gt)], pred, [dict(id=5, category_id=B)])
    assert nonzero(r['fn']) == {A: {'wrong_class': 1}}
    assert nonzero(r['fp']) == {B: {'wrong_class': 1}}
    assert r['confusion'] == {(A, B): 1}


def test_two_neighbours_merged_into_one_prediction():
    gt = np.array([[1, 1, 2, 2]] * 4)
    pred = np.full((4, 4), 5)
    r = causes(gt, [gseg(1, A, gt), gseg(2, A, gt)], pred, [dict(id=5, category_id=A)])
    assert nonzero(r['fn']) == {A: {'merged': 2}}  # IoU exactly 0.5: no match
    assert nonzero(r['fp']) == {A: {'merged': 1}}


def test_one_object_split_in_two():
    gt = np.ones((4, 4), int)
    pred = np.array([[5, 5, 6, 6]] * 4)
    r = causes(gt, [gseg(1, A, gt)], pred, [dict(id=5, category_id=A),
                                             dict(id=6, category_id=A)])
    assert nonzero(r['fn']) == {A: {'split': 1}}
    assert nonzero(r['fp']) == {A: {'split': 2}}


def test_duplicate_of_a_matched_object():
    gt = np.ones((4, 4), int)
    pred = np.full((4, 4), 5)
    pred[3] = 6  # 12 px match (IoU 0.75), 4 px left for a second prediction
    r = causes(gt, [gseg(1, A, gt)], pred, [dict(id=5, category_id=A),
                                             dict(id=6, category_id=A)])
    assert nonzero(r['fn']) == {}
    assert nonzero(r['fp']) == {A: {'duplicate': 1}}


def test_missed_object_and_crowd_void_and_background():
    gt = np.zeros((4, 10), int)
    gt[:, :4] = 1      # thing A: predicted as VOID -> missed
    gt[:, 4:7] = 9     # stuff C
    gt[:, 7:] = 0      # VOID
    pred = np.zeros((4, 10), int)
    pred[:, 4:7] = 8   # a thing A prediction lying on stuff C -> background
    pred[0:2, 6:9] = 7  # 6 px: 2 on stuff C, 4 on VOID (2/3 VOID -> ignored)
    pred[2:4, 5:8] = 6  # 6 px: 4 on stuff, 2 on VOID: the largest part is stuff
    gts = [gseg(1, A, gt), gseg(9, C, gt)]
    preds = [dict(id=8, category_id=A), dict(id=7, category_id=A), dict(id=6, category_id=A)]
    r = causes(gt, gts, pred, preds)
    assert nonzero(r['fn'])[A] == {'missed': 1}
    assert nonzero(r['fp']) == {A: {'background': 2}}  # 7 is ignored, as PQ does
    # VOID the largest part of a prediction, but not more than half of it:
    # 9 px = 2 on thing A, 3 on stuff C, 4 on VOID.
    pred2 = np.zeros((4, 10), int)
    pred2[0, 2:10] = 7
    pred2[1, 9] = 7
    r = causes(gt, gts, pred2, [dict(id=7, category_id=A)])
    assert nonzero(r['fp']) == {A: {'crowd_void': 1}}


@pytest.mark.parametrize('seed', range(4))
def test_causes_add_up_to_fp_and_fn(seed):
    from .test_coco_panoptic_eval import _coco_like_pair
    rng = np.random.default_rng(seed)
    cats = {c: dict(isthing=int(c <= 3)) for c in range(1, 7)}
    total = PQErrorStats()
    fp = dict.fromkeys(cats, 0)
    fn = dict.fromkeys(cats, 0)
    for _ in range(5):
        gt, gts, pred, preds = _coco_like_pair(rng, 60, 70, int(rng.integers(4, 12)))
        stats = pq_image_stats(gt, gts, pred, preds, cats)
        total.add(pq_error_causes(*pair_counts(gt, pred), gts, preds, cats), 'img', stats)
        for cat, s in stats.items():
            fp[cat] += int(s[2])
            fn[cat] += int(s[3])
    for cat in cats:
        assert sum(total.fn[cat].values()) == fn[cat]
        assert sum(total.fp[cat].values()) == fp[cat]
        assert set(total.fn[cat]) == set(FN_CAUSES) and set(total.fp[cat]) == set(FP_CAUSES)
    assert len(total.worst_images(3)) == 3


def test_cli_writes_breakdown_and_pictures(tmp_path):
    import json
    import os.path as osp
    import subprocess
    import sys

    from .test_coco_panoptic_eval import CASES, ROOT, _args
    gt_json, gt_dir, pred_json, pred_dir = _args(osp.join(CASES, 'pq_gold_deeplab_multi'))
    out = tmp_path / 'r.json'
    proc = subprocess.run([sys.executable, 'tools/analysis_tools/pq_eval.py', '--gt-json',
                           gt_json, '--gt-dir', gt_dir, '--pred-json', pred_json, '--pred-dir',
                           pred_dir, '--plot', str(tmp_path / 'plots'), '--out', str(out),
                           '--no-progress'], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'errors by cause' in proc.stdout and 'lowest PQ' in proc.stdout
    res = json.load(open(out))
    for cat, r in res['per_class'].items():
        assert sum(res['errors'][cat]['fp'].values()) == r['fp']
        assert sum(res['errors'][cat]['fn'].values()) == r['fn']
    for name in ('pq_per_class.png', 'class_confusion.png'):
        assert (tmp_path / 'plots' / name).stat().st_size > 5000


def test_analyze_logs_reads_a_work_dir_and_plots(tmp_path):
    """tools/analysis_tools/analyze_logs.py on a work dir in mmengine's layout."""
    import json
    import subprocess
    import sys

    from .test_coco_panoptic_eval import ROOT
    vis = tmp_path / 'work' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = [dict(lr=0.1, loss=2.0 / (i + 1), loss_cls=1.0 / (i + 1), iter=i + 1, step=i + 1)
             for i in range(20)]
    lines.insert(10, {'panoptic/PQ': 20.0, 'panoptic/PQ_th': 10.0, 'step': 0})
    lines.append({'panoptic/PQ': 35.5, 'panoptic/PQ_th': 30.0, 'step': 0})
    (vis / 'scalars.json').write_text('\n'.join(json.dumps(x) for x in lines))
    out = tmp_path / 'curves.png'
    proc = subprocess.run([sys.executable, 'tools/analysis_tools/analyze_logs.py',
                           str(tmp_path / 'work'), '--out', str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'panoptic/PQ' in proc.stdout and 'best 35.50 at iter 20' in proc.stdout
    assert 'loss' in proc.stdout and 'last 0.1000' in proc.stdout
    assert out.stat().st_size > 10000
