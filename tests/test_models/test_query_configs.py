"""Every mask-classification config builds and runs a training step on CPU.

The real configs are shrunk only where the CPU forbids more: a 64x64 batch
of two images (no LSJ 1024 padding, no pretrained download) and 256 sampled
points instead of 12544.  Swin-L (~200M parameters) included.
"""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from mmpanoptic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUERY_CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p and osp.sep + 'video' + osp.sep not in p  # video: tests/test_e2e
    and osp.basename(p).startswith(('mask2former', 'maskformer', 'knet')))


def tiny_batch(num_things, num_stuff, size=64, seed=0):
    """Two images with one thing (a square) and two stuff regions each."""
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for i in range(2):
        sem = np.full((size, size), num_things, np.int64)  # stuff 0 on top
        sem[size // 2:] = num_things + num_stuff - 1  # last stuff class below
        sem[:4] = 255  # a VOID band
        thing = np.zeros((size, size), np.uint8)
        y, x = rng.integers(8, size - 24, 2)
        thing[y:y + 16, x:x + 16] = 1
        sem[thing.astype(bool)] = i % num_things
        sample = DetDataSample(metainfo=dict(
            img_id=i, img_shape=(size, size), ori_shape=(size, size),
            batch_input_shape=(size, size), pad_shape=(size, size), scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(
            labels=torch.tensor([i % num_things]),
            masks=BitmapMasks(thing[None], size, size),
            bboxes=torch.tensor([[x, y, x + 16, y + 16]], dtype=torch.float32))
        sample.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(sem[None]))
        inputs.append(torch.randn(3, size, size))
        samples.append(sample)
    return torch.stack(inputs), samples


def shrink(cfg):
    """No pretrained download, no 1024 padding; Mask2Former samples fewer points."""
    model = cfg.model
    model.backbone.init_cfg = None
    model.data_preprocessor.pop('batch_augments', None)
    if model.criterion.get('num_points'):
        model.criterion.num_points = 256
        model.criterion.matcher.num_points = 256
    return model


@pytest.mark.parametrize('path', QUERY_CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_query_config_training_step(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = Config.fromfile(path)
    model = MODELS.build(shrink(cfg))
    model.train()
    inputs, samples = tiny_batch(model.num_things_classes, model.num_stuff_classes)
    losses = model.loss(inputs, samples)
    assert {'loss_cls', 'loss_mask', 'loss_dice'} <= set(losses)
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.panoptic_head.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, samples)
    assert out[0].pred_panoptic_seg.sem_seg.shape == (1, 64, 64)
