import io

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from mmpanoptic.compat import apply_compat_patches, checkpoint_safe_globals


def test_runner_style_checkpoint_loads_with_weights_only():
    """What mmengine's CheckpointHook saves: numpy values and HistoryBuffer."""
    apply_compat_patches()
    buf = HistoryBuffer()
    buf.update(1.5)
    ckpt = dict(
        state_dict={'w': torch.ones(2)},
        meta=dict(seed=np.int64(3), iter=np.float64(2.0), arr=np.arange(3),
                  dtypes=[np.dtype('float32'), np.dtype('int64')],
                  message_hub=dict(log_scalars={'loss': buf})))
    f = io.BytesIO()
    torch.save(ckpt, f)
    f.seek(0)
    loaded = torch.load(f)  # weights_only=True is torch's default
    assert loaded['meta']['message_hub']['log_scalars']['loss'].current() == 1.5
    assert loaded['meta']['arr'].tolist() == [0, 1, 2]


class Evil:
    pass


def test_fresh_process_loads_runner_checkpoint(tmp_path):
    """A process that never built a HistoryBuffer (as tools/test.py) loads it.

    The patches come with anything that uses OpenMMLab (``mmpanoptic.registry``,
    imported by every model, dataset and metric module, and ``mmpanoptic.utils``);
    a bare ``import mmpanoptic`` stays light (no torch) for the PQ CLI."""
    import subprocess
    import sys
    buf = HistoryBuffer()
    buf.update(2.0)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(meta=dict(message_hub=dict(log_scalars={'loss': buf}))), path)
    code = ('import mmpanoptic.registry, torch; '
            f'c = torch.load({path!r}); '
            "print(c['meta']['message_hub']['log_scalars']['loss'].mean())")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == '2.0'


def test_arbitrary_objects_are_still_refused():
    import pickle
    apply_compat_patches()
    f = io.BytesIO()
    torch.save({'x': Evil()}, f)
    f.seek(0)
    try:
        torch.load(f)
    except pickle.UnpicklingError:
        pass
    else:
        raise AssertionError('weights_only should refuse unknown classes')


def test_getattr_stand_in_is_restricted():
    import os
    import pickle

    import pytest

    from mmpanoptic.compat import history_buffer_getattr
    assert history_buffer_getattr(HistoryBuffer, 'mean') == HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer'):
        history_buffer_getattr(os, 'system')


def test_safe_globals_cover_numpy1_spelling():
    names = {name for _, name in checkpoint_safe_globals()}
    assert 'numpy.core.multiarray._reconstruct' in names
    assert 'numpy._core.multiarray._reconstruct' in names


def test_bare_package_import_stays_light():
    import subprocess
    import sys
    code = ('import sys, mmpanoptic; '
            'print([m for m in ("torch", "mmengine", "mmcv") if m in sys.modules])')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == '[]'
