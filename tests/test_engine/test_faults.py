"""Nothing lost: checkpoints that survive a kill, a resume that continues
exactly, a NaN that stops the run, damaged checkpoints named in one line.

Each test drives ``tools/train.py`` / ``tools/test.py`` in subprocesses, as a
user (or a cluster) would, on a tiny Mask2Former (its point sampling draws
from torch's random generator every step, so an inexact resume shows).
Before this round the same probes gave: a truncated checkpoint and a deleted
predecessor after a kill mid-write (``max_keep_ckpts=1``), weights off by up
to 0.14 after 4 kills and resumes, ``loss: nan`` trained on with exit 0.
"""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmpanoptic.engine.checkpoints import FAULT_ENV, checkpoint_problem

from ..e2e_utils import ROOT
from ..fault_cases import FAULTS

ITERS = 12


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny Mask2Former config (64 px, 12 steps of 2 images, a checkpoint
    every 3 steps, only the newest kept) and its data."""
    from mmpanoptic.datasets import make_toy_panoptic

    from ..tiny_training import tiny_config
    base = tmp_path_factory.mktemp('faults')
    root = str(base / 'data')
    make_toy_panoptic(root, num_train=8, num_val=2, height=64, width=64, progress=False)
    cfg = tiny_config('configs/mask2former/mask2former_r18_toy.py', root, str(base / 'unused'),
                      ITERS, seed=0, evaluators=None)
    cfg.train_dataloader.batch_size = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3, by_epoch=False,
                                        max_keep_ckpts=1)
    cfg.log_level = 'WARNING'
    path = str(base / 'tiny_m2f.py')
    cfg.dump(path)
    return path, root


def train(config, work, *extra, env=None, check=True, timeout=300):
    proc = subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir', work,
                           '--skip-validation', *extra], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONWARNINGS='ignore', **(env or {})))
    if check and proc.returncode != 0:
        raise AssertionError(f'train failed ({proc.returncode}):\n{proc.stderr[-4000:]}')
    return proc


def weights(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def test_killed_and_resumed_run_ends_with_the_same_weights(tiny, tmp_path):
    """Killed mid-write (half a file), killed between the write and the
    rename, killed right after a save, each time resumed with ``--resume``:
    the final weights equal an uninterrupted run's bit for bit."""
    config, _ = tiny
    ref_dir, work = str(tmp_path / 'ref'), str(tmp_path / 'run')
    train(config, ref_dir)
    reference = weights(osp.join(ref_dir, f'iter_{ITERS}.pth'))

    # 1. killed while writing its second checkpoint (iteration 6): half a file
    proc = train(config, work, env={FAULT_ENV: '2:partial'}, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert os.listdir(work) and osp.isfile(osp.join(work, 'iter_3.pth'))
    assert checkpoint_problem(osp.join(work, 'iter_3.pth')) is None  # the old one survived
    assert open(osp.join(work, 'last_checkpoint')).read().strip().endswith('iter_3.pth')
    # 2. resumed, killed after writing iteration 6 completely but before the rename
    proc = train(config, work, '--resume', env={FAULT_ENV: '1:unrenamed'}, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert not osp.exists(osp.join(work, 'iter_6.pth'))
    # 3. resumed, killed at a moment of the run (as soon as iteration 9 is saved)
    p = subprocess.Popen([sys.executable, 'tools/train.py', config, '--work-dir', work,
                          '--skip-validation', '--resume'], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not osp.exists(osp.join(work, 'iter_9.pth')) and time.time() < deadline \
            and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    # 4. resumed to the end
    train(config, work, '--resume')
    final = weights(osp.join(work, f'iter_{ITERS}.pth'))
    assert sorted(os.path.basename(f) for f in os.listdir(work) if f.endswith('.pth')) == \
        [f'iter_{ITERS}.pth']  # max_keep_ckpts=1 still holds
    assert final.keys() == reference.keys()
    different = [k for k in reference if not torch.equal(reference[k], final[k])]
    assert different == [], f'{len(different)} tensors differ, e.g. {different[:3]}'


def test_damaged_checkpoints_are_named_and_resume_falls_back(tiny, tmp_path):
    config, _ = tiny
    work = str(tmp_path / 'run')
    train(config, work, '--cfg-options', 'train_cfg.max_iters=6',
          'default_hooks.checkpoint.max_keep_ckpts=2')
    good, newest = osp.join(work, 'iter_3.pth'), osp.join(work, 'iter_6.pth')
    with open(newest, 'rb+') as f:  # a copy cut short
        f.truncate(os.path.getsize(newest) // 3)
    assert 'damaged' in checkpoint_problem(newest)
    proc = subprocess.run([sys.executable, 'tools/test.py', config, newest], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert f'error: checkpoint {newest}: damaged' in proc.stderr
    assert FAULTS['damaged_test'].found_in(proc.stderr)
    assert 'Traceback' not in proc.stderr
    proc = train(config, work, '--resume', newest, check=False)
    assert proc.returncode != 0 and f'error: --resume {newest}: damaged' in proc.stderr
    assert FAULTS['damaged_resume'].found_in(proc.stderr)
    proc = train(config, work, '--resume', '--cfg-options', 'train_cfg.max_iters=6')
    assert f'last_checkpoint names {newest}, which is damaged or missing; resuming from ' \
        f'{good}' in proc.stdout
    assert FAULTS['damaged_auto_resume'].found_in(proc.stdout)
    assert checkpoint_problem(newest) is None  # iteration 6 written again, whole


def test_nan_stops_the_run_before_the_weights_change(tiny, tmp_path):
    """A NaN pixel in the batch of iteration 5: the run stops there, naming
    NaN, the iteration, the loss terms and the images; the checkpoint of
    iteration 3 stays the last one, finite."""
    base, _ = tiny
    work = str(tmp_path / 'run')
    config = str(tmp_path / 'poisoned.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                "custom_imports = dict(imports=['poison'], allow_failed_imports=False)\n"
                "custom_hooks = [dict(type='PoisonHook')]\n")
    with open(str(tmp_path / 'poison.py'), 'w') as f:
        f.write(
            'from mmpanoptic.registry import HOOKS\n'
            'from mmengine.hooks import Hook\n'
            '@HOOKS.register_module()\n'
            'class PoisonHook(Hook):\n'
            '    def before_train_iter(self, runner, batch_idx, data_batch=None):\n'
            '        if runner.iter == 4:\n'
            '            data_batch["inputs"][0] = data_batch["inputs"][0].float()\n'
            '            data_batch["inputs"][0][0, 5, 5] = float("nan")\n')
    proc = train(config, work, check=False, env={'PYTHONPATH': str(tmp_path)})
    assert proc.returncode == 1, proc.stderr[-3000:]
    err = proc.stderr
    assert 'non-finite loss nan at iteration 5' in err and FAULTS['nan'].found_in(err)
    assert 'loss_cls=nan' in err or 'loss_mask=nan' in err
    assert '.png' in err or '.jpg' in err
    assert not osp.exists(osp.join(work, 'iter_6.pth'))
    last = weights(osp.join(work, 'iter_3.pth'))
    assert all(torch.isfinite(v).all() for v in last.values() if v.is_floating_point())


def test_skip_mode_counts_and_goes_on(tiny, tmp_path):
    """action='skip': the poisoned step is dropped, the run finishes."""
    from mmpanoptic.engine.hooks import NonFiniteCheckHook
    hook = NonFiniteCheckHook(action='skip', max_skips=3)

    class Wrapper:
        def __init__(self):
            self.updates = 0

        def update_params(self, loss):
            self.updates += 1

        def zero_grad(self):
            pass

    w = Wrapper()
    hook._batch = dict(data_samples=[])
    update = hook._checked(w, w.update_params)
    update(torch.tensor(1.0))
    update(torch.tensor(float('nan')))
    update(torch.tensor(2.0))
    assert w.updates == 2 and hook.skipped == 1
    from mmpanoptic.engine.hooks import NonFiniteLossError
    with pytest.raises(NonFiniteLossError, match='3 steps in a row'):
        for _ in range(3):
            update(torch.tensor(float('inf')))
    with pytest.raises(ValueError, match="'stop' or 'skip'"):
        NonFiniteCheckHook(action='ignore')


# ----------------------------------------------------------------- data faults
@pytest.fixture()
def toy_cfg(tmp_path):
    """The toy Panoptic FPN config on 4 + 2 freshly made toy images."""
    from mmengine.config import Config

    from mmpanoptic.datasets import make_toy_panoptic

    from ..e2e_utils import TOY_CFG
    root = str(tmp_path / 'toy')
    make_toy_panoptic(root, num_train=4, num_val=2, progress=False)
    cfg = Config.fromfile(osp.join(ROOT, TOY_CFG))
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].dataset.data_root = root + '/'
    return cfg, root


def _problems(cfg):
    from mmpanoptic.datasets.validation import check_config_annotations
    return check_config_annotations(cfg, files=True, progress=False)[1]


def test_data_faults_are_found_before_training(toy_cfg):
    """What tools/train.py checks before iteration 1 (each used to stop a run
    only when first sampled, or pass silently): a truncated PNG, a thing in a
    PNG that its JSON lacks, a truncated image file (the validator read only
    the header), an empty training set."""
    import json

    import numpy as np
    from PIL import Image
    cfg, root = toy_cfg
    assert _problems(cfg) == []
    ann_file = osp.join(root, 'annotations', 'panoptic_train2017.json')
    data = json.load(open(ann_file))
    first, second, third = data['annotations'][:3]
    png = osp.join(root, 'annotations', 'panoptic_train2017', first['file_name'])
    raw = open(png, 'rb').read()
    with open(png, 'wb') as f:
        f.write(raw[:len(raw) // 2])
    found = _problems(cfg)
    assert [p.kind for p in found] == ['unreadable png'] and first['file_name'] in str(found[0])
    assert FAULTS['truncated_png'].found_in(str(found[0]))
    with open(png, 'wb') as f:
        f.write(raw)
    # a thing painted into the PNG that the JSON does not list
    png2 = osp.join(root, 'annotations', 'panoptic_train2017', second['file_name'])
    rgb = np.asarray(Image.open(png2)).copy()
    rgb[:4, :4] = (7, 7, 7)
    Image.fromarray(rgb).save(png2)
    found = [p for p in _problems(cfg) if p.kind == 'id in png not in segments_info']
    assert found and found[0].segment == 7 + 7 * 256 + 7 * 256 * 256
    assert FAULTS['thing_not_in_json'].found_in(str(found[0]))
    # a truncated JPEG / PNG image: the header alone reads fine
    img = osp.join(root, 'train2017', third['file_name'].replace('.png', '.jpg'))
    if not osp.isfile(img):
        img = osp.join(root, 'train2017', next(i['file_name'] for i in data['images']
                                                 if i['id'] == third['image_id']))
    raw_img = open(img, 'rb').read()
    with open(img, 'wb') as f:
        f.write(raw_img[:len(raw_img) * 2 // 3])
    unreadable = [p for p in _problems(cfg) if p.kind == 'unreadable image']
    assert unreadable and FAULTS['truncated_image'].found_in(str(unreadable[0]))
    # nothing to train on
    for a in data['annotations']:
        a['segments_info'] = [dict(s, iscrowd=1) for s in a['segments_info']]
    json.dump(data, open(ann_file, 'w'))
    empty = [p for p in _problems(cfg) if p.kind == 'empty dataset']
    assert empty and FAULTS['empty_dataset'].found_in(str(empty[0]))


# ----------------------------------------------------------------- evaluation CLIs
def _die(job):  # a worker killed mid-evaluation
    os._exit(3)


def test_pq_eval_dead_worker_and_bad_ground_truth(tmp_path, monkeypatch):
    """A killed pool worker stops the evaluation with an error (it hung
    forever with multiprocessing.Pool); an empty ground truth and categories
    without isthing are named up front (before: null results with exit 0,
    a KeyError after the whole evaluation)."""
    import json
    import shutil

    from mmpanoptic.evaluation.files import pq_eval
    from mmpanoptic.fileio import PanopticEvalError
    case = osp.join(ROOT, 'tests', 'data', 'panoptic_eval_cases', 'pq_panopticapi_sample_perturbed')
    d = str(tmp_path / 'case')
    shutil.copytree(case, d)
    args = [osp.join(d, 'gt.json'), osp.join(d, 'gt'), osp.join(d, 'pred.json'),
            osp.join(d, 'pred')]

    monkeypatch.setattr(pq_eval, '_evaluate_jobs', _die)
    monkeypatch.setattr(pq_eval, '_chunks', lambda items, size: ([i] for i in items))
    start = time.time()
    with pytest.raises(PanopticEvalError, match='a worker process died') as e:
        pq_eval.evaluate_panoptic_files(*args, nproc=2, progress=False)
    assert FAULTS['pq_dead_worker'].found_in(str(e.value))
    assert time.time() - start < 60
    monkeypatch.undo()
    gt = json.load(open(args[0]))
    json.dump(dict(gt, annotations=[]), open(args[0], 'w'))
    with pytest.raises(PanopticEvalError, match='no annotations') as e:
        pq_eval.evaluate_panoptic_files(*args, progress=False)
    assert FAULTS['pq_empty_gt'].found_in(str(e.value))
    cats = [{k: v for k, v in c.items() if k != 'isthing'} for c in gt['categories']]
    json.dump(dict(gt, categories=cats), open(args[0], 'w'))
    from mmpanoptic.fileio import PanopticError
    with pytest.raises(PanopticError, match='gt JSON .*gt.json: category .* lacks "isthing"') \
            as e:
        pq_eval.evaluate_panoptic_files(*args, progress=False)
    assert FAULTS['pq_no_isthing'].found_in(str(e.value))


def test_fault_page_is_current():
    """docs/faults.md is tests/fault_cases.py rendered."""
    import runpy
    main = runpy.run_path(osp.join(ROOT, 'tools', 'misc', 'make_fault_table.py'))['main']
    assert main(['--check']) == 0
