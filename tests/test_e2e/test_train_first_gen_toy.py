"""UPSNet and Panoptic-DeepLab toy configs trained to the end (pytest -m slow).

An untrained model scores PQ ~0 on this data, so the floors below are far
above chance.  The measured figures go to docs/results/toy_<name>.json.
"""
import pytest

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import train_test_record

# name: (config, floors for PQ, PQ_th, PQ_st in percent).
CASES = {
    'panoptic_deeplab': ('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py',
                         (70.0, 55.0, 85.0)),
    'upsnet': ('configs/upsnet/upsnet_r18_fpn_toy.py', (72.0, 60.0, 85.0)),
}
# Instance AP (COCO segm, fraction) and semantic mIoU (percent) floors; an
# untrained model scores AP 0.0 and mIoU ~2.
AP_MIOU_FLOORS = {'panoptic_deeplab': (0.38, 80.0), 'upsnet': (0.50, 80.0)}
# PQ that --tta (3 scales x 2 flips) must gain: about half the gain measured
# last round (Panoptic-DeepLab +1.46, UPSNet +0.40).
TTA_GAIN = {'panoptic_deeplab': 0.7, 'upsnet': 0.2}


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_first_gen'))
    make_toy_panoptic(root, num_train=400, num_val=50, progress=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_first_gen_toy_training_reaches_pq_floor(name, toy_root, tmp_path):
    config, (pq, pq_th, pq_st) = CASES[name]
    m, t = train_test_record(f'toy_{name}', config, toy_root, tmp_path)
    assert m['panoptic/PQ'] >= pq
    assert m['panoptic/PQ_th'] >= pq_th
    assert m['panoptic/PQ_st'] >= pq_st
    ap, miou = AP_MIOU_FLOORS[name]
    assert m['coco/segm_mAP'] >= ap
    assert m['semantic/mIoU'] >= miou
    assert set(t) == set(m)
    assert t['panoptic/PQ'] >= m['panoptic/PQ'] + TTA_GAIN[name]
