"""Cityscapes ``gtFine`` -> COCO panoptic, by cityscapesscripts'
``createPanopticImgs`` convention (tested against it segment by segment).

CLI: ``tools/dataset_converters/cityscapes_to_coco_panoptic.py``.
"""
import glob
import os.path as osp
from typing import Dict, Optional

import numpy as np

from mmpanoptic.fileio import ConversionError, read_label_png, write_panoptic_png
from mmpanoptic.structures import mask_bbox

from .common import with_progress, write_panoptic_set

# The 19 evaluated Cityscapes classes (cityscapesscripts' labels.py): label id,
# name, train id, has instances, color.  The other label ids of that table
# (0..33: unlabeled, ego vehicle, ..., caravan, trailer) are not evaluated and
# VOID; a value whose label id is not in the table is an error (as in
# cityscapesscripts, whose id2label lookup fails), unless asked to be VOID.
CITYSCAPES_CLASSES = (
    (7, 'road', 0, False, (128, 64, 128)), (8, 'sidewalk', 1, False, (244, 35, 232)),
    (11, 'building', 2, False, (70, 70, 70)), (12, 'wall', 3, False, (102, 102, 156)),
    (13, 'fence', 4, False, (190, 153, 153)), (17, 'pole', 5, False, (153, 153, 153)),
    (19, 'traffic light', 6, False, (250, 170, 30)),
    (20, 'traffic sign', 7, False, (220, 220, 0)),
    (21, 'vegetation', 8, False, (107, 142, 35)), (22, 'terrain', 9, False, (152, 251, 152)),
    (23, 'sky', 10, False, (70, 130, 180)), (24, 'person', 11, True, (220, 20, 60)),
    (25, 'rider', 12, True, (255, 0, 0)), (26, 'car', 13, True, (0, 0, 142)),
    (27, 'truck', 14, True, (0, 0, 70)), (28, 'bus', 15, True, (0, 60, 100)),
    (31, 'train', 16, True, (0, 80, 100)), (32, 'motorcycle', 17, True, (0, 0, 230)),
    (33, 'bicycle', 18, True, (119, 11, 32)))


CITYSCAPES_LABEL_IDS = range(34)  # every label id of labels.py but license plate (-1)


def cityscapes_panoptic_image(instance_ids: np.ndarray, *, use_train_id: bool = False,
                              unknown_as_void: bool = False, image: str = 'image',
                              report: Optional[Dict[str, int]] = None):
    """One ``*_gtFine_instanceIds.png`` to COCO panoptic, by cityscapesscripts'
    ``createPanopticImgs`` convention: a value >= 1000 is ``label_id * 1000 +
    instance``; a smaller value is a label id (a crowd region for classes with
    instances); the segment id is the value itself; classes not evaluated
    (including caravan / trailer) are VOID.  A label id outside Cityscapes'
    table raises :class:`ConversionError` naming ``image`` and the value; with
    ``unknown_as_void`` its pixels are VOID and counted in
    ``report['unknown_void_pixels']``.

    Returns ``(ids (H, W) int64, segments_info)``.
    """
    table = {c[0]: c for c in CITYSCAPES_CLASSES}
    ids = np.zeros(instance_ids.shape, np.int64)
    segments = []
    for value in np.unique(instance_ids).tolist():
        label_id, crowd = (value // 1000, 0) if value >= 1000 else (value, 1)
        info = table.get(label_id)
        if info is None:
            if label_id not in CITYSCAPES_LABEL_IDS:
                if not unknown_as_void:
                    raise ConversionError(
                        f'{image}: value {value} has label id {label_id}, which is not a '
                        'Cityscapes label id (0..33 in cityscapesscripts\' labels.py); '
                        'pass unknown_as_void=True (--unknown-as-void) to make it VOID')
                if report is not None:
                    report['unknown_void_pixels'] = report.get('unknown_void_pixels', 0) + \
                        int((instance_ids == value).sum())
            continue
        if not info[3]:
            crowd = 0
        mask = instance_ids == value
        ids[mask] = value
        segments.append(dict(id=int(value), category_id=int(info[2] if use_train_id else
                                                             info[0]),
                             area=int(mask.sum()), bbox=mask_bbox(mask), iscrowd=crowd))
    return ids, segments


def cityscapes_to_coco_panoptic(gtfine_dir: str, split: str, out_json: str, out_png_dir: str,
                                *, use_train_id: bool = False, unknown_as_void: bool = False,
                                report: Optional[Dict[str, int]] = None,
                                progress: bool = True) -> int:
    """``gtFine/<split>/<city>/*_gtFine_instanceIds.png`` -> ``out_json`` and
    ``out_png_dir/<stem>_gtFine_panoptic.png`` in the layout
    :class:`CityscapesPanopticDataset` reads (image file names
    ``<stem>_leftImg8bit.png``).  Returns the number of images; ``report``
    (a dict) receives the VOID pixel count of unknown label ids
    (``unknown_as_void``).  Tested against cityscapesscripts'
    ``createPanopticImgs`` segment by segment."""
    files = sorted(glob.glob(osp.join(gtfine_dir, split, '*', '*_gtFine_instanceIds.png')))
    if not files:
        raise ConversionError(f'{osp.join(gtfine_dir, split)}: no */*_gtFine_instanceIds.png '
                              '(the gtFine release layout)')
    images, annotations = [], []
    for path in with_progress(files, progress):
        stem = osp.basename(path)[:-len('_gtFine_instanceIds.png')]
        inst = read_label_png(path, 'instance id')
        ids, segments = cityscapes_panoptic_image(inst, use_train_id=use_train_id,
                                                  unknown_as_void=unknown_as_void,
                                                  image=path, report=report)
        png = f'{stem}_gtFine_panoptic.png'
        write_panoptic_png(osp.join(out_png_dir, png), ids)
        images.append(dict(id=stem, file_name=f'{stem}_leftImg8bit.png',
                           height=int(ids.shape[0]), width=int(ids.shape[1])))
        annotations.append(dict(image_id=stem, file_name=png, segments_info=segments))
    categories = [dict(id=int(c[2] if use_train_id else c[0]), name=c[1], color=list(c[4]),
                       isthing=int(c[3])) for c in CITYSCAPES_CLASSES]
    write_panoptic_set(out_json, images, annotations, categories)
    return len(files)
