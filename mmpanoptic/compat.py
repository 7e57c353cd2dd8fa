"""Small compatibility layer for the OpenMMLab 2.x stack on torch >= 2.6 and numpy 2.

torch >= 2.6 calls ``torch.load(..., weights_only=True)`` by default.  The
checkpoints that mmengine 0.10's runner writes hold more than tensors: the
message hub keeps :class:`mmengine.logging.HistoryBuffer` objects and numpy
arrays / scalars, so ``load_from`` and ``resume`` fail out of the box with
``_pickle.UnpicklingError: Weights only load failed``.

Rather than turning ``weights_only`` off (which re-enables arbitrary code
execution from a checkpoint file), we allow-list the few classes such
checkpoints contain with :func:`torch.serialization.add_safe_globals`.  The
list covers checkpoints pickled under numpy 1 (``numpy.core.*``) and numpy 2
(``numpy._core.*``).  ``HistoryBuffer`` pickles its statistics methods as
``getattr(HistoryBuffer, 'mean')``; instead of allowing the builtin
``getattr``, a restricted stand-in is registered under that name which only
resolves HistoryBuffer's registered statistics methods.  Nothing in
site-packages is edited.
"""
import importlib
import pickle
from typing import Any, List, Tuple

import numpy as np
import torch

_APPLIED = False


def _numpy_globals() -> List[Tuple[Any, str]]:
    """(object, qualified name) pairs for numpy pieces that pickles reference."""
    entries: List[Tuple[Any, str]] = []
    core_name = 'numpy._core' if hasattr(np, '_core') else 'numpy.core'
    multiarray = importlib.import_module(f'{core_name}.multiarray')
    for attr in ('_reconstruct', 'scalar'):
        obj = getattr(multiarray, attr)
        # Register under both spellings: a checkpoint written under numpy 1
        # says numpy.core.multiarray, one written under numpy 2 says _core.
        for mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            entries.append((obj, f'{mod}.{attr}'))
    entries.append((np.ndarray, 'numpy.ndarray'))
    entries.append((np.dtype, 'numpy.dtype'))
    # numpy >= 1.25 pickles dtypes through their classes (numpy.dtypes.Float64DType).
    dtypes_mod = getattr(np, 'dtypes', None)
    if dtypes_mod is not None:
        for name in dir(dtypes_mod):
            obj = getattr(dtypes_mod, name)
            if isinstance(obj, type) and name.endswith('DType'):
                entries.append((obj, f'numpy.dtypes.{name}'))
    return entries


# HistoryBuffer's own statistics; its class-level registry only fills up when
# the first instance is built, which a fresh process loading a checkpoint has
# not done yet.
_HISTORY_BUFFER_STATS = ('min', 'max', 'mean', 'current')


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` limited to what HistoryBuffer pickles refer to."""
    from mmengine.logging import HistoryBuffer
    allowed = set(_HISTORY_BUFFER_STATS) | set(HistoryBuffer._statistics_methods)
    if (obj is HistoryBuffer or isinstance(obj, HistoryBuffer)) and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer '
        f'statistics methods are allowed')


def checkpoint_safe_globals() -> List[Tuple[Any, str]]:
    """Everything an mmengine runner checkpoint needs beyond plain tensors."""
    from mmengine.logging import HistoryBuffer
    entries = _numpy_globals()
    entries.append(
        (HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'))
    entries.append((history_buffer_getattr, 'builtins.getattr'))
    return entries


def allow_mmengine_checkpoints() -> None:
    """Allow-list the classes in mmengine checkpoints for ``weights_only`` loads."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4 has no weights_only default to worry about
        return
    add(checkpoint_safe_globals())


MMCV_RANGE = ('2.0.0', '2.2.0')
MMENGINE_RANGE = ('0.10.0', '0.11.0')


def check_versions() -> None:
    """Refuse an mmcv / mmengine outside the range mmdet 3.3 and mmseg 1.2 accept."""
    import mmcv
    import mmengine
    from mmengine.utils import digit_version
    for name, version, (low, high) in (('mmcv', mmcv.__version__, MMCV_RANGE),
                                       ('mmengine', mmengine.__version__, MMENGINE_RANGE)):
        if not digit_version(low) <= digit_version(version) < digit_version(high):
            raise ImportError(
                f'{name}=={version} is installed, but mmpanoptic needs '
                f'{low} <= {name} < {high} (mmdet 3.3.0 and mmsegmentation 1.2.2 '
                f'refuse mmcv>=2.2). Run `bash tools/setup_env.sh`.')


def apply_compat_patches() -> None:
    """Check versions and apply every compatibility fix once; safe to call
    many times (:mod:`mmpanoptic.registry` calls it on import)."""
    global _APPLIED
    if _APPLIED:
        return
    check_versions()
    allow_mmengine_checkpoints()
    _APPLIED = True
