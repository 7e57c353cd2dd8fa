"""VPQ against hand-checked tubes and a straightforward per-window definition."""
import os.path as osp
import sys

import numpy as np
import pytest

from mmpanoptic.evaluation.functional.vpq import vpq_summary, vpq_video_stats
from mmpanoptic.fileio import PanopticEvalError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))
import vpq_reference  # noqa: E402

from ..e2e_utils import read_json  # noqa: E402

CASES = osp.join(ROOT, 'tests', 'data', 'video_eval_cases')
CATS = {1: dict(isthing=0), 2: dict(isthing=1), 3: dict(isthing=1)}


def segments(ids, cat_of, crowd=(), with_area=True):
    out = []
    for sid, area in zip(*np.unique(ids, return_counts=True)):
        if sid == 0:
            continue
        seg = dict(id=int(sid), category_id=cat_of(int(sid)), iscrowd=int(sid in crowd))
        if with_area:
            seg['area'] = int(area)
        out.append(seg)
    return out


def frame(gt, pred, crowd=()):
    gt, pred = np.array(gt), np.array(pred)
    return (gt, segments(gt, lambda s: s // 100, crowd), pred,
            segments(pred, lambda s: s // 100, with_area=False))


def test_published_id_switch_case():
    data = read_json(osp.join(CASES, 'vpq_edge_id_switch.json'))
    cats = {c['id']: c for c in data['inputs']['categories']}
    frames = []
    for gt, pred in zip(data['inputs']['gt_ids'], data['inputs']['pred_ids']):
        gt, pred = np.array(gt), np.array(pred)
        frames.append((gt, segments(gt, lambda s: s // 1000), pred,
                       segments(pred, lambda s: s // 1000, with_area=False)))
    summary = vpq_summary(vpq_video_stats(frames, cats, (1, 2), 'v'), cats)
    for k, ref_k in (('1', '0'), ('2', '5')):  # reference keys are k = (frames - 1) * 5
        ref = data['vpq'][ref_k]
        for split in ('All', 'Things', 'Stuff'):
            for m in ('pq', 'sq', 'rq', 'n'):
                assert summary[k][split][m] == pytest.approx(ref[split][m]), (k, split, m)
        for cat, r in ref['per_class'].items():
            if r['tp'] + r['fp'] + r['fn']:
                ours = summary[k]['per_class'][cat]
                assert (ours['tp'], ours['fp'], ours['fn']) == (r['tp'], r['fp'], r['fn'])


def test_hand_tubes_track_lost_and_found_crowd_and_void():
    # 3 frames, 2x4: stuff 101 on the left; thing 201 on the right in frames
    # 0 and 2, gone in frame 1 (occluded by VOID); a crowd 300 region.
    gt = [[[101, 101, 201, 201], [101, 101, 300, 0]],
          [[101, 101, 0, 0], [101, 101, 300, 0]],
          [[101, 101, 201, 201], [101, 101, 300, 0]]]
    # Prediction: the thing keeps id 205 when it comes back (found), and a
    # stray class-3 segment 399 sits on the crowd + VOID pixels (ignored).
    pred = [[[101, 101, 205, 205], [101, 101, 399, 399]],
            [[101, 101, 0, 0], [101, 101, 399, 399]],
            [[101, 101, 205, 205], [101, 101, 399, 399]]]
    frames = [frame(g, p, crowd=(300, )) for g, p in zip(gt, pred)]
    stats = vpq_video_stats(frames, CATS, (1, 3), 'v')
    # k=3: one window; thing tube 201 (4 px) vs 205 (4 px) -> IoU 1, TP;
    # stuff tube 101 -> TP; 399 lies fully on crowd + VOID -> not a FP.
    assert stats[3].per_cat[2].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert stats[3].per_cat[1].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert stats[3].per_cat[3].tolist() == [0.0, 0.0, 0.0, 0.0]
    # k=1: frame 1 has no thing at all: 2 TPs for the thing over 3 frames.
    assert stats[1].per_cat[2].tolist() == [2.0, 2.0, 0.0, 0.0]
    # Now the thing comes back with a new id (206): the 3-frame tube 201
    # (4 px) overlaps 205 (2 px) and 206 (2 px): IoU 0.5 each -> FN + 2 FP.
    pred[2] = [[101, 101, 206, 206], [101, 101, 399, 399]]
    frames = [frame(g, p, crowd=(300, )) for g, p in zip(gt, pred)]
    stats = vpq_video_stats(frames, CATS, (3, ), 'v')
    assert stats[3].per_cat[2].tolist() == [0.0, 0.0, 2.0, 1.0]


def random_video(rng, t=5, h=12, w=16):
    """Blocks of stuff and things whose ids persist, switch or vanish."""
    frames = []
    base = rng.integers(0, 3, (3, 4))
    for _ in range(t):
        gt = np.kron(base, np.ones((4, 4), int))[:h, :w]
        gt = np.where(gt == 0, 101, np.where(gt == 1, 201, 301))
        gt[rng.random((h, w)) < 0.05] = 0
        gt[:2, :3] = 202  # a second car
        if rng.random() < 0.3:
            gt[-2:, -3:] = 250  # a crowd of cars
        pred = gt.copy()
        pred[rng.random((h, w)) < 0.15] = rng.choice([0, 101, 201, 207, 301])
        if rng.random() < 0.4:
            pred[pred == 201] = 209  # id switch
        frames.append(frame(gt, pred, crowd=(250, )))
        base = np.where(rng.random((3, 4)) < 0.2, rng.integers(0, 3, (3, 4)), base)
    return frames


@pytest.mark.parametrize('seed', range(8))
def test_randomized_equals_per_window_definition(seed):
    rng = np.random.default_rng(seed)
    frames = random_video(rng)
    ours = vpq_video_stats(frames, CATS, (1, 2, 3, 4), 'v')
    for k in (1, 2, 3, 4):
        ref = vpq_reference.vpq_video(frames, k)
        assert set(ref) <= set(ours[k].per_cat) | {c for c in ref if not any(ref[c])}
        for cat, v in ref.items():
            np.testing.assert_allclose(ours[k].per_cat.get(cat, np.zeros(4)), v, atol=1e-12)


def test_bad_input_names_video_frame_and_segment():
    gt = np.array([[101, 201]])
    bad = (gt, segments(gt, lambda s: s // 100), np.array([[101, 999]]),
           segments(np.array([[101]]), lambda s: s // 100, with_area=False))
    with pytest.raises(PanopticEvalError, match='v7 frame 0: segment 999 is in the prediction PNG'):
        vpq_video_stats([bad], CATS, (1, ), 'v7')
    f0 = frame([[101, 201]], [[101, 201]])
    f1 = (np.array([[101, 201]]), [dict(id=101, category_id=1, iscrowd=0, area=1),
                                   dict(id=201, category_id=3, iscrowd=0, area=1)],
          np.array([[101, 201]]), f0[3])
    with pytest.raises(PanopticEvalError, match='v7 frames 0..1: segment 201 changes category'):
        vpq_video_stats([f0, f1], {**CATS}, (2, ), 'v7')
