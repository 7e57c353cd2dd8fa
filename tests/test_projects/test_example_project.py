"""A head registered from projects/ via custom_imports trains for a few steps."""
import os.path as osp

from mmengine.config import Config

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import ROOT, data_options, last_checkpoint, run_tool

CFG = 'projects/example_project/configs/panoptic-fpn_r18_light-sem_toy.py'


def test_config_uses_project_head():
    cfg = Config.fromfile(osp.join(ROOT, CFG))
    assert cfg.model.semantic_head.type == 'LightSemanticHead'
    assert cfg.model.semantic_head.num_stuff_classes == 4
    assert cfg.custom_imports.imports == ['projects.example_project.example_project']


def test_example_project_trains(tmp_path):
    root = str(tmp_path / 'toy')
    make_toy_panoptic(root, num_train=8, num_val=4, progress=False)
    work = str(tmp_path / 'work')
    out = run_tool('tools/train.py', CFG, '--work-dir', work, '--cfg-options', *data_options(root),
                   'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
                   'default_hooks.logger.interval=2', 'default_hooks.checkpoint.interval=6')
    assert 'LightSemanticHead' in out  # the model printed at start-up
    assert 'Iter(train) [6/6]' in out and 'panoptic/PQ' in out
    assert last_checkpoint(work).endswith('iter_6.pth')
