"""STQ against deeplab2's published test cases and hand-checked quirks."""
import json
import os.path as osp

import numpy as np
import pytest

from mmpanoptic.evaluation.functional.stq import STQAccumulator

CASES = osp.join(osp.dirname(osp.dirname(__file__)), 'data', 'video_eval_cases')


def load(name):
    with open(osp.join(CASES, name)) as f:
        return json.load(f)


GOLD = load('stq_gold_cases.json')['cases']


def replay(case):
    args = case['init_args']
    acc = STQAccumulator(num_classes=args['num_classes'], things=args['things_list'],
                         ignore_label=args['ignore_label'],
                         label_bit_shift=args['label_bit_shift'], offset=args['offset'])
    for u in case['updates']:
        acc.update(np.array(u['y_true']), np.array(u['y_pred']), u['sequence_id'])
    return acc.result()


@pytest.mark.parametrize('case', GOLD, ids=[c['name'] for c in GOLD])
def test_deeplab2_gold_cases(case):
    ours, ref = replay(case), case['result']
    assert ours['stq'] == pytest.approx(ref['STQ'], abs=1e-12)
    assert ours['aq'] == pytest.approx(ref['AQ'], abs=1e-12)
    assert ours['iou'] == pytest.approx(ref['IoU'], abs=1e-12)
    seq = ours['per_sequence']
    assert [s['id'] for s in seq] == ref['ID_per_seq']
    assert [s['length'] for s in seq] == ref['Length_per_seq']
    np.testing.assert_allclose([s['stq'] for s in seq], ref['STQ_per_seq'], atol=1e-12)
    np.testing.assert_allclose([s['aq'] for s in seq], ref['AQ_per_seq'], atol=1e-12)
    np.testing.assert_allclose([s['iou'] for s in seq], ref['IoU_per_seq'], atol=1e-12)
    published = case.get('expected_published', {})
    for key in ('STQ', 'AQ', 'IoU'):
        if key in published:
            assert ours[key.lower()] == pytest.approx(published[key], abs=1e-7)


def test_quirks_prediction_ignore_and_void_pixels():
    """(a) predicted ignore on labelled pixels: IoU 0.4, not 0.8; (b) predicted
    thing pixels on gt void count in the track size: AQ 0.6."""
    data = load('stq_edge_pred_ignore_label.json')
    for name in ('a', 'b'):
        part, ref = data['inputs'][name], data[f'stq_{name}']
        acc = STQAccumulator(num_classes=part['num_classes'], things=part['things'],
                             ignore_label=255)
        acc.update(np.array(part['gt']), np.array(part['pred']), 0)
        result = acc.result()
        for key, ref_key in (('stq', 'STQ'), ('aq', 'AQ'), ('iou', 'IoU')):
            assert result[key] == pytest.approx(ref[ref_key], abs=1e-12), (name, key)


def test_hand_case_id_switch():
    """One car predicted perfectly with an id switch between two frames."""
    data = load('vpq_edge_id_switch.json')
    cats = [c['id'] for c in data['inputs']['categories']]
    things = [i for i, c in enumerate(data['inputs']['categories']) if c['isthing']]
    acc = STQAccumulator(num_classes=len(cats), things=things)

    def encode(ids):  # Cityscapes-VPS ids: category * 1000 + instance
        ids = np.array(ids)
        return (np.searchsorted(cats, ids // 1000) << 16) + ids % 1000

    for gt, pred in zip(data['inputs']['gt_ids'], data['inputs']['pred_ids']):
        acc.update(encode(gt), encode(pred), 0)
    result = acc.result()
    assert result['aq'] == pytest.approx(0.5) and result['iou'] == pytest.approx(1.0)
    assert result['stq'] == pytest.approx(data['stq']['STQ'], abs=1e-12)


def test_bad_labels_name_the_sequence_and_frame():
    acc = STQAccumulator(num_classes=2, things=[1])
    with pytest.raises(ValueError, match="sequence 'v1', frame 0: predicted semantic label 7"):
        acc.update(np.zeros((2, 2), int), np.full((2, 2), 7 << 16), 'v1')
    with pytest.raises(ValueError, match='prediction is'):
        acc.update(np.zeros((2, 2), int), np.zeros((3, 2), int), 'v1')
