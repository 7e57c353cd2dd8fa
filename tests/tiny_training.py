"""Short in-process trainings of each model family on a tiny version of the
bundled data (the default tier's "does it learn at all" check).

The family's own toy config is used as it is, with only the data made tiny:
64 px images (``Resize`` scales and the toy configs' size-dependent limits
scaled with them), a few dozen steps, a short warm-up then a constant
learning rate, no checkpoints, pictures or validation during training.  The
same config with the same seed but no training step is the "untrained self"
every family must beat.
"""
import copy
import itertools
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from .e2e_utils import ROOT

SIZE = 64
# PQ and mIoU: the instance AP metric (COCO eval) costs more than a tiny run.
IMAGE_EVALUATORS = [dict(type='PanopticQualityMetric'), dict(type='SemanticIoUMetric')]
_RUNS = itertools.count()


def _resize_scales(node, size):
    """Every ``Resize`` in a pipeline tree resized to ``size`` (in place)."""
    if isinstance(node, dict):
        if str(node.get('type', '')).split('.')[-1] == 'Resize' and 'scale' in node:
            node['scale'] = (size, size)
        for value in node.values():
            _resize_scales(value, size)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _resize_scales(value, size)


def tiny_config(config, data_root, work_dir, iters, seed=0, lr_mult=1.0, size=SIZE,
                evaluators='image'):
    """The family's toy config on ``data_root`` at ``size`` px for ``iters`` steps."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.work_dir = str(work_dir)
    root = str(data_root).rstrip('/') + '/'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
        _resize_scales(cfg[key].dataset.get('pipeline', []), size)
    cfg.train_dataloader.batch_size = 4
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    optim = cfg.optim_wrapper.optimizer
    optim.lr = optim.lr * lr_mult
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                                end=max(1, iters // 5))]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10**9,
                                        by_epoch=False, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**9)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if 'Visualization' not in h['type']]
    cfg.randomness = dict(seed=seed)
    cfg.log_level = 'WARNING'
    # Several runners in one process: their global instances (message hub,
    # visualizer, scope) must not share a name.
    run = next(_RUNS)
    cfg.experiment_name = f'tiny_{osp.splitext(osp.basename(config))[0]}_{run}'
    cfg.visualizer.name = f'visualizer_tiny_{run}'
    if evaluators == 'image':
        evaluators = IMAGE_EVALUATORS
    if evaluators is not None:  # None: the config's own
        cfg.test_evaluator = copy.deepcopy(evaluators)
    # The toy stuff-area limit is a share of a 128 px image.
    fusion = cfg.model.get('fusion') or cfg.model.get('detector', {}).get('fusion')
    if fusion is not None and 'stuff_area_limit' in fusion:
        fusion['stuff_area_limit'] = int(fusion['stuff_area_limit'] * (size / 128) ** 2)
    return cfg


def untrained_and_trained(config, data_root, work_dir, iters, seed=0, **kwargs):
    """Test metrics of the config before any step and after ``iters`` steps,
    from the same seed (the same initial weights)."""
    before = Runner.from_cfg(tiny_config(config, data_root, osp.join(work_dir, 'untrained'),
                                         iters, seed, **kwargs)).test()
    runner = Runner.from_cfg(tiny_config(config, data_root, osp.join(work_dir, 'trained'),
                                         iters, seed, **kwargs))
    runner.train()
    after = runner.test()
    return before, after
