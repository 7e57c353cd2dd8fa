"""tools/train.py, --resume and tools/test.py as a user runs them, on a tiny
toy set (64 px images, 12 steps).  That training *learns* is checked per
family in test_train_families.py; the full main job in the slow tier."""
import os
import os.path as osp

import pytest
import torch

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import TOY_CFG, data_options, last_checkpoint, read_json, run_tool

# The toy config at 64 px (its pipelines' Resize, by --cfg-options).
SMALL = ['train_dataloader.dataset.pipeline.2.scale=(64,64)',
         'test_dataloader.dataset.pipeline.1.scale=(64,64)',
         'val_dataloader.dataset.pipeline.1.scale=(64,64)',
         'model.fusion.stuff_area_limit=50']


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_e2e'))
    make_toy_panoptic(root, num_train=12, num_val=4, height=64, width=64, progress=False)
    return root


def test_train_resume_and_test(toy_root, tmp_path):
    work = str(tmp_path / 'work')
    opts = data_options(toy_root) + SMALL
    run_tool('tools/train.py', TOY_CFG, '--work-dir', work, '--cfg-options', *opts,
             'train_cfg.max_iters=12', 'train_cfg.val_interval=12',
             'default_hooks.checkpoint.interval=6', 'default_hooks.logger.interval=6')
    ckpt = last_checkpoint(work)
    assert ckpt.endswith('iter_12.pth')
    assert osp.isfile(osp.join(work, 'iter_6.pth'))

    # Resume from iter 6 and finish at 10: the runner must load its own
    # checkpoint (optimizer, scheduler, message hub) on torch >= 2.6.
    work2 = str(tmp_path / 'resumed')
    out = run_tool('tools/train.py', TOY_CFG, '--work-dir', work2, '--resume',
                   osp.join(work, 'iter_6.pth'), '--cfg-options', *opts,
                   'train_cfg.max_iters=10', 'train_cfg.val_interval=1000',
                   'default_hooks.checkpoint.interval=10', 'default_hooks.logger.interval=2')
    assert 'resumed epoch: 0, iter: 6' in out
    assert 'Iter(train) [10/10]' in out
    ck = torch.load(osp.join(work2, 'iter_10.pth'), map_location='cpu')
    assert ck['meta']['iter'] == 10 and 'optimizer' in ck

    # tools/test.py loads the checkpoint and reports PQ / SQ / RQ, instance AP
    # and semantic mIoU from one run, prints the tables and writes pictures.
    result = str(tmp_path / 'metrics.json')
    out = run_tool('tools/test.py', TOY_CFG, ckpt, '--work-dir', str(tmp_path / 'test'),
                   '--out', result, '--cfg-options', *opts)
    metrics = read_json(result)
    for key in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st'):
        assert f'panoptic/{key}' in metrics
    for key in ('coco/segm_mAP', 'coco/bbox_mAP', 'semantic/mIoU'):
        assert key in metrics, sorted(metrics)
    assert '| Things |' in out and '| ellipse' in out
    pictures = os.listdir(osp.join(tmp_path, 'test', 'vis', 'test'))
    assert len(pictures) == 4

    # --compile: the network through torch.compile (eager backend here: the
    # plumbing; benchmarks/hf_model_speed.py --compile times inductor), the
    # same metrics.
    compiled = str(tmp_path / 'metrics_compiled.json')
    out = run_tool('tools/test.py', TOY_CFG, ckpt, '--work-dir', str(tmp_path / 'test2'),
                   '--out', compiled, '--compile', 'eager', '--cfg-options', *opts)
    assert '--compile: torch.compile (eager) on backbone, neck' in out
    assert read_json(compiled) == metrics
