"""Procedural panoptic dataset in COCO panoptic format (no download needed).

Each scene is a few *stuff* regions (amorphous, textured: sky, grass, water,
sand) with *things* painted on top (ellipses, boxes, triangles, rings) of
varied size, colour and rotation that overlap and occlude each other.  Each
class has a colour family and a texture, jittered per instance and covered
with pixel noise, so telling classes apart needs both shape and appearance.

The output mirrors COCO's layout::

    OUT/train2017/000000000001.png                image (RGB)
    OUT/annotations/panoptic_train2017.json       images, annotations, categories
    OUT/annotations/panoptic_train2017/000000000001.png   RGB-encoded segment ids

Generation is deterministic: image ``k`` of a split depends only on
``(seed, split, k)``.

>>> from mmpanoptic.datasets.toy_panoptic import render_scene, TOY_CATEGORIES
>>> img, ids, segs = render_scene(seed=0, height=64, width=80)
>>> img.shape, img.dtype, ids.shape, ids.dtype
((64, 80, 3), dtype('uint8'), (64, 80), dtype('int64'))
"""
import os
import os.path as osp
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import cv2
import numpy as np

from mmpanoptic.fileio import write_json, write_panoptic_png, write_rgb_png
from mmpanoptic.structures import mask_bbox

from .converters.common import with_progress

# (file name, RGB image, id map, segments_info, extra fields of the image entry)
Scene = Tuple[str, np.ndarray, np.ndarray, List[Dict], Dict]

# Category ids are deliberately not contiguous (like COCO's); the datasets map
# them to contiguous labels with things first.
TOY_CATEGORIES: List[Dict] = [
    dict(id=1, name='ellipse', isthing=1, color=[220, 20, 60]),
    dict(id=2, name='box', isthing=1, color=[0, 0, 142]),
    dict(id=3, name='triangle', isthing=1, color=[250, 170, 30]),
    dict(id=5, name='ring', isthing=1, color=[119, 11, 32]),
    dict(id=21, name='sky', isthing=0, color=[70, 130, 180]),
    dict(id=22, name='grass', isthing=0, color=[107, 142, 35]),
    dict(id=23, name='water', isthing=0, color=[0, 80, 100]),
    dict(id=24, name='sand', isthing=0, color=[210, 180, 140]),
]

# Mean appearance (RGB) of each class; instances jitter around it.
_BASE_RGB = {
    1: (200, 60, 60), 2: (60, 60, 200), 3: (210, 190, 40), 5: (150, 60, 170),
    21: (120, 170, 230), 22: (70, 150, 60), 23: (30, 90, 120), 24: (200, 180, 130),
}
CROWD_PROB = 0.04


def _stuff_texture(cat: int, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A float (h, w) texture in [-1, 1] characteristic of a stuff class."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if cat == 21:  # sky: vertical gradient
        return (yy / max(h - 1, 1)) * 2 - 1
    if cat == 22:  # grass: fine speckle
        return rng.uniform(-1, 1, (h, w)).astype(np.float32)
    if cat == 23:  # water: oblique waves
        f = rng.uniform(0.25, 0.45)
        return np.sin(f * (xx + 0.6 * yy) + rng.uniform(0, 6.28)).astype(np.float32)
    # sand: coarse blotches
    small = rng.uniform(-1, 1, (max(h // 8, 2), max(w // 8, 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _thing_mask(cat: int, h: int, w: int, rng: np.random.Generator,
                size_range: Tuple[float, float] = (0.10, 0.32)) -> np.ndarray:
    """A uint8 mask of one thing instance of a random size (a fraction of the
    image side in ``size_range``), place and angle."""
    mask = np.zeros((h, w), np.uint8)
    size = rng.uniform(*size_range) * min(h, w)
    cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    angle = rng.uniform(0, 180)
    if cat == 1:  # ellipse
        axes = (int(size * rng.uniform(0.5, 0.8)), int(size * rng.uniform(0.3, 0.6)))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, angle, 0, 360, 1, -1)
    elif cat == 2:  # box (rotated rectangle)
        rect = ((cx, cy), (size * rng.uniform(0.8, 1.3), size * rng.uniform(0.6, 1.0)), angle)
        cv2.fillPoly(mask, [cv2.boxPoints(rect).astype(np.int32)], 1)
    elif cat == 3:  # triangle
        t = np.deg2rad(angle) + np.array([0, 2.094, 4.189])
        r = size * 0.7 * rng.uniform(0.85, 1.15, 3)
        pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    else:  # ring
        outer = int(size * 0.6)
        cv2.circle(mask, (int(cx), int(cy)), outer, 1, -1)
        cv2.circle(mask, (int(cx), int(cy)), max(int(outer * 0.5), 1), 0, -1)
    return mask.astype(bool)


def _unique_ids(n: int, rng: np.random.Generator) -> List[int]:
    """n distinct segment ids in [1, 2^24), so all three RGB channels are used."""
    ids = set()
    while len(ids) < n:
        ids.add(int(rng.integers(1, 256**3)))
    return sorted(ids, key=lambda _: rng.random())


def render_stuff(rng: np.random.Generator, h: int, w: int
                 ) -> Tuple[List[int], np.ndarray, np.ndarray]:
    """2-3 stuff classes as amorphous regions (argmax over smooth random
    fields), each filled with its textured color.

    Returns:
        ``present`` stuff category ids, ``stuff_map`` (h, w) category id per
        pixel and the float32 (h, w, 3) RGB background.
    """
    stuff_ids = [c['id'] for c in TOY_CATEGORIES if not c['isthing']]
    present = list(rng.choice(stuff_ids, size=int(rng.integers(2, 4)), replace=False))
    fields = []
    for _ in present:
        g = rng.normal(size=(3, 3)).astype(np.float32)
        fields.append(cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC))
    stuff_map = np.asarray(present)[np.argmax(np.stack(fields), 0)]
    image = np.zeros((h, w, 3), np.float32)
    for cat in present:
        region = stuff_map == cat
        base = np.array(_BASE_RGB[cat], np.float32) + rng.normal(0, 12, 3)
        tex = _stuff_texture(cat, h, w, rng)[..., None] * rng.uniform(15, 35)
        image[region] = (base + tex)[region]
    return present, stuff_map, image


def render_scene(seed: int, height: int = 128, width: int = 128,
                 max_things: int = 6, min_thing_area: int = 24
                 ) -> Tuple[np.ndarray, np.ndarray, List[Dict]]:
    """Render one scene.

    Returns:
        image: (H, W, 3) uint8 RGB.
        ids: (H, W) int64 segment ids (0 = VOID: remnants of hidden things).
        segments_info: COCO panoptic dicts with id, category_id, iscrowd,
            area, bbox ([x, y, w, h]).
    """
    rng = np.random.default_rng(seed)
    h, w = height, width
    thing_ids = [c['id'] for c in TOY_CATEGORIES if c['isthing']]

    # Stuff: argmax over smooth random fields gives amorphous regions.
    present, stuff_map, image = render_stuff(rng, h, w)

    cat_map = stuff_map.copy()
    inst_map = np.full((h, w), -1, np.int64)  # index of the visible thing
    things = []
    for k in range(int(rng.integers(1, max_things + 1))):
        cat = int(rng.choice(thing_ids))
        mask = _thing_mask(cat, h, w, rng)
        if mask.sum() < min_thing_area:
            continue
        base = np.array(_BASE_RGB[cat], np.float32) + rng.normal(0, 25, 3)
        shade = np.linspace(-20, 20, w, dtype=np.float32)[None, :, None] * rng.choice([-1, 1])
        image[mask] = np.broadcast_to(base + shade, (h, w, 3))[mask]
        cat_map[mask] = cat
        inst_map[mask] = len(things)
        things.append(dict(category_id=cat, iscrowd=int(rng.random() < CROWD_PROB)))

    image += rng.normal(0, 10, image.shape)  # sensor noise everywhere
    image = np.clip(image, 0, 255).astype(np.uint8)

    # Assemble segments: one per stuff class present, one per visible thing.
    segments = []
    for cat in present:
        segments.append((cat_map == cat) & (inst_map < 0))
    seg_cats = [dict(category_id=int(c), iscrowd=0) for c in present]
    for i, t in enumerate(things):
        segments.append(inst_map == i)
        seg_cats.append(t)
    ids = np.zeros((h, w), np.int64)
    seg_ids = _unique_ids(len(segments), rng)
    info = []
    for k, (sid, mask, meta) in enumerate(zip(seg_ids, segments, seg_cats)):
        area = int(mask.sum())
        is_thing = k >= len(present)
        if area == 0 or (is_thing and area < min_thing_area):
            # A thing almost fully occluded leaves a few pixels that are
            # labelled VOID (id 0), as unlabeled bits are in COCO.
            continue
        ids[mask] = sid
        info.append(dict(id=sid, category_id=meta['category_id'],
                         iscrowd=meta['iscrowd'], area=area, bbox=mask_bbox(mask)))
    return image, ids, info


def write_panoptic_split(out_dir: str, split: str, scenes: Iterable[Scene], total: int,
                         categories: List[Dict], info: Dict, progress: bool = True,
                         json_copies: Sequence[str] = ()) -> str:
    """Write scenes ``(file name, RGB image, id map, segments_info, extra
    image fields)`` as one COCO panoptic split (``OUT/{split}/``,
    ``OUT/annotations/panoptic_{split}.json`` and its PNG folder, plus the
    same JSON at ``json_copies``); returns the JSON path.  Files go through
    :mod:`mmpanoptic.fileio`."""
    img_dir = osp.join(out_dir, split)
    seg_dir = osp.join(out_dir, 'annotations', f'panoptic_{split}')
    images, annotations = [], []
    for name, img, ids, segments, fields in with_progress(scenes, progress, total):
        write_rgb_png(osp.join(img_dir, name), img)
        write_panoptic_png(osp.join(seg_dir, name), ids)
        image_id = len(images) + 1
        images.append(dict(id=image_id, file_name=name, height=img.shape[0],
                           width=img.shape[1], **fields))
        annotations.append(dict(image_id=image_id, file_name=name, segments_info=segments))
    os.makedirs(img_dir, exist_ok=True)  # an empty split still has its folders
    os.makedirs(seg_dir, exist_ok=True)
    data = dict(info=info, images=images, annotations=annotations, categories=categories)
    ann_file = osp.join(out_dir, 'annotations', f'panoptic_{split}.json')
    for path in (ann_file, *json_copies):
        write_json(path, data)
    return ann_file


def numbered_scenes(render: Callable[[int], tuple], n: int) -> Iterable[Scene]:
    """``render(k) -> (image, ids, segments_info)`` for k < n as scenes named
    ``{k + 1:012d}.png`` (COCO's file names)."""
    for k in range(n):
        yield (f'{k + 1:012d}.png', *render(k), {})


def make_toy_panoptic(out_dir: str, num_train: int = 200, num_val: int = 50,
                      height: int = 128, width: int = 128, seed: int = 0,
                      splits: Sequence[str] = ('train2017', 'val2017'),
                      progress: bool = True) -> Dict[str, str]:
    """Write the toy dataset to ``out_dir``; returns ``{split: ann_file}``."""
    counts = dict(zip(splits, (num_train, num_val)))
    written = {}
    for split_idx, split in enumerate(splits):
        def render(k, split_idx=split_idx):
            return render_scene(seed=seed * 1_000_003 + split_idx * 100_003 + k,
                                height=height, width=width)

        written[split] = write_panoptic_split(
            out_dir, split, numbered_scenes(render, counts[split]), counts[split],
            TOY_CATEGORIES,
            dict(description='mmpanoptic toy panoptic', seed=seed), progress)
    return written
