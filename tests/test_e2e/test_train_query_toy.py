"""The query-model toy configs trained to the end (pytest -m slow, 5-15 min each).

An untrained model scores PQ 0 on this data (its queries say "no object" or
miss every segment), so the floors below are far above chance.  The measured
figures go to docs/results/toy_<name>.json.
"""
import pytest

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import train_test_record

# name: (config, floors for PQ, PQ_th, PQ_st in percent).
CASES = {
    'mask2former': ('configs/mask2former/mask2former_r18_toy.py', (65.0, 45.0, 85.0)),
    'maskformer': ('configs/maskformer/maskformer_r18_toy.py', (55.0, 30.0, 80.0)),
    'knet': ('configs/knet/knet-s3_r18_fpn_toy.py', (60.0, 38.0, 85.0)),
    # measured PQ 81.6, PQ_th 66.0, PQ_st 97.2 (docs/results/toy_eomt.json)
    'eomt': ('configs/eomt/eomt_vit-t_toy.py', (70.0, 52.0, 88.0)),
}
# Instance AP (COCO segm, fraction) and semantic mIoU (percent) floors from the
# same run; an untrained model scores AP 0.0 and mIoU ~2.
AP_MIOU_FLOORS = {'mask2former': (0.40, 70.0), 'maskformer': (0.15, 72.0),
                  'knet': (0.20, 72.0), 'eomt': (0.40, 75.0)}
# What --tta (3 scales x 2 flips; K-Net: flips only) must do to PQ.  MaskFormer
# gained +2.12 (commit e13ff6b's run): it must gain half of that.  Mask2Former
# gained +1.78 there but lost 0.47 in this config's rerun on another CPU
# (docs/results/toy_mask2former.json: the trained model differs per machine),
# and K-Net's flips gained +0.0014: no gain to test for either, so their TTA
# must only run, report the same keys and stay within 1.0 PQ of the plain test.
# EoMT's first run: 81.56 -> 81.96 (+0.40, within noise): it only has to run.
TTA_GAIN = {'mask2former': None, 'maskformer': 1.0, 'knet': None, 'eomt': None}
TTA_TOLERANCE = 1.0
# DETR's toy run (docs/results/toy_detr.json): PQ 0.0, box AP 0.00 (AP50 0.01),
# mIoU 14.19 -- its stuff queries classify the scene, its thing queries do not yet
# localise, the masks do not yet separate queries (docs/query_models.md).
DETR_MIOU_FLOOR = 10.0


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_query'))
    make_toy_panoptic(root, num_train=400, num_val=50, progress=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_query_toy_training_reaches_pq_floor(name, toy_root, tmp_path):
    config, (pq, pq_th, pq_st) = CASES[name]
    m, t = train_test_record(f'toy_{name}', config, toy_root, tmp_path)
    assert m['panoptic/PQ'] >= pq
    assert m['panoptic/PQ_th'] >= pq_th
    assert m['panoptic/PQ_st'] >= pq_st
    ap, miou = AP_MIOU_FLOORS[name]
    assert m['coco/segm_mAP'] >= ap
    assert m['semantic/mIoU'] >= miou
    assert set(t) == set(m)
    if TTA_GAIN[name] is None:
        assert abs(t['panoptic/PQ'] - m['panoptic/PQ']) <= TTA_TOLERANCE
    else:
        assert t['panoptic/PQ'] >= m['panoptic/PQ'] + TTA_GAIN[name]


@pytest.mark.slow
def test_detr_toy_detector_learns(toy_root, tmp_path):
    """DETR panoptic's toy config to the end, recorded.  2000 CPU steps are
    far from DETR's schedule: its stuff queries learn the scene's classes
    (the floor is on the semantic mIoU that gives), its thing queries and
    mask head do not yet (PQ and box AP recorded, not floored; see the config
    and docs/query_models.md)."""
    m, _ = train_test_record('toy_detr', 'configs/detr/detr_r18_toy.py', toy_root, tmp_path,
                             tta=False)
    assert m['semantic/mIoU'] >= DETR_MIOU_FLOOR
