"""Evaluation: :mod:`.functional` (the maths, numpy only), :mod:`.files`
(COCO-panoptic and video prediction files on disk, numpy only) and
:mod:`.metrics` (the runner's metrics, on mmengine).

The metrics are imported on first use, so the file evaluators and their CLIs
start without torch.
"""
import importlib

from .functional import *  # noqa: F401,F403
from .functional import __all__ as _functional_all

_METRICS = ('PanopticQualityMetric', 'VideoPanopticMetric', 'InstanceFromPanopticMetric',
            'SemanticIoUMetric')


def __getattr__(name):
    if name in _METRICS:
        return getattr(importlib.import_module('.metrics', __name__), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = list(_functional_all) + list(_METRICS)
