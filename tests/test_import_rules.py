"""The layering of ARCHITECTURE.md is import-linter contracts in
pyproject.toml: they hold for the package, and a new import that runs back up
a layer makes them fail."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from .e2e_utils import ROOT
from .extras import require

require('importlinter', 'import-linter')


def _lint(root):
    """``lint-imports`` on the package under ``root`` with the repo's contracts."""
    env = dict(os.environ, PYTHONPATH=root)
    code = 'import sys; from importlinter.cli import lint_imports_command; ' \
        'sys.argv = ["lint-imports", "--no-cache"]; lint_imports_command()'
    return subprocess.run([sys.executable, '-c', code], cwd=root, env=env,
                          capture_output=True, text=True)


def test_contracts_hold():
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Contracts: 5 kept, 0 broken.' in proc.stdout


@pytest.mark.parametrize('module,line,contract', [
    # datasets and evaluation are siblings: neither imports the other
    ('datasets/coco_panoptic.py', 'from mmpanoptic.evaluation import functional',
     'Package layers'),
    # a head is forward only
    ('models/heads/mask2former_head.py', 'from ..criteria import losses', 'A head never imports'),
    # the file layer stays free of torch
    ('fileio/png.py', 'import torch', 'File formats'),
])
def test_a_broken_import_fails(tmp_path, module, line, contract):
    root = str(tmp_path)
    shutil.copytree(osp.join(ROOT, 'mmpanoptic'), osp.join(root, 'mmpanoptic'),
                    ignore=shutil.ignore_patterns('__pycache__'))
    shutil.copy(osp.join(ROOT, 'pyproject.toml'), root)
    path = osp.join(root, 'mmpanoptic', module)
    with open(path) as f:
        source = f.read()
    with open(path, 'w') as f:
        f.write(line + '  # noqa\n' + source)
    proc = _lint(root)
    assert proc.returncode != 0
    assert f'{contract}' in proc.stdout and 'BROKEN' in proc.stdout, proc.stdout
