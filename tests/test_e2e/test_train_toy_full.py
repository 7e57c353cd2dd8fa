"""The main job: the toy config trained to the end (pytest -m slow, ~10 min).
Its figures go to docs/results/toy_panoptic_fpn.json (README's table)."""
import os.path as osp

import pytest

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import TOY_CFG, train_test_record

# PQ (percent) floors on 50 val images after the full 1000-step schedule; an
# untrained model scores a few PQ and 0 PQ_th (measured figures:
# docs/results/toy_panoptic_fpn.json).
PQ_FLOOR = 70.0
PQ_TH_FLOOR = 60.0
PQ_ST_FLOOR = 80.0
# Instance AP (COCO segm / bbox, fractions) and semantic mIoU (percent) from the
# same run (an untrained model scores 0.0 and ~2).
AP_FLOOR = 0.50
MIOU_FLOOR = 80.0
# --tta (3 scales x 2 flips; boxes merged by NMS, RoI masks re-run per view)
# must gain at least this much PQ (measured: +1.55).
TTA_GAIN = 0.5


@pytest.mark.slow
def test_full_toy_training_reaches_pq_floor(tmp_path):
    root = str(tmp_path / 'toy')
    make_toy_panoptic(root, num_train=400, num_val=50, progress=False)
    m, t = train_test_record('toy_panoptic_fpn', TOY_CFG, root, tmp_path)
    assert m['panoptic/PQ'] >= PQ_FLOOR
    assert m['panoptic/PQ_th'] >= PQ_TH_FLOOR
    assert m['panoptic/PQ_st'] >= PQ_ST_FLOOR
    assert m['coco/segm_mAP'] >= AP_FLOOR and m['coco/bbox_mAP'] >= AP_FLOOR
    assert m['semantic/mIoU'] >= MIOU_FLOOR
    assert osp.isdir(osp.join(tmp_path, 'work', 'vis', 'test'))
    assert set(t) == set(m)
    assert t['panoptic/PQ'] >= m['panoptic/PQ'] + TTA_GAIN
