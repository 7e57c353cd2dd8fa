"""ADE20K (``ADEChallengeData2016``: SceneParsing + instance annotations) ->
COCO panoptic with Mask2Former's 150-class split (100 things, 50 stuff).

CLI: ``tools/dataset_converters/ade20k_to_coco_panoptic.py``.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmseg.datasets import ADE20KDataset

from mmpanoptic.fileio import ConversionError, read_label_png, read_png_rgb, write_panoptic_png
from mmpanoptic.structures import mask_bbox
from mmpanoptic.vocabularies import vocabulary_entries

from .common import with_progress, write_panoptic_set

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
    mapping = mapping or {k + 1: v for k, v in enumerate(ADE20K_INSTANCE_TO_SCENEPARSE)}
    things = set(mapping.values())
    names = [c['name'] for c in vocabulary_entries('ade20k_150')]  # label order
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
    images, annotations = [], []
    report = dict(images=0, segments=0, void_thing_pixels=0)
    for path in with_progress(image_files, progress):
        stem = osp.splitext(osp.basename(path))[0]
        sem_path = osp.join(root, 'annotations', sub, stem + '.png')
        ins_path = osp.join(root, 'annotations_instance', sub, stem + '.png')
        for p, what in ((sem_path, 'SceneParsing annotation'), (ins_path, 'instance PNG')):
            if not osp.isfile(p):
                raise ConversionError(f'{p}: missing, the {what} of {path}')
        semantic = read_label_png(sem_path, 'SceneParsing')
        instance = read_png_rgb(ins_path, 'the instance PNG')
        ids, segments, void = ade20k_panoptic_image(semantic, instance, mapping,
                                                    image=ins_path)
        write_panoptic_png(osp.join(out_png_dir, stem + '.png'), ids)
        images.append(dict(id=stem, file_name=osp.basename(path), height=int(ids.shape[0]),
                           width=int(ids.shape[1])))
        annotations.append(dict(image_id=stem, file_name=stem + '.png', segments_info=segments))
        report['images'] += 1
        report['segments'] += len(segments)
        report['void_thing_pixels'] += void
    write_panoptic_set(out_json, images, annotations, ade20k_categories(mapping))
    return report
