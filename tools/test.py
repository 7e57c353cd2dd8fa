"""Evaluate a checkpoint.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.json]
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmpanoptic.utils import register_all_modules


def parse_args():
    p = argparse.ArgumentParser(description='Test (and evaluate) a panoptic model')
    p.add_argument('config', help='config file')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--work-dir', help='where logs and pictures go')
    p.add_argument('--out', help='also write the metrics to this JSON file')
    p.add_argument('--show-dir', help='write overlay pictures here (default: '
                   '{work_dir}/vis/test)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                   default='none')
    p.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = p.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    # Like mmdet's tools: let custom_imports of projects/ resolve from the
    # directory the command runs in (python puts tools/ on sys.path instead).
    sys.path.insert(0, os.getcwd())
    register_all_modules(init_default_scope=False)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        for hook in cfg.get('custom_hooks', []):
            if hook.get('type') == 'PanopticVisualizationHook':
                hook['out_dir'] = args.show_dir
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1)
        print(f'metrics written to {args.out}')


if __name__ == '__main__':
    main()
