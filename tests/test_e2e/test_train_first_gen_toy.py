"""UPSNet and Panoptic-DeepLab toy configs trained to the end (pytest -m slow).

An untrained model scores PQ ~0 on this data, so the floors below are far
above chance.
"""
import pytest

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import data_options, last_checkpoint, read_json, run_tool

# name: (config, floors for PQ, PQ_th, PQ_st in percent).  Measured on 2 CPU
# cores (seed 0): Panoptic-DeepLab PQ 85.3 / 73.9 / 96.7 in ~6 min (2000 steps),
# UPSNet PQ 87.1 / 78.9 / 95.2 in ~14.5 min (1000 steps).
CASES = {
    'panoptic_deeplab': ('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py',
                         (70.0, 55.0, 85.0)),
    'upsnet': ('configs/upsnet/upsnet_r18_fpn_toy.py', (72.0, 60.0, 85.0)),
}


# Instance AP (COCO segm, fraction) and semantic mIoU (percent) floors.  Measured
# for Panoptic-DeepLab (this round): PQ 84.3, segm AP 0.510, bbox AP 0.504,
# mIoU 92.5; with --tta (3 scales x 2 flips) PQ 85.8, segm AP 0.555, mIoU 93.8.
# UPSNet: PQ 87.6, segm AP 0.665, bbox AP 0.628, mIoU 90.9; with --tta (boxes
# merged by NMS, RoI masks re-run per view) PQ 88.0, segm AP 0.678, mIoU 92.3.
# An untrained model scores AP 0.0 and mIoU ~2.
AP_MIOU_FLOORS = {'panoptic_deeplab': (0.38, 80.0), 'upsnet': (0.50, 80.0)}
WITH_TTA = {'panoptic_deeplab', 'upsnet'}


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_first_gen'))
    make_toy_panoptic(root, num_train=400, num_val=50, progress=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_first_gen_toy_training_reaches_pq_floor(name, toy_root, tmp_path):
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
    if name in WITH_TTA:  # runs, same keys, does not lower PQ
        tta = str(tmp_path / 'metrics_tta.json')
        run_tool('tools/test.py', config, last_checkpoint(work), '--work-dir', work, '--out',
                 tta, '--tta', '--cfg-options', *data_options(toy_root))
        t = read_json(tta)
        print(name, 'tta', {k: round(v, 2) for k, v in t.items()})
        assert set(t) == set(m)
        assert t['panoptic/PQ'] >= m['panoptic/PQ']
