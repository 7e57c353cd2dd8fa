"""Evaluate a checkpoint.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.json] [--tta]
        [--compile [BACKEND]]

``--tta`` evaluates with test-time augmentation: the config's ``tta_model``
(``PanopticTTAModel``) around its model and its ``tta_pipeline`` (flips and
scales) as the test pipeline.  ``--compile`` runs the network (backbone,
neck, heads; not the post-processing) through ``torch.compile`` (see
``benchmarks/hf_model_speed.py --compile`` for what it gains).
"""
import argparse
import json

from mmengine.runner import Runner

from mmpanoptic.engine.checkpoints import checkpoint_problem
from mmpanoptic.utils.tool_config import finish_distributed, load_tool_config, parse_tool_args


def parse_args():
    p = argparse.ArgumentParser(description='Test (and evaluate) a panoptic model')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--work-dir', help='where logs and pictures go')
    p.add_argument('--out', help='also write the metrics to this JSON file')
    p.add_argument('--show-dir', help='write overlay pictures here (default: '
                   '{work_dir}/vis/test)')
    p.add_argument('--tta', action='store_true',
                   help='test-time augmentation (the config\'s tta_model and tta_pipeline)')
    p.add_argument('--compile', nargs='?', const='inductor', default=None, metavar='BACKEND',
                   help='torch.compile the network (backend: inductor unless named; the '
                   'first images of each size compile, slowly)')
    return parse_tool_args(p)


def main():
    args = parse_args()
    problem = checkpoint_problem(args.checkpoint)
    if problem is not None:
        raise SystemExit(f'error: checkpoint {problem}')
    cfg = load_tool_config(args.config, work_dir=args.work_dir,
                           cfg_options=args.cfg_options, launcher=args.launcher)
    cfg.load_from = args.checkpoint
    if args.tta:
        use_tta(cfg, args.config)
    if args.show_dir:
        for hook in cfg.get('custom_hooks', []):
            if hook.get('type') == 'PanopticVisualizationHook':
                hook['out_dir'] = args.show_dir
    runner = Runner.from_cfg(cfg)
    if args.compile:
        compile_model(runner, args.compile)
    metrics = runner.test()
    if args.out and runner.rank == 0:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1, default=float)
        print(f'metrics written to {args.out}')
    finish_distributed()


def compile_model(runner, backend='inductor'):
    """Compile the segmentor's network in place (also inside a TTA wrapper)."""
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    inner = getattr(model, 'module', model)  # PanopticTTAModel wraps the segmentor
    if not hasattr(inner, 'compile_network'):
        raise SystemExit(f'--compile: {type(inner).__name__} has no compile_network')
    names = inner.compile_network(backend=backend)
    runner.logger.info(f'--compile: torch.compile ({backend}) on {", ".join(names)}; the '
                       'first images of each input size compile (slow), the rest run compiled')


def use_tta(cfg, path):
    """Wrap the model in the config's ``tta_model``; test on ``tta_pipeline``."""
    missing = [k for k in ('tta_model', 'tta_pipeline') if k not in cfg]
    if missing:
        raise SystemExit(f'--tta: {path} defines no {" / ".join(missing)} (see '
                         'configs/_base_/datasets/toy_panoptic.py for an example)')
    cfg.model = dict(**cfg.tta_model, module=cfg.model)
    dataset = cfg.test_dataloader.dataset
    while 'dataset' in dataset:  # dataset wrappers
        dataset = dataset['dataset']
    dataset.pipeline = cfg.tta_pipeline


if __name__ == '__main__':
    main()
