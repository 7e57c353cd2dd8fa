"""Evaluation of prediction files on disk (what the CLIs in
``tools/analysis_tools/`` run), beside :mod:`..functional` (the maths) and
:mod:`..metrics` (the runner's metrics on in-memory predictions).

- :mod:`.pq_eval`: PQ of a COCO-panoptic JSON + PNG folder against the
  ground truth (panopticapi's rules and numbers).
- :mod:`.video_eval`: VPQ and STQ of per-frame PNGs in the KITTI-STEP or
  Cityscapes-VPS layout.

Both read their files through :mod:`mmpanoptic.fileio` (numpy and OpenCV
only): the CLIs start without torch.
"""
