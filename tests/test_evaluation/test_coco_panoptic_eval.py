"""File-level PQ evaluation, the pq_eval CLI, the size breakdown and the
runner metric's COCO panoptic dump."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmpanoptic.evaluation import PanopticQualityMetric
from mmpanoptic.evaluation.files.pq_eval import evaluate_panoptic_files, summary_to_json
from mmpanoptic.evaluation.functional import (
    PanopticEvalError,
    PQStats,
    pq_image_stats_by_size,
    pq_summary,
)
from mmpanoptic.fileio import PanopticFileError
from mmpanoptic.structures import id2rgb

HERE = osp.dirname(__file__)
CASES = osp.join(HERE, '..', 'data', 'panoptic_eval_cases')
ROOT = osp.join(HERE, '..', '..')


def _args(case_dir):
    return (osp.join(case_dir,
                     'gt.json'), osp.join(case_dir,
                                          'gt'), osp.join(case_dir,
                                                          'pred.json'), osp.join(case_dir, 'pred'))


@pytest.mark.parametrize('name', sorted(os.listdir(CASES)))
@pytest.mark.parametrize('nproc', [1, 2])
def test_files_match_reference(name, nproc):
    exp = json.load(open(osp.join(CASES, name, 'expected.json')))['expected']
    res = summary_to_json(
        evaluate_panoptic_files(*_args(osp.join(CASES, name)), nproc=nproc, progress=False))
    for split in ('All', 'Things', 'Stuff'):
        if exp[split] is None:
            assert res[split] is None
        else:
            for k in ('pq', 'sq', 'rq', 'n'):
                assert res[split][k] == pytest.approx(exp[split][k], abs=1e-9)
    for cat, e in exp['per_class'].items():
        for k in ('pq', 'sq', 'rq'):
            assert res['per_class'][cat][k] == pytest.approx(e[k], abs=1e-9)


def test_cli_json_layout(tmp_path):
    case = osp.join(CASES, 'pq_gold_deeplab_team')
    gt_json, gt_dir, pred_json, pred_dir = _args(case)
    out = tmp_path / 'r.json'
    proc = subprocess.run([
        sys.executable, 'tools/analysis_tools/pq_eval.py', '--gt-json', gt_json, '--gt-dir', gt_dir,
        '--pred-json', pred_json, '--pred-dir', pred_dir, '--out',
        str(out), '--nproc', '2'
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert '| All ' in proc.stdout and 'things by size' in proc.stdout
    res = json.load(open(out))
    assert set(res) == {'All', 'Things', 'Stuff', 'per_class', 'things_by_size'}
    assert set(res['All']) == {'pq', 'sq', 'rq', 'n'}
    assert res['All']['pq'] == pytest.approx(0.62156284, abs=1e-6)  # published number
    assert set(res['per_class']) == {'2', '3'}
    assert set(res['per_class']['2']) == {'pq', 'sq', 'rq', 'tp', 'fp', 'fn'}


def test_cli_bad_input_exits_with_message(tmp_path):
    bad = tmp_path / 'pred.json'
    bad.write_text(json.dumps([1, 2, 3]))
    gt_json, gt_dir, _, pred_dir = _args(osp.join(CASES, 'pq_gold_deeplab_team'))
    proc = subprocess.run([
        sys.executable, 'tools/analysis_tools/pq_eval.py', '--gt-json', gt_json, '--gt-dir', gt_dir,
        '--pred-json',
        str(bad), '--pred-dir', pred_dir
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert 'is not COCO panoptic' in proc.stderr and 'Traceback' not in proc.stderr


def _copy_case(tmp_path, name='pq_panopticapi_sample_perturbed'):
    d = tmp_path / name
    shutil.copytree(osp.join(CASES, name), d)
    return str(d)


def _edit(path, fn):
    data = json.load(open(path))
    fn(data)
    json.dump(data, open(path, 'w'))


def test_bad_files(tmp_path):
    d = _copy_case(tmp_path)
    pred = json.load(open(osp.join(d, 'pred.json')))
    first = pred['annotations'][0]
    image = f'image {first["image_id"]}'

    _edit(osp.join(d, 'pred.json'), lambda x: x['annotations'].pop(0))
    with pytest.raises(PanopticEvalError, match=f'{image} .*no prediction'):
        evaluate_panoptic_files(*_args(d), progress=False)
    json.dump(pred, open(osp.join(d, 'pred.json'), 'w'))

    png = osp.join(d, 'pred', first['file_name'])
    os.rename(png, png + '.bak')
    with pytest.raises(PanopticFileError, match=f'{image} .*PNG not found'):
        evaluate_panoptic_files(*_args(d), progress=False)
    with open(png, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(PanopticFileError, match=f'{image} .*unreadable'):
        evaluate_panoptic_files(*_args(d), progress=False)
    import cv2
    cv2.imwrite(png, np.zeros((5, 7, 3), np.uint8))
    with pytest.raises(PanopticEvalError, match=f'{image} .*differs from ground truth'):
        evaluate_panoptic_files(*_args(d), progress=False)
    os.replace(png + '.bak', png)

    _edit(osp.join(d, 'pred.json'), lambda x: x['annotations'].append(dict(x['annotations'][0])))
    with pytest.raises(PanopticEvalError, match=f'image {first["image_id"]} has two annotations'):
        evaluate_panoptic_files(*_args(d), progress=False)


def test_things_by_size_hand_case():
    cats = {1: dict(isthing=1), 3: dict(isthing=0)}
    gt = np.zeros((40, 40), int)
    gt[:5, :5] = 1  # small thing (25 px), matched
    gt[10:40, 0:40] = 2  # medium thing (1200 px), missed
    gt[5:10, :] = 3  # stuff
    pred = np.zeros_like(gt)
    pred[:5, :5] = 7
    pred[10:40, :] = 9  # labelled stuff -> a FP of class 3, not a thing
    segs_gt = [
        dict(id=1, category_id=1, iscrowd=0, area=25),
        dict(id=2, category_id=1, iscrowd=0, area=1200),
        dict(id=3, category_id=3, iscrowd=0, area=200)
    ]
    segs_pred = [dict(id=7, category_id=1), dict(id=9, category_id=3)]
    stats, sized = pq_image_stats_by_size(gt, segs_gt, pred, segs_pred, cats)
    assert sized['small'][1].tolist() == [1.0, 1, 0, 0]
    assert sized['medium'][1].tolist() == [0.0, 0, 0, 1]
    assert 3 not in sized['small'] and 3 not in sized['medium']  # stuff has no sizes
    res = pq_summary(PQStats().add(stats, sized), cats)
    assert res['things_by_size']['small']['pq'] == 1.0
    assert res['things_by_size']['medium']['pq'] == 0.0
    assert res['things_by_size']['large'] is None


def _sample(img_id, ids, segs_gt, segs_pred):
    t = torch.from_numpy(ids[None].astype(np.int32))
    return dict(img_id=img_id,
                img_path=f'/x/{img_id:012d}.jpg',
                gt_panoptic_seg=dict(sem_seg=t, segments_info=segs_gt),
                pred_panoptic_seg=dict(sem_seg=t, segments_info=segs_pred))


def test_metric_in_memory_and_dump_round_trip(tmp_path):
    meta = dict(classes=('a', 'sky'), category_ids=(4, 21), isthing=(True, False))
    ids = np.zeros((6, 8), np.int64)
    ids[:, :3] = 300
    ids[:, 3:] = 5
    segs_gt = [
        dict(id=300, category_id=4, iscrowd=0, area=18, label=0),
        dict(id=5, category_id=21, iscrowd=0, area=30, label=1)
    ]
    segs_pred = [dict(id=300, label=0, isthing=True), dict(id=5, label=1, isthing=False)]
    prefix = str(tmp_path / 'out' / 'preds')
    metric = PanopticQualityMetric(outfile_prefix=prefix)
    metric.dataset_meta = meta
    metric.process({}, [_sample(1, ids, segs_gt, segs_pred)])
    res = metric.evaluate(1)
    assert res['panoptic/PQ'] == 100.0 and res['panoptic/PQ_th_small'] == 100.0
    # The dump is valid COCO panoptic: evaluate it against a gt built from the same map.
    gt_dir = tmp_path / 'gt'
    gt_dir.mkdir()
    import cv2
    cv2.imwrite(str(gt_dir / '000000000001.png'), id2rgb(ids)[..., ::-1])
    gt_json = tmp_path / 'gt.json'
    json.dump(
        dict(images=[dict(id=1, file_name='000000000001.jpg')],
             annotations=[
                 dict(image_id=1,
                      file_name='000000000001.png',
                      segments_info=[{
                          k: v
                          for k, v in s.items() if k != 'label'
                      } for s in segs_gt])
             ],
             categories=[dict(id=4, name='a', isthing=1),
                         dict(id=21, name='sky', isthing=0)]), open(gt_json, 'w'))
    summary = evaluate_panoptic_files(str(gt_json),
                                      str(gt_dir),
                                      prefix + '.panoptic.json',
                                      prefix + '.panoptic',
                                      progress=False)
    assert summary['All']['pq'] == 1.0


def test_metric_format_only_needs_no_gt(tmp_path):
    prefix = str(tmp_path / 'sub')
    metric = PanopticQualityMetric(format_only=True, outfile_prefix=prefix)
    metric.dataset_meta = dict(classes=('sky', ), category_ids=(21, ), isthing=(False, ))
    ids = np.ones((4, 4), np.int64)
    s = _sample(3, ids, [], [dict(id=1, label=0)])
    del s['gt_panoptic_seg']
    metric.process({}, [s])
    assert metric.evaluate(1) == {}
    data = json.load(open(prefix + '.panoptic.json'))
    assert data['annotations'][0]['segments_info'][0] == dict(id=1,
                                                              category_id=21,
                                                              iscrowd=0,
                                                              area=16,
                                                              bbox=[0, 0, 4, 4])
    with pytest.raises(ValueError, match='outfile_prefix'):
        PanopticQualityMetric(format_only=True)


def test_metric_class_groups_average_their_classes_only():
    # three classes: 'a' perfect (PQ 1), 'b' missed (PQ 0), 'sky' perfect
    meta = dict(classes=('a', 'b', 'sky'), category_ids=(4, 5, 21),
                isthing=(True, True, False))
    ids = np.zeros((6, 8), np.int64)
    ids[:, :2] = 300
    ids[:, 2:4] = 301
    ids[:, 4:] = 5
    segs_gt = [dict(id=300, category_id=4, iscrowd=0, area=12, label=0),
               dict(id=301, category_id=5, iscrowd=0, area=12, label=1),
               dict(id=5, category_id=21, iscrowd=0, area=24, label=2)]
    pred = ids.copy()
    pred[:, 2:4] = 0  # 'b' not predicted: one FN
    segs_pred = [dict(id=300, label=0, isthing=True), dict(id=5, label=2, isthing=False)]
    metric = PanopticQualityMetric(class_groups=dict(base=['a', 'sky'], novel=['b']))
    metric.dataset_meta = meta
    def sample():
        out = _sample(1, ids, segs_gt, segs_pred)
        out['pred_panoptic_seg']['sem_seg'] = torch.from_numpy(pred[None].astype(np.int32))
        return out

    metric.process({}, [sample()])
    res = metric.evaluate(1)
    assert res['panoptic/PQ_base'] == 100.0 and res['panoptic/PQ_novel'] == 0.0
    assert abs(res['panoptic/PQ'] - 200 / 3) < 1e-9
    bad = PanopticQualityMetric(class_groups=dict(novel=['zebra']))
    bad.dataset_meta = meta
    bad.process({}, [sample()])
    with pytest.raises(ValueError, match="class_groups\\['novel'\\].*zebra"):
        bad.evaluate(1)


def test_metric_reports_no_result_as_nan_not_zero():
    """Only stuff in ground truth and prediction: things have no result.
    panopticapi divides by zero there; a PQ_th of 0.0 would read as a failure."""
    import math
    meta = dict(classes=('a', 'sky'), category_ids=(4, 21), isthing=(True, False))
    ids = np.full((6, 8), 5, np.int64)
    segs_gt = [dict(id=5, category_id=21, iscrowd=0, area=48, label=1)]
    out = _sample(1, ids, segs_gt, [dict(id=5, label=1, isthing=False)])
    out['pred_panoptic_seg']['sem_seg'] = torch.from_numpy(ids[None].astype(np.int32))
    metric = PanopticQualityMetric()
    metric.dataset_meta = meta
    metric.process({}, [out])
    res = metric.evaluate(1)
    assert res['panoptic/PQ'] == 100.0 and res['panoptic/PQ_st'] == 100.0
    assert math.isnan(res['panoptic/PQ_th']) and math.isnan(res['panoptic/SQ_th'])


@pytest.mark.parametrize('name', sorted(os.listdir(CASES)))
def test_files_match_panopticapi_itself(name):
    """Every bundled case against the official panopticapi run in this test
    (not only against the numbers it recorded): splits and every class."""
    from .panopticapi_ref import panopticapi_on_case, panopticapi_results
    stat, cats = panopticapi_on_case(osp.join(CASES, name))
    ref = panopticapi_results(stat, cats)
    ours = evaluate_panoptic_files(*_args(osp.join(CASES, name)), progress=False)
    for split in ('All', 'Things', 'Stuff'):
        assert (ours[split] is None) == (ref[split] is None), split
        if ref[split] is not None:
            for k in ('pq', 'sq', 'rq', 'n'):
                assert ours[split][k] == pytest.approx(ref[split][k], abs=1e-9)
    for cat in cats:
        r = stat.pq_per_cat[cat]
        o = ours['per_class'][cat]
        assert (o['tp'], o['fp'], o['fn']) == (r.tp, r.fp, r.fn)
        assert o['iou_sum'] == pytest.approx(r.iou, abs=1e-9)


def _coco_like_pair(rng, h, w, n):
    """Voronoi-ish gt with 24-bit ids, VOID borders and crowds, and a
    prediction with moved boundaries, merges, wrong classes and VOID."""
    yy, xx = np.mgrid[0:h, 0:w]
    seeds = rng.uniform([0, 0], [h, w], (n, 2))
    d = (yy[None] - seeds[:, 0, None, None])**2 + (xx[None] - seeds[:, 1, None, None])**2
    lab = d.argmin(0)
    gt_of = rng.choice(np.arange(1, 2**24), n, replace=False)
    gt = gt_of[lab]
    gt[rng.random((h, w)) < 0.01] = 0
    pseeds = seeds + rng.normal(0, 3, seeds.shape)
    d = (yy[None] - pseeds[:, 0, None, None])**2 + (xx[None] - pseeds[:, 1, None, None])**2
    plab = d.argmin(0)
    plab = np.where(rng.random(n)[plab] < 0.1, (plab + 1) % n, plab)
    pred_of = rng.choice(np.arange(1, 2**24), n, replace=False)
    pred = pred_of[plab]
    pred[rng.random((h, w)) < 0.005] = 0
    cat_of = rng.integers(1, 7, n)
    gt_segs = [dict(id=int(gt_of[i]), category_id=int(cat_of[i]),
                    iscrowd=int(cat_of[i] <= 3 and rng.random() < 0.15),
                    area=int((gt == gt_of[i]).sum())) for i in range(n)
               if (gt == gt_of[i]).any()]
    pred_segs = [dict(id=int(pred_of[i]),
                      category_id=int(cat_of[i] if rng.random() > 0.2 else rng.integers(1, 7)))
                 for i in range(n) if (pred == pred_of[i]).any()]
    return gt, gt_segs, pred, pred_segs


@pytest.mark.parametrize('seed', range(3))
def test_png_evaluation_matches_panopticapi_on_random_coco_like_images(seed, tmp_path):
    from .panopticapi_ref import panopticapi_results, panopticapi_stats
    rng = np.random.default_rng(seed)
    cats = {c: dict(isthing=int(c <= 3), name=f'c{c}') for c in range(1, 7)}
    pairs = [_coco_like_pair(rng, int(rng.integers(40, 90)), int(rng.integers(40, 90)),
                             int(rng.integers(3, 12))) for _ in range(6)]
    ref_stat = panopticapi_stats(pairs, cats, str(tmp_path))
    ref = panopticapi_results(ref_stat, cats)
    names = [f'{k:06d}.png' for k in range(len(pairs))]
    gt_json = dict(images=[dict(id=k, file_name=n) for k, n in enumerate(names)],
                   categories=[dict(id=c, **v) for c, v in cats.items()],
                   annotations=[dict(image_id=k, file_name=n, segments_info=p[1])
                                for k, (n, p) in enumerate(zip(names, pairs))])
    pred_json = dict(annotations=[dict(image_id=k, file_name=n, segments_info=p[3])
                                  for k, (n, p) in enumerate(zip(names, pairs))])
    for nproc in (1, 2):
        ours = evaluate_panoptic_files(gt_json, str(tmp_path / 'gt'), pred_json,
                                       str(tmp_path / 'pred'), nproc=nproc, progress=False)
        for split in ('All', 'Things', 'Stuff'):
            for k in ('pq', 'sq', 'rq', 'n'):
                assert ours[split][k] == pytest.approx(ref[split][k], abs=1e-9)
        for cat in cats:
            r = ref_stat.pq_per_cat[cat]
            assert ours['per_class'][cat]['iou_sum'] == pytest.approx(r.iou, abs=1e-9)
            assert [ours['per_class'][cat][k] for k in ('tp', 'fp', 'fn')] == [r.tp, r.fp, r.fn]


def test_png_decoders_agree(tmp_path, monkeypatch):
    """The libspng path and the OpenCV fallback give the same id words,
    also for an RGBA file (alpha ignored, as panopticapi does)."""
    from mmpanoptic.fileio import png as png_io
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 2**24, (13, 17))
    rgb = id2rgb(ids)
    from PIL import Image
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    Image.fromarray(np.dstack([rgb, rng.integers(0, 256, (13, 17), np.uint8)])).save(
        tmp_path / 'b.png')
    for name in ('a.png', 'b.png'):
        got = [png_io.read_png_words(str(tmp_path / name), 'img') & 0xFFFFFF]
        with monkeypatch.context() as m:
            m.setattr(png_io, 'pyspng', None)
            got.append(png_io.read_png_words(str(tmp_path / name), 'img') & 0xFFFFFF)
        for g in got:
            np.testing.assert_array_equal(g, ids)


def test_cli_starts_without_torch(tmp_path):
    """The PQ CLI is numpy + OpenCV (+ libspng): no torch / mmengine import."""
    case = osp.join(CASES, 'pq_gold_deeplab_team')
    gt_json, gt_dir, pred_json, pred_dir = _args(case)
    code = ('import runpy, sys\n'
            f'sys.argv = ["pq_eval.py", "--gt-json", {gt_json!r}, "--gt-dir", {gt_dir!r}, '
            f'"--pred-json", {pred_json!r}, "--pred-dir", {pred_dir!r}, "--no-progress"]\n'
            'runpy.run_path("tools/analysis_tools/pq_eval.py", run_name="__main__")\n'
            'heavy = [m for m in ("torch", "mmengine", "mmcv", "mmdet") if m in sys.modules]\n'
            'print("HEAVY", heavy)\n')
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'HEAVY []' in proc.stdout
    assert '| All' in proc.stdout
