"""Dataset converters: each public dataset's own annotations -> the COCO
panoptic files :class:`~mmpanoptic.datasets.CocoPanopticDataset` and
:class:`~mmpanoptic.datasets.VideoPanopticDataset` read.  One module per
dataset; files are read and written through :mod:`mmpanoptic.fileio`.  The
CLIs are in ``tools/dataset_converters/``.

- :mod:`.semantic`: your own data (semantic map + instances), and panoptic ->
  semantic label maps;
- :mod:`.cityscapes`, :mod:`.ade20k`, :mod:`.mapillary`: image datasets;
- :mod:`.video`: STEP (KITTI-STEP, MOTChallenge-STEP), Cityscapes-VPS, VIPSeg;
- :mod:`.compare`: a conversion against a released panoptic set.
"""
from .ade20k import (
                     ADE20K_INSTANCE_TO_SCENEPARSE,
                     ade20k_categories,
                     ade20k_panoptic_image,
                     ade20k_to_coco_panoptic,
                     read_ade20k_category_mapping,
)
from .cityscapes import (
                     CITYSCAPES_CLASSES,
                     CITYSCAPES_LABEL_IDS,
                     cityscapes_panoptic_image,
                     cityscapes_to_coco_panoptic,
)
from .compare import compare_panoptic
from .mapillary import (
                     mapillary_categories,
                     mapillary_panoptic_image,
                     mapillary_to_coco_panoptic,
                     read_mapillary_config,
)
from .semantic import (
                     convert_semantic_instances,
                     panoptic_to_semantic,
                     semantic_instances_to_panoptic,
)
from .video import (
                     check_track_ids,
                     cityscapes_vps_to_coco_video,
                     step_to_coco_video,
                     vipseg_to_coco_video,
)

__all__ = [
    'ADE20K_INSTANCE_TO_SCENEPARSE', 'ade20k_categories', 'ade20k_panoptic_image',
    'ade20k_to_coco_panoptic', 'read_ade20k_category_mapping', 'CITYSCAPES_CLASSES',
    'CITYSCAPES_LABEL_IDS', 'cityscapes_panoptic_image', 'cityscapes_to_coco_panoptic',
    'compare_panoptic', 'mapillary_categories', 'mapillary_panoptic_image',
    'mapillary_to_coco_panoptic', 'read_mapillary_config', 'convert_semantic_instances',
    'panoptic_to_semantic', 'semantic_instances_to_panoptic', 'check_track_ids',
    'cityscapes_vps_to_coco_video', 'step_to_coco_video', 'vipseg_to_coco_video'
]
