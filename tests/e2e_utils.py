"""Helpers for end-to-end tests that run tools/ as a user would."""
import json
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CFG = 'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py'


def run_tool(*args, timeout=900):
    """Run ``python tools/...`` from the repository root; return stdout."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(args)} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-6000:]}')
    return proc.stdout


def data_options(data_root):
    root = data_root.rstrip('/') + '/'
    return [f'train_dataloader.dataset.data_root={root}',
            f'val_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}']


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def read_json(path):
    with open(path) as f:
        return json.load(f)
