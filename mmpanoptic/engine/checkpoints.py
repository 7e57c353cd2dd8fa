"""Checkpoint files that survive a kill, and what a resume needs to continue
exactly.

* :func:`atomic_write`: write next to the final name, fsync, rename over it,
  fsync the folder: a reader sees the old file or the new one, never half.
* :func:`checkpoint_problem` / :func:`require_intact`: a damaged file
  (truncated, not a torch file) named in one line instead of torch's
  ``PytorchStreamReader failed reading zip archive`` traceback.
* :func:`latest_intact_checkpoint`: what ``--resume`` falls back to when the
  newest checkpoint is damaged.
* :func:`rng_states` / :func:`set_rng_states`: torch (CPU and CUDA), numpy
  and Python random states, saved in every checkpoint by our
  :class:`~mmpanoptic.engine.hooks.CheckpointHook`.
"""
import glob
import os
import os.path as osp
import random
import re
import signal
import zipfile
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from mmpanoptic.fileio.errors import PanopticFileError

#: Fault injection for the resume tests: ``N:MODE`` kills this process
#: (SIGKILL) at the N-th checkpoint write, ``MODE`` ``partial`` (half of the
#: temporary file written) or ``unrenamed`` (complete, not yet renamed).
FAULT_ENV = 'MMPANOPTIC_FAULT_CHECKPOINT_KILL'
_writes = 0


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[str], None], *, checkpoint: bool = True) -> None:
    """``write(tmp_path)`` then make it ``path`` atomically (same folder,
    fsync, ``os.replace``, fsync of the folder).  ``checkpoint``: counts as
    a checkpoint write for :data:`FAULT_ENV`."""
    global _writes
    folder = osp.dirname(osp.abspath(path))
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp-{os.getpid()}')
    try:
        write(tmp)
        with open(tmp, 'rb+') as f:
            f.flush()
            os.fsync(f.fileno())
        _writes += checkpoint
        fault = os.environ.get(FAULT_ENV, '')
        if checkpoint and fault and int(fault.split(':')[0]) == _writes:
            if fault.endswith('partial'):
                with open(tmp, 'rb+') as f:
                    f.truncate(os.path.getsize(tmp) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace(tmp, path)
        _fsync_dir(folder)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path: str, text: str) -> None:
    def write(tmp):
        with open(tmp, 'w') as f:
            f.write(text)
    atomic_write(path, write, checkpoint=False)


def checkpoint_problem(path: str) -> Optional[str]:
    """None when ``path`` is a complete torch checkpoint, else why not (one
    line).  Reads the zip directory and checks every member's CRC: a
    truncated or overwritten file is caught without unpickling anything."""
    if not osp.isfile(path):
        return f'{path}: no such checkpoint file'
    if osp.getsize(path) == 0:
        return f'{path}: empty file (a checkpoint write was interrupted?)'
    if not zipfile.is_zipfile(path):
        with open(path, 'rb') as f:
            head = f.read(2)
        if head == b'\x80\x02' or head[:1] == b'\x80':  # torch's legacy pickle format
            return None
        return (f'{path}: damaged or not a torch checkpoint (no zip directory at its end: '
                f'truncated by an interrupted write or copy?)')
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f'{path}: damaged checkpoint ({e})'
    if bad is not None:
        return f'{path}: damaged checkpoint (member {bad} fails its CRC check)'
    return None


def require_intact(path: str, what: str = 'checkpoint') -> None:
    """Raise :class:`PanopticFileError` naming ``path`` when it is damaged."""
    problem = checkpoint_problem(path)
    if problem is not None:
        raise PanopticFileError(f'{what} {problem}')


def _step(path: str) -> int:
    m = re.search(r'(\d+)\.pth$', osp.basename(path))
    return int(m.group(1)) if m else -1


def checkpoint_candidates(work_dir: str) -> List[str]:
    """``iter_N.pth`` / ``epoch_N.pth`` of ``work_dir``, newest first."""
    files = glob.glob(osp.join(work_dir, 'iter_*.pth')) + glob.glob(
        osp.join(work_dir, 'epoch_*.pth'))
    return sorted(files, key=lambda p: (_step(p), osp.getmtime(p)), reverse=True)


def latest_intact_checkpoint(work_dir: str) -> Dict[str, Optional[str]]:
    """The checkpoint ``--resume`` should use: ``named`` (what
    ``last_checkpoint`` names, if anything), ``use`` (the newest intact
    one, or None) and ``skipped`` (damaged ones, newest first)."""
    named = None
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            named = f.read().strip() or None
    candidates = checkpoint_candidates(work_dir)
    if named and named not in candidates and osp.isfile(named):
        candidates.insert(0, named)
    skipped = []
    for path in candidates:
        if checkpoint_problem(path) is None:
            return dict(named=named, use=path, skipped=skipped)
        skipped.append(path)
    return dict(named=named, use=None, skipped=skipped)


def rng_states() -> Dict:
    """Every random state the next iteration may draw from."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    # numpy's state as a tensor and numbers: loads under weights_only
    states = dict(torch=torch.get_rng_state(),
                  numpy=(name, torch.from_numpy(keys.astype(np.int64)), int(pos),
                         int(has_gauss), float(gauss)),
                  python=random.getstate())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Dict) -> None:
    torch.set_rng_state(states['torch'])
    name, keys, pos, has_gauss, gauss = states['numpy']
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(states['python'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


__all__ = ['atomic_write', 'write_text_atomic', 'checkpoint_problem', 'require_intact',
           'checkpoint_candidates', 'latest_intact_checkpoint', 'rng_states',
           'set_rng_states', 'FAULT_ENV']
