"""Bring your own data: a semantic label map + instance masks -> COCO
panoptic, and COCO panoptic -> semantic label maps (for mmseg).

:func:`semantic_instances_to_panoptic` builds one image's COCO-panoptic id map
and ``segments_info`` from a semantic label map and its instances, and
:func:`convert_semantic_instances` a whole folder; the CLIs are
``tools/dataset_converters/semantic_to_coco_panoptic.py`` and
``panoptic_to_semantic.py``.  Problems raise :class:`ConversionError` naming
the image and the instance; pixels that cannot be given a segment
(thing-class pixels outside every instance) become VOID and are counted in
the returned report, never dropped silently.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmpanoptic.fileio import (
    ID_MASK,
    ConversionError,
    read_json,
    read_label_png,
    read_png_words,
    write_label_png,
    write_panoptic_png,
)
from mmpanoptic.structures import mask_bbox

from .common import with_progress, write_panoptic_set


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
            mask = read_label_png(f, 'instance mask') > 0
            out.append((mask, osp.basename(f).endswith('_crowd.png')))
        return out
    if osp.isfile(instances_path):
        inst = read_label_png(instances_path, 'instance id')
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
    images, annotations = [], []
    report = dict(images=0, segments=0, void_thing_pixels=0, images_with_void_things=[])
    for k, path in enumerate(with_progress(files, progress)):
        stem = osp.splitext(osp.basename(path))[0]
        semantic = read_label_png(path, 'semantic')
        inst = []
        for cand in ([osp.join(instances_dir, stem + '.png'), osp.join(instances_dir, stem)]
                     if instances_dir else []):
            if osp.exists(cand):  # an instance-id PNG, or a folder of binary masks
                inst = _instances_of(cand, semantic.shape, stem)
                break
        ids, segments, void = semantic_instances_to_panoptic(
            semantic, inst, categories, ignore_label=ignore_label, image=path)
        write_panoptic_png(osp.join(out_png_dir, stem + '.png'), ids)
        images.append(dict(id=k + 1, file_name=stem + image_ext, height=int(ids.shape[0]),
                           width=int(ids.shape[1])))
        annotations.append(dict(image_id=k + 1, file_name=stem + '.png', segments_info=segments))
        report['images'] += 1
        report['segments'] += len(segments)
        if void:
            report['void_thing_pixels'] += void
            report['images_with_void_things'].append(stem)
    cats = [dict(id=int(c['id']), name=c['name'], isthing=int(bool(c.get('isthing'))),
                 **({'color': c['color']} if 'color' in c else {})) for c in categories]
    write_panoptic_set(out_json, images, annotations, cats)
    return report


def panoptic_to_semantic(ann_json: str, png_dir: str, out_dir: str, *,
                         ignore_label: int = 255, progress: bool = True) -> List[str]:
    """COCO panoptic -> one label PNG per image (mmseg's format): label =
    the category's index in the JSON's ``categories`` (crowd regions keep
    their class), VOID = ``ignore_label``.  Returns the class names in label
    order (for the mmseg config's ``classes``)."""
    data = read_json(ann_json, 'panoptic JSON')
    label_of = {c['id']: i for i, c in enumerate(data['categories'])}
    if len(label_of) >= ignore_label:
        raise ConversionError(f'{ann_json}: {len(label_of)} categories do not fit below the '
                              f'ignore label {ignore_label}')
    for ann in with_progress(data['annotations'], progress):
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
        write_label_png(osp.join(out_dir, osp.splitext(ann['file_name'])[0] + '.png'), labels)
    return [c['name'] for c in data['categories']]
