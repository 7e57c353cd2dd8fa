"""Mapillary Vistas instance PNGs + the release's label config -> COCO
panoptic (checked against the release's own panoptic set with
:func:`mmpanoptic.datasets.converters.compare.compare_panoptic`).

CLI: ``tools/dataset_converters/mapillary_to_coco_panoptic.py``.
"""
import glob
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from mmpanoptic.fileio import (
    ConversionError,
    PanopticFileError,
    read_json,
    read_label_png,
    write_panoptic_png,
)
from mmpanoptic.structures import segment_pixels

from .common import with_progress, write_panoptic_set


def read_mapillary_config(path: str) -> List[Dict]:
    """Mapillary Vistas ``config_v1.2.json`` / ``config_v2.0.json``: the
    ``labels`` list (``name``, ``readable``, ``color``, ``instances``,
    ``evaluate``); a label's index is its value in the label / instance PNGs."""
    try:
        labels = read_json(path, 'Mapillary Vistas config')['labels']
    except (PanopticFileError, KeyError, TypeError) as e:
        raise ConversionError(f'{path}: not a Mapillary Vistas config (a "labels" list): '
                              f'{e}') from None
    for k, label in enumerate(labels):
        missing = [key for key in ('name', 'instances', 'evaluate') if key not in label]
        if missing:
            raise ConversionError(f'{path}: label {k} lacks {missing}')
    return labels


def mapillary_categories(labels: Sequence[Dict], keep_unevaluated: bool = False) -> List[Dict]:
    """COCO panoptic categories of a Mapillary config: ``id`` = label index
    + 1 (the release's panoptic JSON numbering), ``isthing`` = the label has
    instances; labels with ``evaluate: false`` (e.g. "unlabeled") are VOID
    unless ``keep_unevaluated``."""
    return [dict(id=k + 1, name=label.get('readable', label['name']),
                 supercategory=label['name'].rsplit('--', 1)[0],
                 isthing=int(bool(label['instances'])), color=list(label.get('color', [0] * 3)))
            for k, label in enumerate(labels) if keep_unevaluated or label['evaluate']]


def mapillary_panoptic_image(instance_png: np.ndarray, labels: Sequence[Dict], *,
                             keep_unevaluated: bool = False, image: str = 'image'):
    """One Mapillary ``instances`` PNG (16 bit: label index * 256 + instance
    number) to COCO panoptic: every (label, instance) value of a label with
    instances is a thing segment, every other label one stuff segment;
    unevaluated labels are VOID (unless ``keep_unevaluated``).

    Returns ``(ids (H, W) int64, segments_info)``; category id = label + 1.
    """
    if instance_png.ndim != 2:
        raise ConversionError(f'{image}: the instance PNG must be one 16-bit channel '
                              f'(label * 256 + instance), got shape {instance_png.shape}')
    values, inverse = np.unique(instance_png, return_inverse=True)
    inverse = inverse.reshape(instance_png.shape)
    seg_of_value = np.zeros(len(values), np.int64)
    segments: List[Dict] = []
    stuff_seg: Dict[int, int] = {}
    for k, value in enumerate(values.tolist()):
        label = value // 256
        if label >= len(labels):
            raise ConversionError(f'{image}: pixel value {value} is label {label}; the config '
                                  f'has {len(labels)} labels')
        info = labels[label]
        if not (info['evaluate'] or keep_unevaluated):
            continue
        if not info['instances'] and label in stuff_seg:
            seg_of_value[k] = stuff_seg[label]
            continue
        sid = len(segments) + 1
        seg_of_value[k] = sid
        if not info['instances']:
            stuff_seg[label] = sid
        segments.append(dict(id=sid, category_id=label + 1, iscrowd=0))
    ids = seg_of_value[inverse]
    pixels = segment_pixels(ids)
    for seg in segments:
        seg['area'], seg['bbox'] = pixels[seg['id']]
    return ids, segments


def mapillary_to_coco_panoptic(root: str, split: str, version: str, out_json: str,
                               out_png_dir: str, *, keep_unevaluated: bool = False,
                               progress: bool = True) -> Dict:
    """Mapillary Vistas ``instances`` PNGs -> COCO panoptic.

    Layouts: the research edition (``<split>/<version>/instances/*.png``,
    ``config_<version>.json`` at ``root``) or the standalone v1.x release
    (``<split>/instances/*.png``, ``config.json``); images in
    ``<split>/images/*.jpg``.  Image ids are the file stems (the release's
    own ids).  Returns a report (images, segments, categories)."""
    inst_dir = osp.join(root, split, version, 'instances')
    if not osp.isdir(inst_dir):
        inst_dir = osp.join(root, split, 'instances')
    config = next((p for p in (osp.join(root, f'config_{version}.json'),
                               osp.join(root, 'config.json')) if osp.isfile(p)), None)
    if config is None:
        raise ConversionError(f'{root}: no config_{version}.json nor config.json (the label '
                              'list of the release)')
    files = sorted(glob.glob(osp.join(inst_dir, '*.png')))
    if not files:
        raise ConversionError(f'{osp.join(root, split, version, "instances")}: no .png '
                              'instance annotations (nor in <split>/instances)')
    labels = read_mapillary_config(config)
    images, annotations = [], []
    n_segments = 0
    for path in with_progress(files, progress):
        stem = osp.splitext(osp.basename(path))[0]
        png = read_label_png(path, 'the instance PNG')
        ids, segments = mapillary_panoptic_image(png, labels,
                                                 keep_unevaluated=keep_unevaluated, image=path)
        write_panoptic_png(osp.join(out_png_dir, stem + '.png'), ids)
        images.append(dict(id=stem, file_name=stem + '.jpg', height=int(ids.shape[0]),
                           width=int(ids.shape[1])))
        annotations.append(dict(image_id=stem, file_name=stem + '.png', segments_info=segments))
        n_segments += len(segments)
    categories = mapillary_categories(labels, keep_unevaluated)
    write_panoptic_set(out_json, images, annotations, categories)
    return dict(images=len(images), segments=n_segments, categories=len(categories),
                things=sum(c['isthing'] for c in categories))
