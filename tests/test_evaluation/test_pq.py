"""PQ against the reference numbers, hand-computed cases and an independent
loop implementation of COCO's pq_compute on random inputs."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmpanoptic.evaluation.functional import PanopticEvalError, PQStats, pq_image_stats, pq_summary
from mmpanoptic.structures import rgb2id

from ..e2e_utils import read_json

CASES = osp.join(osp.dirname(__file__), '..', 'data', 'panoptic_eval_cases')


def _load_case(name):
    d = osp.join(CASES, name)
    gt = read_json(osp.join(d, 'gt.json'))
    pred = read_json(osp.join(d, 'pred.json'))
    exp = read_json(osp.join(d, 'expected.json'))
    return d, gt, pred, exp


def _png(path):
    return rgb2id(np.array(Image.open(path).convert('RGB')))


def _evaluate_case(name):
    d, gt, pred, _ = _load_case(name)
    cats = {c['id']: c for c in gt['categories']}
    preds = {a['image_id']: a for a in pred['annotations']}
    stats = PQStats()
    for a in gt['annotations']:
        p = preds[a['image_id']]
        stats.add(pq_image_stats(_png(osp.join(d, 'gt', a['file_name'])), a['segments_info'],
                                 _png(osp.join(d, 'pred', p['file_name'])), p['segments_info'],
                                 cats, image=str(a['image_id'])))
    return pq_summary(stats, cats)


@pytest.mark.parametrize('name', sorted(os.listdir(CASES)))
def test_reference_cases(name):
    """Every case's expected.json holds what COCO's pq_compute gives."""
    _, _, _, exp = _load_case(name)
    res = _evaluate_case(name)
    for split in ('All', 'Things', 'Stuff'):
        e = exp['expected'][split]
        if e is None:  # the reference divides by zero here
            assert res[split] is None
            continue
        for k in ('pq', 'sq', 'rq'):
            assert res[split][k] == pytest.approx(e[k], abs=1e-9), (split, k)
        assert res[split]['n'] == e['n']
    for cat, e in exp['per_class_counts'].items():
        r = res['per_class'][int(cat)]
        assert (r['tp'], r['fp'], r['fn']) == (e['tp'], e['fp'], e['fn'])
        assert r['iou_sum'] == pytest.approx(e['iou_sum'], abs=1e-9)
    pub = exp.get('expected_published')
    if pub and 'PQ' in pub:  # the published DeepLab numbers
        assert res['All']['pq'] == pytest.approx(pub['PQ'], abs=pub.get('tolerance', 1e-6))


def _seg(i, c, area, crowd=0):
    return dict(id=i, category_id=c, iscrowd=crowd, area=area)


CATS = {1: dict(isthing=1), 2: dict(isthing=1), 3: dict(isthing=0)}


def test_hand_void_excluded_from_union():
    # gt segment 1 covers 4 px; pred 7 covers those 4 px plus 4 VOID px.
    gt = np.array([[1, 1, 0, 0], [1, 1, 0, 0]])
    pred = np.full((2, 4), 7)
    s = pq_image_stats(gt, [_seg(1, 1, 4)], pred, [dict(id=7, category_id=1)], CATS)
    # union = 8 + 4 - 4 - 4 (pred on VOID) = 4 -> IoU 1
    assert s[1].tolist() == [1.0, 1, 0, 0]


def test_hand_iou_exactly_half_is_not_a_match():
    gt = np.array([[1, 1, 2, 2]])
    pred = np.array([[5, 5, 5, 5]])
    s = pq_image_stats(gt, [_seg(1, 1, 2), _seg(2, 3, 2)], pred,
                       [dict(id=5, category_id=1)], CATS)
    assert s[1].tolist() == [0.0, 0, 1, 1]  # IoU 2/4 is not > 0.5
    assert s[3].tolist() == [0.0, 0, 0, 1]


def test_hand_crowd_and_void_suppress_fp():
    # pred 9 (cat 2): 2 px on crowd of cat 2, 1 px on VOID, 2 px on stuff.
    gt = np.array([[4, 4, 0, 3, 3]])
    pred = np.array([[9, 9, 9, 9, 9]])
    gts = [_seg(4, 2, 2, crowd=1), _seg(3, 3, 2)]
    s = pq_image_stats(gt, gts, pred, [dict(id=9, category_id=2)], CATS)
    assert s[2].tolist() == [0.0, 0, 0, 0]  # 3/5 ignored -> not a FP, crowd is no FN
    # Same pred labelled cat 1: only VOID counts (1/5) -> FP.
    s = pq_image_stats(gt, gts, pred, [dict(id=9, category_id=1)], CATS)
    assert s[1].tolist() == [0.0, 0, 1, 0]


def test_hand_merge_and_split():
    # gt: two instances of cat 1; pred merges them into one segment.
    gt = np.array([[1, 1, 1, 2]])
    pred = np.array([[8, 8, 8, 8]])
    s = pq_image_stats(gt, [_seg(1, 1, 3), _seg(2, 1, 1)], pred,
                       [dict(id=8, category_id=1)], CATS)
    assert s[1][0] == pytest.approx(0.75)
    assert s[1][1:].tolist() == [1, 0, 1]


def test_unused_classes_are_left_out_of_average():
    stats = PQStats().add({1: np.array([0.9, 1, 0, 0])})
    res = pq_summary(stats, CATS)
    assert res['All']['n'] == 1 and res['All']['pq'] == pytest.approx(0.9)
    assert res['Stuff'] is None
    assert res['per_class'][2]['pq'] == 0.0
    sub = pq_summary(stats, CATS, category_subset=[3])
    assert sub['All'] is None and list(sub['per_class']) == [3]


@pytest.mark.parametrize('bad, match', [
    ('pred_png_extra', 'in the prediction PNG but not in its segments_info'),
    ('pred_json_extra', 'in segments_info but not in the PNG'),
    ('unknown_cat', 'unknown category_id 99'),
    ('duplicate', 'appears twice'),
    ('size', 'differs from ground truth'),
    ('gt_png_extra', 'ground-truth PNG but not in its segments_info'),
])
def test_bad_input_names_image_and_segment(bad, match):
    gt = np.array([[1, 1], [3, 3]])
    gts = [_seg(1, 1, 2), _seg(3, 3, 2)]
    pred = np.array([[5, 5], [6, 6]])
    preds = [dict(id=5, category_id=1), dict(id=6, category_id=3)]
    if bad == 'pred_png_extra':
        pred[0, 0] = 42
    elif bad == 'pred_json_extra':
        preds.append(dict(id=77, category_id=1))
    elif bad == 'unknown_cat':
        preds[0]['category_id'] = 99
    elif bad == 'duplicate':
        preds.append(dict(id=5, category_id=1))
    elif bad == 'size':
        pred = np.zeros((3, 2), int)
    elif bad == 'gt_png_extra':
        gt[1, 1] = 55
    with pytest.raises(PanopticEvalError, match=match) as e:
        pq_image_stats(gt, gts, pred, preds, CATS, image='img 12')
    assert 'img 12' in str(e.value)


def _random_image(rng, h, w, cats):
    """Blocky random gt and a noisy copy as prediction."""
    cat_ids = list(cats)
    coarse = rng.integers(0, 7, (h // 4 + 1, w // 4 + 1))
    gt_ids = np.kron(coarse, np.ones((4, 4), int))[:h, :w] * 3 + 1
    gt_ids[rng.random((h, w)) < 0.03] = 0
    gt_segs = []
    for sid in np.unique(gt_ids):
        if sid == 0:
            continue
        gt_segs.append(dict(id=int(sid), category_id=int(rng.choice(cat_ids)),
                            iscrowd=int(rng.random() < 0.15), area=int((gt_ids == sid).sum())))
    pred_ids = gt_ids.copy() + 100
    pred_ids[gt_ids == 0] = 0
    flip = rng.random((h, w)) < 0.2
    pred_ids[flip] = rng.choice(np.unique(pred_ids), flip.sum())
    pred_segs = [dict(id=int(s), category_id=int(rng.choice(cat_ids)) if rng.random() < 0.3
                      else next(g['category_id'] for g in gt_segs if g['id'] == s - 100))
                 for s in np.unique(pred_ids) if s != 0]
    return gt_ids, gt_segs, pred_ids, pred_segs


@pytest.mark.parametrize('seed', range(8))
def test_matches_panopticapi_on_random_inputs(seed, tmp_path):
    """The official panopticapi (not a transcription) on the same pairs."""
    from .panopticapi_ref import panopticapi_results, panopticapi_stats
    rng = np.random.default_rng(seed)
    cats = {1: dict(isthing=1), 2: dict(isthing=1), 7: dict(isthing=0), 9: dict(isthing=0)}
    pairs = [_random_image(rng, int(rng.integers(9, 40)), int(rng.integers(9, 40)), cats)
             for _ in range(4)]
    ref_stat = panopticapi_stats(pairs, cats, str(tmp_path))
    stats = PQStats()
    for k, p in enumerate(pairs):
        stats.add(pq_image_stats(*p, cats, image=str(k)))
    for cat in cats:
        got = stats.per_cat.get(cat, np.zeros(4))
        ref = ref_stat.pq_per_cat[cat]
        assert got[0] == pytest.approx(ref.iou, abs=1e-12)
        assert got[1:].tolist() == [ref.tp, ref.fp, ref.fn]
    ref = panopticapi_results(ref_stat, cats)
    ours = pq_summary(stats, cats)
    for split in ('All', 'Things', 'Stuff'):
        assert (ours[split] is None) == (ref[split] is None)
        if ref[split] is not None:
            for k in ('pq', 'sq', 'rq'):
                assert ours[split][k] == pytest.approx(ref[split][k], abs=1e-9)
