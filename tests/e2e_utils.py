"""Helpers for end-to-end tests that run tools/ as a user would."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

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


def record_result(name, figures, commands, notes=''):
    """Write a slow-tier run's figures to ``docs/results/<name>.json``, where
    ``tools/misc/make_results_tables.py`` takes README / docs numbers from."""
    from mmpanoptic.testing.results import write_result
    return write_result(name, figures, ' && '.join(commands), notes=notes)


def toy_commands(config, data_cmd, data_root, tta=False):
    """The commands a user runs to reproduce a slow-tier toy training."""
    work = 'work_dirs/' + osp.splitext(osp.basename(config))[0]
    opts = ' '.join(data_options(data_root))
    test = (f'python tools/test.py {config} $(cat {work}/last_checkpoint) --work-dir {work} '
            f'--cfg-options {opts}')
    return [data_cmd, f'python tools/train.py {config} --work-dir {work} --cfg-options {opts}',
            test] + ([test.replace(' --work-dir', ' --tta --work-dir')] if tta else [])


TOY_DATA_CMD = ('python tools/dataset_converters/make_toy_panoptic.py --out data/toy '
                '--num-train 400 --num-val 50')


def train_test_record(name, config, data_root, work_root, tta=True, timeout=5400):
    """The slow tier's toy run: ``tools/train.py`` to the end, ``tools/test.py``
    (and ``--tta``) on the last checkpoint; the figures go to
    ``docs/results/<name>.json`` before any floor is checked.  Returns
    ``(metrics, tta_metrics or None)``."""
    work = osp.join(str(work_root), 'work')
    opts = data_options(data_root)
    start = time.time()
    run_tool('tools/train.py', config, '--work-dir', work, '--cfg-options', *opts,
             timeout=timeout)
    train_s = time.time() - start
    out = {}
    for key, extra in (('test', ()), ('tta', ('--tta',))):
        if key == 'tta' and not tta:
            continue
        result = osp.join(str(work_root), f'metrics_{key}.json')
        run_tool('tools/test.py', config, last_checkpoint(work), '--work-dir', work, '--out',
                 result, *extra, '--cfg-options', *opts)
        out[key] = read_json(result)
        print(name, key, {k: round(v, 2) for k, v in out[key].items()})
    record_result(name, dict(out, train_seconds=round(train_s, 1)),
                  toy_commands(config, TOY_DATA_CMD, 'data/toy', tta=tta))
    return out['test'], out.get('tta')


def keep_all_video_config(folder, config):
    """A config file in ``folder`` over the video ``config`` whose fusion keeps
    every query (an untrained model then still has segments to show);
    returns its path."""
    path = osp.join(str(folder), 'keep_all.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = '{osp.join(ROOT, config)}'\n"
                'model = dict(detector_changes=dict(fusion=dict(object_mask_thr=0.0, '
                'iou_thr=0.0)))\n')
    return path
