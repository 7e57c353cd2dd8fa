"""The results file: every figure that README, docs and metafiles print.

The slow test tier and the benchmarks write what they measure to
``docs/results/<name>.json`` (one file per run: the command, the commit, the
machine, the figures); ``tools/misc/make_results_tables.py`` writes the
tables of README / docs / metafiles from those files, and with ``--check``
names every printed number that differs from them.  Nothing here imports
torch or OpenMMLab, so benchmarks of torch-free tools can use it.

Set ``MMPANOPTIC_RESULTS_DIR`` to write somewhere else (an empty string turns
writing off), e.g. when trying a change that should not touch the docs.
"""
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys
from typing import Any, Dict, Optional, Sequence, Union

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RESULTS_DIR = osp.join(ROOT, 'docs', 'results')


def results_dir() -> Optional[str]:
    """Where results are written: ``$MMPANOPTIC_RESULTS_DIR`` or
    ``docs/results``; ``None`` when the variable is set to an empty string."""
    value = os.environ.get('MMPANOPTIC_RESULTS_DIR')
    if value is None:
        return RESULTS_DIR
    return value or None


def git_commit(root: str = ROOT) -> str:
    """``HEAD``'s hash, with ``-dirty`` when tracked files differ from it."""
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=root, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return head + ('-dirty' if dirty else '')


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def machine_info() -> Dict[str, Any]:
    """The machine a figure was measured on (versions read without importing
    torch when it is not imported yet)."""
    from importlib.metadata import PackageNotFoundError, version
    info = dict(cpu=_cpu_model(), cores=os.cpu_count(), system=platform.platform(),
                python=platform.python_version())
    for name in ('torch', 'numpy', 'mmcv', 'mmdet'):
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            pass
    if 'torch' in sys.modules:
        torch = sys.modules['torch']
        info['gpu'] = (torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    return info


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def write_result(name: str, figures: Dict[str, Any], command: Union[str, Sequence[str]],
                 notes: str = '', directory: Optional[str] = None) -> Optional[str]:
    """Write ``<directory>/<name>.json``; returns its path (``None`` when
    writing is turned off).  ``figures`` is a (nested) dict of numbers."""
    directory = directory if directory is not None else results_dir()
    if not directory:
        return None
    if not isinstance(command, str):
        command = ' '.join(str(c) for c in command)
    record = dict(name=name, command=command, commit=git_commit(),
                  date=datetime.datetime.now(datetime.timezone.utc).isoformat(
                      timespec='seconds'),
                  machine=machine_info(), notes=notes, figures=_rounded(figures))
    os.makedirs(directory, exist_ok=True)
    path = osp.join(directory, f'{name}.json')
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=1, sort_keys=False)
        f.write('\n')
    os.replace(tmp, path)
    return path


def read_results(directory: str = RESULTS_DIR) -> Dict[str, dict]:
    """Every ``*.json`` record of ``directory`` by name; a record whose file
    name and ``name`` disagree, or that lacks a field, is an error."""
    records = {}
    if not osp.isdir(directory):
        return records
    for file in sorted(os.listdir(directory)):
        if not file.endswith('.json'):
            continue
        path = osp.join(directory, file)
        with open(path) as f:
            try:
                record = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}: not valid JSON ({e})') from None
        missing = {'name', 'command', 'commit', 'machine', 'figures'} - set(record)
        if missing:
            raise ValueError(f'{path}: missing {sorted(missing)}')
        if record['name'] != file[:-5]:
            raise ValueError(f'{path}: name {record["name"]!r} differs from the file name')
        records[record['name']] = record
    return records
