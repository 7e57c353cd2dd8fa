"""mmpanoptic: panoptic segmentation on OpenMMLab (mmengine, mmcv, mmdet, mmseg).

Importing the package itself is cheap: the file evaluators
(:mod:`mmpanoptic.evaluation.functional`, :mod:`mmpanoptic.evaluation.files`)
are numpy only, and ``tools/analysis_tools/pq_eval.py`` starts without torch.
Everything that builds on OpenMMLab imports :mod:`mmpanoptic.registry` or
:mod:`mmpanoptic.utils`, which check the mmcv / mmengine versions and apply the
compatibility patches (:func:`mmpanoptic.compat.apply_compat_patches`).
"""
from .version import __version__

__all__ = ['__version__']
