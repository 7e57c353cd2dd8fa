"""Train on toy data, check PQ against a floor an untrained model fails,
resume from the checkpoint and evaluate it with tools/test.py."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import ROOT, TOY_CFG, data_options, last_checkpoint, read_json, run_tool

# PQ (percent) on the toy val split.  Measured: the untrained model scores
# 0.0 and 150 steps on 48 images reach 61.4.
PQ_FLOOR_SHORT = 30.0


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_e2e'))
    make_toy_panoptic(root, num_train=48, num_val=8, progress=False)
    return root


def _untrained_pq(toy_root, work_dir):
    cfg = Config.fromfile(osp.join(ROOT, TOY_CFG))
    cfg.work_dir = work_dir
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = toy_root + '/'
    cfg.custom_hooks = []
    torch.manual_seed(0)
    return Runner.from_cfg(cfg).test()['panoptic/PQ']


def test_train_resume_and_test(toy_root, tmp_path):
    work = str(tmp_path / 'work')
    opts = data_options(toy_root)
    run_tool('tools/train.py', TOY_CFG, '--work-dir', work, '--cfg-options', *opts,
             'train_cfg.max_iters=150', 'train_cfg.val_interval=150',
             'default_hooks.checkpoint.interval=75', 'default_hooks.logger.interval=25')
    ckpt = last_checkpoint(work)
    assert ckpt.endswith('iter_150.pth')
    assert osp.isfile(osp.join(work, 'iter_75.pth'))

    # Resume from iter 75 and finish at 150 again: the runner must load its
    # own checkpoint (optimizer, scheduler, message hub) on torch >= 2.6.
    work2 = str(tmp_path / 'resumed')
    out = run_tool('tools/train.py', TOY_CFG, '--work-dir', work2, '--resume',
                   osp.join(work, 'iter_75.pth'), '--cfg-options', *opts,
                   'train_cfg.max_iters=100', 'train_cfg.val_interval=1000',
                   'default_hooks.checkpoint.interval=25', 'default_hooks.logger.interval=25')
    assert 'resumed epoch: 0, iter: 75' in out
    assert 'Iter(train) [100/100]' in out
    ck = torch.load(osp.join(work2, 'iter_100.pth'), map_location='cpu')
    assert ck['meta']['iter'] == 100 and 'optimizer' in ck

    # tools/test.py loads the checkpoint and reports PQ / SQ / RQ.
    result = str(tmp_path / 'metrics.json')
    out = run_tool('tools/test.py', TOY_CFG, ckpt, '--work-dir', str(tmp_path / 'test'),
                   '--out', result, '--cfg-options', *opts)
    metrics = read_json(result)
    for key in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st'):
        assert f'panoptic/{key}' in metrics
    # One run, every number a paper table needs: PQ, instance AP, semantic mIoU.
    for key in ('coco/segm_mAP', 'coco/bbox_mAP', 'semantic/mIoU'):
        assert key in metrics, sorted(metrics)
    assert metrics['coco/segm_mAP'] > 0.05 and metrics['semantic/mIoU'] > 30
    assert '| Things |' in out and '| ellipse' in out
    pictures = os.listdir(osp.join(tmp_path, 'test', 'vis', 'test'))
    assert len(pictures) == 8

    untrained = _untrained_pq(toy_root, str(tmp_path / 'untrained'))
    trained = metrics['panoptic/PQ']
    print(f'PQ trained {trained:.2f} vs untrained {untrained:.2f}')
    assert untrained < PQ_FLOOR_SHORT <= trained
