"""Shrunk real config: loss and predict, including hostile inputs."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from mmpanoptic.registry import MODELS

ROOT = osp.join(osp.dirname(__file__), '..', '..')
TOY_CFG = osp.join(ROOT, 'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py')


def _model():
    torch.manual_seed(0)
    cfg = Config.fromfile(TOY_CFG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _batch(h, w, n_inst, seed=0):
    rng = np.random.default_rng(seed)
    img = torch.from_numpy(rng.integers(0, 255, (3, h, w)).astype(np.float32))
    s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
                                    img_id=0, img_path=''))
    boxes, masks = [], np.zeros((n_inst, h, w), np.uint8)
    for i in range(n_inst):
        x, y = int(rng.integers(0, w - 30)), int(rng.integers(0, h - 30))
        boxes.append([x, y, x + 25, y + 25])
        masks[i, y:y + 25, x:x + 25] = 1
    s.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)),
        labels=torch.zeros(n_inst, dtype=torch.long), masks=BitmapMasks(masks, h, w))
    s.ignored_instances = InstanceData(bboxes=HorizontalBoxes(torch.zeros(0, 4)),
                                       labels=torch.zeros(0, dtype=torch.long))
    seg = torch.full((1, h, w), 5, dtype=torch.uint8)
    s.gt_sem_seg = PixelData(sem_seg=seg)
    return dict(inputs=[img], data_samples=[s])


@pytest.mark.parametrize('h, w, n_inst', [(128, 128, 3), (200, 249, 2), (96, 128, 0)])
def test_loss_and_predict(h, w, n_inst):
    model = _model()
    data = model.data_preprocessor(_batch(h, w, n_inst), training=True)
    losses = model(**data, mode='loss')
    total, log_vars = model.parse_losses(losses)
    assert torch.isfinite(total), log_vars
    assert {'loss_rpn_cls', 'loss_cls', 'loss_mask', 'loss_seg'} <= set(log_vars)
    total.backward()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_batch(h, w, n_inst), training=False)
        out = model(**data, mode='predict')[0]
    ids = out.pred_panoptic_seg.sem_seg
    assert ids.shape == (1, h, w) and ids.dtype == torch.int32
    info = out.pred_panoptic_seg.segments_info
    present = set(ids.unique().tolist()) - {0}
    assert present == {s['id'] for s in info}
    assert all(0 <= s['label'] < 8 for s in info)


def test_non_finite_input_does_not_crash_predict():
    model = _model().eval()
    data = _batch(64, 64, 1)
    data['inputs'][0][0, :4, :4] = float('nan')
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, False), mode='predict')[0]
    ids = out.pred_panoptic_seg.sem_seg[0]
    info = out.pred_panoptic_seg.segments_info
    assert ids.shape == (64, 64) and ids.dtype == torch.int32
    # still a valid panoptic result: every id listed once, areas exact, labels in range
    assert set(ids.unique().tolist()) - {0} == {s['id'] for s in info}
    assert len({s['id'] for s in info}) == len(info)
    for s in info:
        assert 0 <= s['label'] < 8 and s['area'] == int((ids == s['id']).sum())


def test_part_can_be_passed_built():
    cfg = Config.fromfile(TOY_CFG).model
    cfg.fusion = MODELS.build(cfg.fusion)  # a built part instead of a config
    model = MODELS.build(cfg)
    assert model.fusion is cfg.fusion
