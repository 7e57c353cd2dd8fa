"""Bring your own data: semantic map + instance masks -> COCO panoptic,
COCO panoptic -> semantic label maps (for mmseg), and the public datasets'
own annotations -> COCO panoptic (Cityscapes gtFine, ADE20K SceneParsing +
instances, Mapillary Vistas instance PNGs).

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

from .validation import segment_pixels


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
    os.makedirs(out_png_dir, exist_ok=True)
    images, annotations = [], []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(files), unit='image')
    for path in files:
        stem = osp.basename(path)[:-len('_gtFine_instanceIds.png')]
        inst = _read_gray(path, 'instance id')
        ids, segments = cityscapes_panoptic_image(inst, use_train_id=use_train_id,
                                                  unknown_as_void=unknown_as_void,
                                                  image=path, report=report)
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


# ADE20K instance annotations (``annotations_instance/*.png``): R = class in
# the 100-class instance list (1..100), G = instance id (0 = none).  Entry
# ``k - 1`` is the SceneParsing-150 label (1..150) of instance class ``k``:
# the ADE20K release's ``categoryMapping.txt`` (Mask2Former ships it as
# ``ade20k_instance_catid_mapping.txt``; its FullADE20K column is not needed).
ADE20K_INSTANCE_TO_SCENEPARSE = (
    8, 9, 11, 13, 15, 16, 19, 20, 21, 23, 24, 25, 28, 31, 32, 33, 34, 36, 37, 38,
    39, 40, 42, 43, 44, 45, 46, 48, 50, 51, 54, 56, 57, 58, 59, 63, 65, 66, 67, 68,
    70, 71, 72, 73, 74, 75, 76, 77, 79, 81, 82, 83, 84, 86, 87, 88, 89, 90, 91, 93,
    94, 96, 98, 99, 103, 104, 105, 108, 109, 111, 112, 113, 116, 117, 119, 120, 121, 122,
    124, 125, 126, 127, 128, 130, 131, 133, 134, 135, 136, 137, 138, 139, 140, 143, 144,
    145, 147, 148, 149, 150)


def read_ade20k_category_mapping(path: str) -> Dict[int, int]:
    """``categoryMapping.txt`` (header, then ``instance_id scene_parse_id
    full_ade_id`` rows; an instance id may repeat) -> {instance id: label}."""
    mapping: Dict[int, int] = {}
    with open(path) as f:
        rows = [line.split() for line in f.read().splitlines()[1:] if line.strip()]
    for n, row in enumerate(rows, start=2):
        try:
            ins, sem = int(row[0]), int(row[1])
        except (IndexError, ValueError):
            raise ConversionError(f'{path}:{n}: expected "instance_id scene_parse_id ...", '
                                  f'got {" ".join(row)!r}') from None
        if mapping.get(ins, sem) != sem:
            raise ConversionError(f'{path}:{n}: instance class {ins} maps to both '
                                  f'{mapping[ins]} and {sem}')
        mapping[ins] = sem
    return mapping


def ade20k_categories(mapping: Optional[Dict[int, int]] = None) -> List[Dict]:
    """The 150 SceneParsing classes as COCO panoptic categories: ``id`` =
    label - 1 (0..149, Mask2Former's panoptic JSON), names of the
    ``ade20k_150`` vocabulary, mmseg's ADE20K palette, ``isthing`` = the
    class is the target of an instance class (100 things, 50 stuff)."""
    from mmseg.datasets import ADE20KDataset

    from mmpanoptic.models.classifiers.vocabulary import VOCABULARY_DIR
    mapping = mapping or {k + 1: v for k, v in enumerate(ADE20K_INSTANCE_TO_SCENEPARSE)}
    things = set(mapping.values())
    with open(osp.join(VOCABULARY_DIR, 'ade20k_150.json')) as f:  # label order
        names = [c['name'] for c in json.load(f)['classes']]
    palette = ADE20KDataset.METAINFO['palette']
    return [dict(id=i, name=names[i], isthing=int(i + 1 in things), color=list(palette[i]))
            for i in range(150)]


def ade20k_panoptic_image(semantic: np.ndarray, instance: np.ndarray,
                          mapping: Dict[int, int], *, image: str = 'image'):
    """One ADE20K image to COCO panoptic, as Mask2Former's
    ``prepare_ade20k_pan_seg.py`` defines it: every stuff class of the
    SceneParsing map (labels 1..150, 0 = VOID) is one segment; every
    instance (G channel of the instance PNG) is a thing segment of class
    ``mapping[R]`` and is painted over the stuff (the two annotations
    overlap in places).  Thing-class pixels of the semantic map outside
    every instance stay VOID.

    Unlike that script, areas and boxes are those of the pixels that end up
    in the PNG (it counts a stuff segment's pixels before instances cover
    some of them), and a stuff class left with no pixel gets no segment.

    Args:
        semantic: (H, W) SceneParsing labels.
        instance: (H, W, 3) instance PNG in RGB order.
        mapping: instance class (R) -> SceneParsing label.

    Returns:
        ``(ids (H, W) int64, segments_info, void_thing_pixels)``; category
        ids are label - 1.
    """
    if instance.ndim != 3 or instance.shape[2] < 2:
        raise ConversionError(f'{image}: the instance PNG must be RGB (R = class, G = '
                              f'instance id), got shape {instance.shape}')
    if instance.shape[:2] != semantic.shape:
        raise ConversionError(f'{image}: instance PNG {instance.shape[1]}x{instance.shape[0]}, '
                              f'semantic map {semantic.shape[1]}x{semantic.shape[0]}')
    if semantic.max(initial=0) > 150:
        raise ConversionError(f'{image}: semantic label {int(semantic.max())} > 150 (the '
                              'SceneParsing map holds 0 = VOID and 1..150)')
    things = set(mapping.values())
    cls_map, ins_map = instance[..., 0].astype(np.int64), instance[..., 1].astype(np.int64)
    ids = np.zeros(semantic.shape, np.int64)
    segments: List[Dict] = []
    covered = ins_map > 0
    for inst_id in np.unique(ins_map[covered]).tolist():
        mask = ins_map == inst_id
        classes = np.unique(cls_map[mask]).tolist()
        if len(classes) != 1:
            raise ConversionError(f'{image}: instance {inst_id} has pixels of instance classes '
                                  f'{classes[:10]} (R channel); one class per instance expected')
        if classes[0] not in mapping:
            raise ConversionError(f'{image}: instance {inst_id} has instance class {classes[0]} '
                                  f'(R channel), not in the category mapping (1..100)')
        sid = len(segments) + 1
        ids[mask] = sid
        segments.append(dict(id=sid, category_id=int(mapping[classes[0]] - 1), iscrowd=0,
                             area=int(mask.sum()), bbox=mask_bbox(mask)))
    void_things = 0
    free = ~covered
    for label in np.unique(semantic[free]).tolist():
        if label == 0:
            continue
        region = free & (semantic == label)
        if label in things:
            void_things += int(region.sum())
            continue
        sid = len(segments) + 1
        ids[region] = sid
        segments.append(dict(id=sid, category_id=int(label - 1), iscrowd=0,
                             area=int(region.sum()), bbox=mask_bbox(region)))
    return ids, segments, void_things


def ade20k_to_coco_panoptic(root: str, split: str, out_json: str, out_png_dir: str, *,
                            mapping: Optional[Dict[int, int]] = None,
                            progress: bool = True) -> Dict:
    """``ADEChallengeData2016`` (``images/<dir>/*.jpg``, ``annotations/<dir>/
    *.png``, ``annotations_instance/<dir>/*.png``; ``<dir>`` = ``training``
    for ``split='train'``, ``validation`` for ``'val'``) -> ``out_json`` and
    RGB-id PNGs in ``out_png_dir``, the layout :class:`ADE20KPanopticDataset`
    reads.  Image ids are the file stems.  Returns a report (images,
    segments, VOID thing pixels)."""
    sub = {'train': 'training', 'val': 'validation'}.get(split, split)
    mapping = mapping or {k + 1: v for k, v in enumerate(ADE20K_INSTANCE_TO_SCENEPARSE)}
    image_files = sorted(glob.glob(osp.join(root, 'images', sub, '*.jpg')))
    if not image_files:
        raise ConversionError(f'{osp.join(root, "images", sub)}: no .jpg images (expected the '
                              'ADEChallengeData2016 layout)')
    os.makedirs(out_png_dir, exist_ok=True)
    images, annotations = [], []
    report = dict(images=0, segments=0, void_thing_pixels=0)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(image_files), unit='image')
    for path in image_files:
        stem = osp.splitext(osp.basename(path))[0]
        sem_path = osp.join(root, 'annotations', sub, stem + '.png')
        ins_path = osp.join(root, 'annotations_instance', sub, stem + '.png')
        for p, what in ((sem_path, 'SceneParsing annotation'), (ins_path, 'instance PNG')):
            if not osp.isfile(p):
                raise ConversionError(f'{p}: missing, the {what} of {path}')
        semantic = _read_gray(sem_path, 'SceneParsing')
        instance = cv2.imread(ins_path, cv2.IMREAD_COLOR)
        if instance is None:
            raise ConversionError(f'{ins_path}: cannot read the instance PNG')
        ids, segments, void = ade20k_panoptic_image(semantic, instance[..., ::-1], mapping,
                                                    image=ins_path)
        cv2.imwrite(osp.join(out_png_dir, stem + '.png'), id2rgb(ids)[..., ::-1])
        images.append(dict(id=stem, file_name=osp.basename(path), height=int(ids.shape[0]),
                           width=int(ids.shape[1])))
        annotations.append(dict(image_id=stem, file_name=stem + '.png', segments_info=segments))
        report['images'] += 1
        report['segments'] += len(segments)
        report['void_thing_pixels'] += void
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    os.makedirs(osp.dirname(osp.abspath(out_json)), exist_ok=True)
    with open(out_json, 'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=ade20k_categories(mapping)), f)
    return report


def read_mapillary_config(path: str) -> List[Dict]:
    """Mapillary Vistas ``config_v1.2.json`` / ``config_v2.0.json``: the
    ``labels`` list (``name``, ``readable``, ``color``, ``instances``,
    ``evaluate``); a label's index is its value in the label / instance PNGs."""
    try:
        with open(path) as f:
            labels = json.load(f)['labels']
    except (OSError, ValueError, KeyError, TypeError) as e:
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
    os.makedirs(out_png_dir, exist_ok=True)
    images, annotations = [], []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(files), unit='image')
    n_segments = 0
    for path in files:
        stem = osp.splitext(osp.basename(path))[0]
        png = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if png is None:
            raise ConversionError(f'{path}: cannot read the instance PNG')
        ids, segments = mapillary_panoptic_image(png.astype(np.int64), labels,
                                                 keep_unevaluated=keep_unevaluated, image=path)
        cv2.imwrite(osp.join(out_png_dir, stem + '.png'), id2rgb(ids)[..., ::-1])
        images.append(dict(id=stem, file_name=stem + '.jpg', height=int(ids.shape[0]),
                           width=int(ids.shape[1])))
        annotations.append(dict(image_id=stem, file_name=stem + '.png', segments_info=segments))
        n_segments += len(segments)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    categories = mapillary_categories(labels, keep_unevaluated)
    os.makedirs(osp.dirname(osp.abspath(out_json)), exist_ok=True)
    with open(out_json, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return dict(images=len(images), segments=n_segments, categories=len(categories),
                things=sum(c['isthing'] for c in categories))


def compare_panoptic(ours_json: str, ours_dir: str, ref_json: str, ref_dir: str,
                     limit: Optional[int] = None) -> List[str]:
    """Differences between two COCO panoptic sets of the same images (our
    conversion vs a released panoptic set): per image, segments matched by
    their pixels must have the same category, area and crowd flag; each
    difference is one line naming the image and the segments."""
    from mmpanoptic.structures import rgb2id

    def load(path):
        with open(path) as f:
            data = json.load(f)
        return data, {a['image_id']: a for a in data['annotations']}

    ours, ours_anns = load(ours_json)
    ref, ref_anns = load(ref_json)
    diffs = []
    cat_ours = {c['id']: (c['name'], int(c['isthing'])) for c in ours['categories']}
    cat_ref = {c['id']: (c['name'], int(c.get('isthing', 0))) for c in ref['categories']}
    for cid in sorted(set(cat_ours) | set(cat_ref)):
        if cat_ours.get(cid, (None, None))[1] != cat_ref.get(cid, (None, None))[1]:
            diffs.append(f'category {cid}: ours {cat_ours.get(cid)}, reference {cat_ref.get(cid)}')
    for image_id in sorted(set(ours_anns) | set(ref_anns), key=str)[:limit]:
        a, b = ours_anns.get(image_id), ref_anns.get(image_id)
        if a is None or b is None:
            diffs.append(f'image {image_id}: only in {"the reference" if a is None else "ours"}')
            continue
        pa = rgb2id(cv2.imread(osp.join(ours_dir, a['file_name']))[..., ::-1])
        pb = rgb2id(cv2.imread(osp.join(ref_dir, b['file_name']))[..., ::-1])
        if pa.shape != pb.shape:
            diffs.append(f'image {image_id}: ours {pa.shape}, reference {pb.shape}')
            continue
        sa = {s['id']: s for s in a['segments_info']}
        sb = {s['id']: s for s in b['segments_info']}
        key = pa.astype(np.int64) * (1 << 24) + pb
        pairs, counts = np.unique(key, return_counts=True)
        for pair, n in zip(pairs.tolist(), counts.tolist()):
            ia, ib = pair >> 24, pair & 0xFFFFFF
            x, y = sa.get(ia), sb.get(ib)
            if x is None and y is None:
                continue
            if x is None or y is None:
                which = 'ours' if y is None else 'the reference'
                seg = x or y
                diffs.append(f'image {image_id}: {n} pixels of segment {seg["id"]} (category '
                             f'{seg["category_id"]}) are VOID except in {which}')
                continue
            if x['category_id'] != y['category_id'] or x['area'] != n or y['area'] != n \
                    or int(x.get('iscrowd', 0)) != int(y.get('iscrowd', 0)):
                diffs.append(f'image {image_id}: segment {ia} (category {x["category_id"]}, '
                             f'area {x["area"]}, crowd {x.get("iscrowd", 0)}) vs reference '
                             f'segment {ib} (category {y["category_id"]}, area {y["area"]}, '
                             f'crowd {y.get("iscrowd", 0)}) share {n} pixels')
    return diffs
