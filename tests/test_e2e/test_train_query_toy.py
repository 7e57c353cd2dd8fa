"""The query-model toy configs trained to the end (pytest -m slow, 5-7 min each).

An untrained model scores PQ 0 on this data (its queries say "no object" or
miss every segment), so the floors below are far above chance.
"""
import pytest

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import data_options, last_checkpoint, read_json, run_tool

# name: (config, floors for PQ, PQ_th, PQ_st in percent).  Measured on 2 CPU
# cores (seed 0, 2000 steps): Mask2Former PQ 80.5 / 63.8 / 97.2 in ~7 min,
# MaskFormer PQ 69.6 / 45.5 / 93.7 in ~6 min; K-Net with the official recipe
# PQ 73.7 / 53.3 / 94.1 (its softmax variant 73.4 / 53.3 / 93.6, docs/query_models.md).
CASES = {
    'mask2former': ('configs/mask2former/mask2former_r18_toy.py', (65.0, 45.0, 85.0)),
    'maskformer': ('configs/maskformer/maskformer_r18_toy.py', (55.0, 30.0, 80.0)),
    'knet': ('configs/knet/knet-s3_r18_fpn_toy.py', (60.0, 38.0, 85.0)),
}
# Instance AP (COCO segm, fraction) and semantic mIoU (percent) floors from the
# same run.  Measured for Mask2Former (this round, 2 CPU cores): PQ 79.2, segm
# AP 0.528, bbox AP 0.394, mIoU 84.2; with --tta (3 scales x 2 flips) PQ 81.0,
# segm AP 0.527, mIoU 87.1.  K-Net: PQ 73.7, segm AP 0.283, bbox AP 0.218,
# mIoU 83.6; --tta (its config: flips only) PQ 73.72, mIoU 84.0.  MaskFormer:
# PQ 70.8, segm AP 0.224, bbox AP 0.168, mIoU 83.1; --tta PQ 72.9, segm AP
# 0.254, mIoU 85.5.  An untrained model scores AP 0.0 and mIoU ~2.
AP_MIOU_FLOORS = {'mask2former': (0.40, 70.0), 'maskformer': (0.15, 72.0),
                  'knet': (0.20, 72.0)}


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_query'))
    make_toy_panoptic(root, num_train=400, num_val=50, progress=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_query_toy_training_reaches_pq_floor(name, toy_root, tmp_path):
    config, (pq, pq_th, pq_st) = CASES[name]
    work = str(tmp_path / 'work')
    run_tool('tools/train.py', config, '--work-dir', work, '--cfg-options',
             *data_options(toy_root), timeout=1800)
    result = str(tmp_path / 'metrics.json')
    run_tool('tools/test.py', config, last_checkpoint(work), '--work-dir', work, '--out',
             result, '--cfg-options', *data_options(toy_root))
    m = read_json(result)
    print(name, {k: round(v, 2) for k, v in m.items()})
    assert m['panoptic/PQ'] >= pq
    assert m['panoptic/PQ_th'] >= pq_th
    assert m['panoptic/PQ_st'] >= pq_st
    ap, miou = AP_MIOU_FLOORS[name]
    assert m['coco/segm_mAP'] >= ap
    assert m['semantic/mIoU'] >= miou
    # Test-time augmentation runs, reports the same keys and does not lower PQ.
    tta = str(tmp_path / 'metrics_tta.json')
    run_tool('tools/test.py', config, last_checkpoint(work), '--work-dir', work, '--out',
             tta, '--tta', '--cfg-options', *data_options(toy_root))
    t = read_json(tta)
    print(name, 'tta', {k: round(v, 2) for k, v in t.items()})
    assert set(t) == set(m)
    assert t['panoptic/PQ'] >= m['panoptic/PQ']
