"""Evaluation of prediction files on disk (what the CLIs in
``tools/analysis_tools/`` run), beside :mod:`..functional` (the maths) and
:mod:`..metrics` (the runner's metrics on in-memory predictions).

- :mod:`.coco_panoptic`: PQ of a COCO-panoptic JSON + PNG folder against the
  ground truth (panopticapi's rules and numbers).
- :mod:`.video`: VPQ and STQ of per-frame PNGs in the KITTI-STEP or
  Cityscapes-VPS layout (the STEP layout's readers live in
  ``mmpanoptic/datasets/video_formats.py``, shared with the converters).
"""
