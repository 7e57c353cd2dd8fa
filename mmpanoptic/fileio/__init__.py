"""File formats, at the bottom of the package beside :mod:`mmpanoptic.structures`:
panoptic PNGs (:mod:`.png`), COCO panoptic JSON and category lists
(:mod:`.panoptic_json`), the video layouts (:mod:`.video_layouts`: STEP,
Cityscapes-VPS, VIPSeg) and the one error hierarchy (:mod:`.errors`).

:mod:`mmpanoptic.datasets` and :mod:`mmpanoptic.evaluation` both read and
write files through this package and never import each other.  numpy, OpenCV
and pyspng only (no torch, no OpenMMLab).
"""
from .errors import (
                     CheckpointConversionError,
                     ConversionError,
                     PanopticAnnotationError,
                     PanopticError,
                     PanopticEvalError,
                     PanopticFileError,
)
from .panoptic_json import check_category, load_categories, parse_categories, read_json, write_json
from .png import (
                     ID_MASK,
                     decode_panoptic_png,
                     decode_png_rgb,
                     png_decoder,
                     read_label_png,
                     read_panoptic_png,
                     read_png_rgb,
                     read_png_words,
                     write_label_png,
                     write_panoptic_png,
                     write_rgb_png,
)
from .video_layouts import (
                     SHIFT,
                     VOID_LABEL,
                     Frame,
                     load_step_dir,
                     load_vps_dir,
                     read_step_frame,
                     read_vipseg_json,
                     read_vps_frame,
                     read_vps_json,
                     stq_labels,
                     vps_video_of,
                     write_step_frame,
)

__all__ = [
    'PanopticError', 'PanopticFileError', 'PanopticAnnotationError', 'PanopticEvalError',
    'ConversionError', 'CheckpointConversionError', 'read_json', 'write_json',
    'check_category', 'parse_categories', 'load_categories', 'ID_MASK', 'png_decoder',
    'decode_png_rgb', 'read_png_rgb', 'decode_panoptic_png', 'read_panoptic_png',
    'read_png_words', 'read_label_png', 'write_panoptic_png', 'write_rgb_png',
    'write_label_png', 'VOID_LABEL', 'SHIFT', 'Frame', 'read_step_frame', 'write_step_frame',
    'load_step_dir', 'read_vps_json', 'vps_video_of', 'load_vps_dir', 'stq_labels',
    'read_vps_frame', 'read_vipseg_json'
]
