"""Bring your own data: semantic map + instance masks -> COCO panoptic, and
COCO panoptic -> semantic label maps (for mmseg).

:func:`semantic_instances_to_panoptic` builds one image's COCO-panoptic id map
and ``segments_info`` from a semantic label map and its instances, and
:func:`convert_semantic_instances` a whole folder; the CLIs are in
``tools/dataset_converters/``.  Problems raise :class:`ConversionError`
naming the image and the instance; pixels that cannot be given a segment
(thing-class pixels outside every instance) become VOID and are counted in
the returned report, never dropped silently.
"""
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmpanoptic.structures import id2rgb, mask_bbox


class ConversionError(ValueError):
    """Bad input to a converter; the message names the file and instance."""


def _read_gray(path: str, what: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ConversionError(f'{path}: cannot read the {what} PNG')
    if img.ndim == 3:
        raise ConversionError(f'{path}: the {what} PNG has {img.shape[2]} channels; expected '
                              'one (a label per pixel)')
    return img.astype(np.int64)


def semantic_instances_to_panoptic(semantic: np.ndarray, instances: Sequence[Tuple],
                                   categories: Sequence[Dict], *, ignore_label: int = 255,
                                   image: str = 'image'):
    """One image to COCO panoptic.

    Args:
        semantic: (H, W) semantic labels: ``categories[i]['label']`` (or the
            index ``i`` when no category has ``label``); ``ignore_label`` = VOID.
        instances: ``(mask (H, W) bool, iscrowd)`` per object; masks must not
            overlap.  An instance's class is the thing class most of its
            pixels have in ``semantic``.
        categories: COCO categories (``id``, ``name``, ``isthing``, optional
            ``label``).

    Returns:
        ``(ids (H, W) int64, segments_info, void_thing_pixels)``: segments
        numbered 1..N (things first), COCO ``area`` and ``bbox``;
        ``void_thing_pixels`` counts thing-class pixels outside every instance
        (left VOID, as COCO has no thing pixels without an instance).
    """
    h, w = semantic.shape
    by_label = {int(c.get('label', i)): c for i, c in enumerate(categories)}
    unknown = sorted(set(np.unique(semantic).tolist()) - set(by_label) - {ignore_label})
    if unknown:
        raise ConversionError(f'{image}: semantic labels {unknown[:10]} are not in the '
                              f'categories (labels {sorted(by_label)[:10]}...) nor the '
                              f'ignore label {ignore_label}')
    ids = np.zeros((h, w), np.int64)
    owner = np.full((h, w), -1, np.int64)
    segments: List[Dict] = []
    for k, (mask, crowd) in enumerate(instances):
        mask = np.asarray(mask, bool)
        if mask.shape != (h, w):
            raise ConversionError(f'{image}: instance {k} is {mask.shape[1]}x{mask.shape[0]}, '
                                  f'the semantic map {w}x{h}')
        overlap = mask & (owner >= 0)
        if overlap.any():
            other = np.bincount(owner[overlap]).argmax()
            raise ConversionError(f'{image}: instance {k} overlaps instance {other} on '
                                  f'{int(overlap.sum())} pixels; COCO panoptic needs '
                                  'non-overlapping segments')
        if not mask.any():
            raise ConversionError(f'{image}: instance {k} has an empty mask')
        labels = semantic[mask]
        labels = labels[labels != ignore_label]
        thing_labels = [v for v in labels.tolist() if by_label[v].get('isthing')]
        if not thing_labels:
            raise ConversionError(f'{image}: instance {k} ({int(mask.sum())} pixels) lies on no '
                                  'thing class in the semantic map; cannot tell its class')
        values, counts = np.unique(thing_labels, return_counts=True)
        cat = by_label[int(values[counts.argmax()])]
        owner[mask] = k
        sid = len(segments) + 1
        ids[mask] = sid
        segments.append(dict(id=sid, category_id=int(cat['id']), iscrowd=int(bool(crowd)),
                             area=int(mask.sum()), bbox=mask_bbox(mask)))
    free = owner < 0
    void_things = 0
    for label in np.unique(semantic[free]).tolist():
        if label == ignore_label:
            continue
        cat = by_label[label]
        region = free & (semantic == label)
        if cat.get('isthing'):
            void_things += int(region.sum())
            continue
        sid = len(segments) + 1
        ids[region] = sid
        segments.append(dict(id=sid, category_id=int(cat['id']), iscrowd=0,
                             area=int(region.sum()), bbox=mask_bbox(region)))
    return ids, segments, void_things


def _instances_of(instances_path: str, shape, image: str):
    """Instances from an instance-id PNG (0 = none) or a folder of binary
    masks (``*_crowd.png`` = crowd)."""
    if osp.isdir(instances_path):
        out = []
        for f in sorted(glob.glob(osp.join(instances_path, '*.png'))):
            mask = _read_gray(f, 'instance mask') > 0
            out.append((mask, osp.basename(f).endswith('_crowd.png')))
        return out
    if osp.isfile(instances_path):
        inst = _read_gray(instances_path, 'instance id')
        if inst.shape != tuple(shape):
            raise ConversionError(f'{instances_path}: {inst.shape[1]}x{inst.shape[0]}, the '
                                  f'semantic map of {image} is {shape[1]}x{shape[0]}')
        return [(inst == v, False) for v in np.unique(inst).tolist() if v != 0]
    return []


def convert_semantic_instances(semantic_dir: str, instances_dir: Optional[str],
                               categories: Sequence[Dict], out_json: str, out_png_dir: str, *,
                               ignore_label: int = 255, image_ext: str = '.jpg',
                               progress: bool = True) -> Dict:
    """Every ``<stem>.png`` of ``semantic_dir`` (+ ``instances_dir/<stem>.png``
    or ``instances_dir/<stem>/``) to ``out_json`` + RGB-id PNGs in
    ``out_png_dir``.  Returns a report: images, segments, VOID thing pixels."""
    files = sorted(glob.glob(osp.join(semantic_dir, '*.png')))
    if not files:
        raise ConversionError(f'{semantic_dir}: no semantic .png files')
    os.makedirs(out_png_dir, exist_ok=True)
    images, annotations = [], []
    report = dict(images=0, segments=0, void_thing_pixels=0, images_with_void_things=[])
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(files), unit='image')
    for k, path in enumerate(files):
        stem = osp.splitext(osp.basename(path))[0]
        semantic = _read_gray(path, 'semantic')
        inst = []
        for cand in ([osp.join(instances_dir, stem + '.png'), osp.join(instances_dir, stem)]
                     if instances_dir else []):
            if osp.exists(cand):  # an instance-id PNG, or a folder of binary masks
                inst = _instances_of(cand, semantic.shape, stem)
                break
        ids, segments, void = semantic_instances_to_panoptic(
            semantic, inst, categories, ignore_label=ignore_label, image=path)
        cv2.imwrite(osp.join(out_png_dir, stem + '.png'), id2rgb(ids)[..., ::-1])
        images.append(dict(id=k + 1, file_name=stem + image_ext, height=int(ids.shape[0]),
                           width=int(ids.shape[1])))
        annotations.append(dict(image_id=k + 1, file_name=stem + '.png', segments_info=segments))
        report['images'] += 1
        report['segments'] += len(segments)
        if void:
            report['void_thing_pixels'] += void
            report['images_with_void_things'].append(stem)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    cats = [dict(id=int(c['id']), name=c['name'], isthing=int(bool(c.get('isthing'))),
                 **({'color': c['color']} if 'color' in c else {})) for c in categories]
    os.makedirs(osp.dirname(osp.abspath(out_json)), exist_ok=True)
    with open(out_json, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=cats), f)
    return report


def panoptic_to_semantic(ann_json: str, png_dir: str, out_dir: str, *,
                         ignore_label: int = 255, progress: bool = True) -> List[str]:
    """COCO panoptic -> one label PNG per image (mmseg's format): label =
    the category's index in the JSON's ``categories`` (crowd regions keep
    their class), VOID = ``ignore_label``.  Returns the class names in label
    order (for the mmseg config's ``classes``)."""
    from mmpanoptic.evaluation.files.coco_panoptic import ID_MASK, read_png_words
    with open(ann_json) as f:
        data = json.load(f)
    label_of = {c['id']: i for i, c in enumerate(data['categories'])}
    if len(label_of) >= ignore_label:
        raise ConversionError(f'{ann_json}: {len(label_of)} categories do not fit below the '
                              f'ignore label {ignore_label}')
    os.makedirs(out_dir, exist_ok=True)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(data['annotations']), unit='image')
    for ann in data['annotations']:
        where = f'image {ann["image_id"]} ({ann["file_name"]})'
        ids = read_png_words(osp.join(png_dir, ann['file_name']), where) & ID_MASK
        lut_ids = np.array([0] + [s['id'] for s in ann['segments_info']], np.int64)
        lut_labels = np.array([ignore_label] + [label_of[s['category_id']]
                                                for s in ann['segments_info']], np.uint8)
        order = np.argsort(lut_ids)
        pos = np.searchsorted(lut_ids[order], ids)
        pos = np.minimum(pos, len(order) - 1)
        found = lut_ids[order][pos] == ids
        if not found.all():
            bad = int(ids[~found][0])
            raise ConversionError(f'{where}: segment {bad} is in the PNG but not in '
                                  'segments_info')
        labels = lut_labels[order][pos]
        cv2.imwrite(osp.join(out_dir, osp.splitext(ann['file_name'])[0] + '.png'), labels)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return [c['name'] for c in data['categories']]


# The 19 evaluated Cityscapes classes (cityscapesscripts' labels.py): label id,
# name, train id, has instances, color.  Every other label id is VOID.
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


def cityscapes_panoptic_image(instance_ids: np.ndarray, *, use_train_id: bool = False):
    """One ``*_gtFine_instanceIds.png`` to COCO panoptic, by cityscapesscripts'
    ``createPanopticImgs`` convention: a value >= 1000 is ``label_id * 1000 +
    instance``; a smaller value is a label id (a crowd region for classes with
    instances); the segment id is the value itself; classes not evaluated
    (including caravan / trailer) are VOID.

    Returns ``(ids (H, W) int64, segments_info)``.
    """
    table = {c[0]: c for c in CITYSCAPES_CLASSES}
    ids = np.zeros(instance_ids.shape, np.int64)
    segments = []
    for value in np.unique(instance_ids).tolist():
        label_id, crowd = (value // 1000, 0) if value >= 1000 else (value, 1)
        info = table.get(label_id)
        if info is None:
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
                                *, use_train_id: bool = False, progress: bool = True) -> int:
    """``gtFine/<split>/<city>/*_gtFine_instanceIds.png`` -> ``out_json`` and
    ``out_png_dir/<stem>_gtFine_panoptic.png`` in the layout
    :class:`CityscapesPanopticDataset` reads (image file names
    ``<stem>_leftImg8bit.png``).  Returns the number of images."""
    files = sorted(glob.glob(osp.join(gtfine_dir, split, '*', '*_gtFine_instanceIds.png')))
    if not files:
        raise ConversionError(f'{osp.join(gtfine_dir, split)}: no */*_gtFine_instanceIds.png '
                              '(the gtFine release layout)')
    os.makedirs(out_png_dir, exist_ok=True)
    images, annotations = [], []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(files), unit='image')
    for path in files:
        stem = osp.basename(path)[:-len('_gtFine_instanceIds.png')]
        inst = _read_gray(path, 'instance id')
        ids, segments = cityscapes_panoptic_image(inst, use_train_id=use_train_id)
        png = f'{stem}_gtFine_panoptic.png'
        cv2.imwrite(osp.join(out_png_dir, png), id2rgb(ids)[..., ::-1])
        images.append(dict(id=stem, file_name=f'{stem}_leftImg8bit.png',
                           height=int(ids.shape[0]), width=int(ids.shape[1])))
        annotations.append(dict(image_id=stem, file_name=png, segments_info=segments))
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    categories = [dict(id=int(c[2] if use_train_id else c[0]), name=c[1], color=list(c[4]),
                       isthing=int(c[3])) for c in CITYSCAPES_CLASSES]
    os.makedirs(osp.dirname(osp.abspath(out_json)), exist_ok=True)
    with open(out_json, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return len(files)
