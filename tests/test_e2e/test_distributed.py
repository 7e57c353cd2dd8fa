"""tools/dist_train.sh and tools/dist_test.sh with 2 CPU processes (gloo), as a
new user runs them: the distributed evaluation equals tools/test.py exactly."""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys

import numpy as np
from PIL import Image

from mmpanoptic.datasets import make_toy_panoptic

from ..e2e_utils import ROOT, TOY_CFG, data_options, last_checkpoint, read_json, run_tool
from .test_train_toy import SMALL


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _run_script(*args, timeout=900):
    env = dict(os.environ, PYTHON=sys.executable, PORT=_free_port(), PYTHONWARNINGS='ignore')
    proc = subprocess.run(['bash', *args], cwd=ROOT, env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, f'{args} failed:\n{proc.stdout[-6000:]}'
    return proc.stdout


def _predictions(prefix):
    """The dumped COCO-panoptic predictions: {file: (id map, segments)}."""
    data = read_json(prefix + '.panoptic.json')
    out = {}
    for ann in data['annotations']:
        ids = np.asarray(Image.open(osp.join(prefix + '.panoptic', ann['file_name'])))
        out[ann['file_name']] = (ids, sorted((s['id'], s['category_id'], s['area'])
                                             for s in ann['segments_info']))
    return out


def test_dist_train_then_dist_test_equals_single_process(tmp_path):
    root = str(tmp_path / 'toy')
    # 7 val images over 2 processes: the sampler pads one rank, the metric
    # must drop the duplicate again.
    make_toy_panoptic(root, num_train=16, num_val=7, height=64, width=64, progress=False)
    opts = data_options(root) + SMALL
    work = str(tmp_path / 'work')
    out = _run_script('tools/dist_train.sh', TOY_CFG, '2', '--work-dir', work, '--cfg-options',
                      *opts, 'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
                      'default_hooks.checkpoint.interval=4', 'default_hooks.logger.interval=1')
    assert "backend': 'gloo'" in out and 'Iter(train) [4/4]' in out
    ckpt = last_checkpoint(work)
    assert ckpt.endswith('iter_4.pth') and osp.isfile(ckpt)

    results = {}
    for mode in ('single', 'dist'):
        prefix = str(tmp_path / mode / 'preds')
        args = [TOY_CFG, ckpt, '--work-dir', str(tmp_path / mode), '--out',
                str(tmp_path / f'{mode}.json'), '--cfg-options', *opts,
                f'test_evaluator.0.outfile_prefix={prefix}']
        if mode == 'single':
            run_tool('tools/test.py', *args)
        else:
            _run_script('tools/dist_test.sh', args[0], args[1], '2', *args[2:])
        # Per-class counts of the dumped predictions, by the PQ CLI.
        counts = str(tmp_path / f'{mode}_counts.json')
        run_tool('tools/analysis_tools/pq_eval.py', '--gt-json',
                 osp.join(root, 'annotations', 'panoptic_val2017.json'), '--gt-dir',
                 osp.join(root, 'annotations', 'panoptic_val2017'), '--pred-json',
                 prefix + '.panoptic.json', '--pred-dir', prefix + '.panoptic', '--out', counts,
                 '--no-progress')
        results[mode] = (read_json(str(tmp_path / f'{mode}.json')), _predictions(prefix),
                         read_json(counts)['per_class'])

    (m1, p1, c1), (m2, p2, c2) = results['single'], results['dist']
    assert m1 == m2  # every metric, exactly
    assert sorted(p1) == sorted(p2) and len(p1) == 7
    for name in p1:
        np.testing.assert_array_equal(p1[name][0], p2[name][0])
        assert p1[name][1] == p2[name][1]
    assert c1 == c2
    # Not a vacuous comparison: the 4-step model predicts segments, and the
    # counts cover every val image's ground truth.
    assert sum(len(v[1]) for v in p1.values()) > 0
    assert sum(c['tp'] + c['fp'] for c in c1.values()) > 0
    gt = json.load(open(osp.join(root, 'annotations', 'panoptic_val2017.json')))
    n_gt = sum(len(a['segments_info']) for a in gt['annotations'])
    assert sum(c['tp'] + c['fn'] for c in c1.values()) <= n_gt



STALL_SCRIPT = """
import os, signal, sys, time
import torch, torch.distributed as dist
from mmengine.config import Config
from mmpanoptic.utils.tool_config import init_distributed_without_cuda
cfg = Config.fromfile(sys.argv[1])
cfg.launcher = 'pytorch'
cfg.env_cfg.dist_cfg.timeout = int(sys.argv[2])
init_distributed_without_cuda(cfg)
rank = dist.get_rank()
for step in range(10 ** 6):
    if rank == 1 and step == 3:
        os.kill(os.getpid(), signal.SIGSTOP)  # a stalled rank
    dist.all_reduce(torch.ones(4))
    if rank == 0 and step == 2:
        print('collectives run', flush=True)
"""


def test_a_stalled_rank_fails_the_other_within_the_timeout(tmp_path):
    """Two gloo ranks joined by the tools' own path (init_distributed_without_cuda,
    the timeout from the config's env_cfg.dist_cfg: 300 s in default_runtime.py,
    3 s here); rank 1 stops itself (SIGSTOP) mid-run: rank 0's next collective
    fails with torch's timeout error within the timeout instead of waiting
    torch's default 30 minutes."""
    import time
    script = tmp_path / 'stall.py'
    script.write_text(STALL_SCRIPT)
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=_free_port(), WORLD_SIZE='2',
               PYTHONWARNINGS='ignore', PYTHONPATH=ROOT)
    config = osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')
    procs = [subprocess.Popen([sys.executable, str(script), config, '3'], cwd=ROOT,
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in range(2)]
    try:
        start = time.time()
        out, _ = procs[0].communicate(timeout=120)
        took = time.time() - start
    finally:
        for p in procs:
            p.kill()
    assert 'collectives run' in out, out[-2000:]
    assert procs[0].returncode != 0
    assert re.search(r'[Tt]imed? ?out', out), out[-2000:]
    assert took < 60
    from ..fault_cases import FAULTS
    assert 'stalled_rank' in FAULTS
