"""Procedural data for an honest open-vocabulary experiment (no download).

Things are shapes (ellipses, boxes, triangles, rings at random) whose class
is their colour and surface pattern: 4 colours x 4 patterns = 16 thing
classes ("red striped shape", "blue dotted shape", ...), on the stuff of the
toy dataset (sky, grass, water, sand).  Four combinations are **novel**: they
never appear in the training split (neither as images nor as names), one per
colour and one per pattern, so every word of a novel name was seen in other
combinations.  The validation split holds all 16 and names all 20 classes.

A model with a fixed class layer cannot name a novel class at all; a text
classifier can, if the text encoder relates "red dotted shape" to "red
striped shape" and "blue dotted shape" and the visual features are learned in
that text space.  (Colour x pattern rather than colour x outline: a small
network trained from scratch at 128 px tells patterns apart far more easily
than outlines, and the experiment is about names, not about shape
recognition.)

Written in COCO panoptic layout like :mod:`toy_panoptic`; the training JSON
lists only the base classes, the validation JSON all classes, so the
datasets' own class lists are the two vocabularies.
"""
import os.path as osp
from typing import Callable, Dict, List, Tuple

import numpy as np

from mmpanoptic.fileio import write_json
from mmpanoptic.structures import mask_bbox

from .toy_panoptic import (
    TOY_CATEGORIES,
    _thing_mask,
    _unique_ids,
    numbered_scenes,
    render_stuff,
    write_panoptic_split,
)
from .toy_video import _video_scenes

COLORS = {'red': (205, 40, 40), 'blue': (40, 60, 215), 'yellow': (225, 205, 35),
          'purple': (150, 50, 185)}
PATTERNS = ('plain', 'striped', 'dotted', 'checkered')
SHAPE_IDS = (1, 2, 3, 5)  # toy_panoptic's ellipse, box, triangle, ring; any for any class
# One novel combination per colour and per pattern.
NOVEL = ('red striped shape', 'blue dotted shape', 'yellow checkered shape',
         'purple plain shape')


def thing_categories() -> List[Dict]:
    cats = []
    for ci, (color, rgb) in enumerate(COLORS.items()):
        for pi, pattern in enumerate(PATTERNS):
            cats.append(dict(id=100 + 10 * ci + pi, name=f'{color} {pattern} shape', isthing=1,
                             color=list(rgb), pattern=pattern))
    return cats


def pattern_field(pattern: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """(h, w) float32 in [-1, 1]: the surface pattern (0 for plain)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(5.0, 7.0)
    if pattern == 'striped':
        t = rng.uniform(0, np.pi)
        return np.sign(np.sin(2 * np.pi * (xx * np.cos(t) + yy * np.sin(t)) / period))
    if pattern == 'dotted':
        dy, dx = rng.uniform(0, period, 2)
        d = np.hypot((yy + dy) % period - period / 2, (xx + dx) % period - period / 2)
        return np.where(d < period * 0.25, 1.0, -0.3).astype(np.float32)
    if pattern == 'checkered':
        return np.sign(np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period))
    return np.zeros((h, w), np.float32)


THING_CATEGORIES = thing_categories()
STUFF_CATEGORIES = [dict(c) for c in TOY_CATEGORIES if not c['isthing']]
BASE_THINGS = [c['name'] for c in THING_CATEGORIES if c['name'] not in NOVEL]


def render_open_vocab_scene(seed: int, allowed: List[Dict], height: int = 128,
                            width: int = 128, max_things: int = 5, min_thing_area: int = 24
                            ) -> Tuple[np.ndarray, np.ndarray, List[Dict]]:
    """One scene with things drawn from ``allowed`` categories; returns the
    RGB image, the (H, W) segment-id map (0 = VOID) and segments_info."""
    rng = np.random.default_rng(seed)
    h, w = height, width
    present, stuff_map, image = render_stuff(rng, h, w)
    inst_map = np.full((h, w), -1, np.int64)
    things = []
    for _ in range(int(rng.integers(1, max_things + 1))):
        cat = allowed[int(rng.integers(len(allowed)))]
        mask = _thing_mask(int(rng.choice(SHAPE_IDS)), h, w, rng, size_range=(0.2, 0.4))
        if mask.sum() < min_thing_area:
            continue
        rgb = np.array(cat['color'], np.float32) + rng.normal(0, 18, 3)
        shade = pattern_field(cat['pattern'], h, w, rng)[..., None] * 45
        image[mask] = np.broadcast_to(rgb + shade, (h, w, 3))[mask]
        inst_map[mask] = len(things)
        things.append(cat['id'])
    image = np.clip(image + rng.normal(0, 10, image.shape), 0, 255).astype(np.uint8)
    segments = [((stuff_map == c) & (inst_map < 0), int(c), False) for c in present]
    segments += [(inst_map == i, c, True) for i, c in enumerate(things)]
    ids = np.zeros((h, w), np.int64)
    info = []
    for sid, (mask, cat, is_thing) in zip(_unique_ids(len(segments), rng), segments):
        area = int(mask.sum())
        if area == 0 or (is_thing and area < min_thing_area):
            continue  # almost hidden thing: its remnant pixels stay VOID
        ids[mask] = sid
        info.append(dict(id=sid, category_id=cat, iscrowd=0, area=area, bbox=mask_bbox(mask)))
    return image, ids, info


def make_toy_open_vocab(out_dir: str, num_train: int = 2000, num_val: int = 100,
                        height: int = 128, width: int = 128, seed: int = 0,
                        progress: bool = True) -> Dict[str, str]:
    """Write ``train2017`` (base classes only) and ``val2017`` (all classes)
    to ``out_dir``; returns ``{split: ann_file}``."""
    base = [c for c in THING_CATEGORIES if c['name'] not in NOVEL]
    splits = {'train2017': (num_train, base), 'val2017': (num_val, THING_CATEGORIES)}
    written = {}
    for split_idx, (split, (n, allowed)) in enumerate(splits.items()):
        def render(k, split_idx=split_idx, allowed=allowed):
            return render_open_vocab_scene(seed * 1_000_003 + split_idx * 100_003 + k,
                                           allowed, height, width)

        categories = [{k: v for k, v in c.items() if k != 'pattern'}
                      for c in allowed + STUFF_CATEGORIES]
        written[split] = write_panoptic_split(
            out_dir, split, numbered_scenes(render, n), n, categories,
            dict(description='mmpanoptic open-vocabulary toy', seed=seed, novel=list(NOVEL)),
            progress)
    return written


def open_vocab_thing(allowed: List[Dict]) -> Callable:
    """``make_thing`` for :func:`render_video`: a toy shape of one of the
    ``allowed`` colour x pattern classes, its pattern a texture that moves
    with it."""
    def make(rng: np.random.Generator, h: int, w: int):
        cat = allowed[int(rng.integers(len(allowed)))]
        mask = _thing_mask(int(rng.choice(SHAPE_IDS)), h, w, rng, size_range=(0.2, 0.4))
        texture = np.array(cat['color'], np.float32)[None, None] + \
            pattern_field(cat['pattern'], h, w, rng)[..., None] * 45
        return cat['id'], mask, texture.astype(np.float32)
    return make


def make_toy_open_vocab_video(out_dir: str, num_train: int = 0, num_val: int = 8,
                              num_frames: int = 10, height: int = 128, width: int = 128,
                              seed: int = 0, progress: bool = True) -> Dict[str, str]:
    """The open-vocabulary classes in motion (:func:`render_video`'s moving,
    occluding, wrapping objects): ``train`` videos of the base classes and
    ``val`` videos of all 16 thing classes (the 4 novel ones included) with
    the 4 stuff classes, in :func:`make_toy_video`'s layouts (COCO panoptic
    with ``video_id`` / ``frame_id``, ``step_{split}/``, ``categories.json``
    of all classes).  Train an open-vocabulary image model on
    :func:`make_toy_open_vocab`'s base-class images (or on ``train``) and
    track on ``val``."""
    base = [c for c in THING_CATEGORIES if c['name'] not in NOVEL]
    everything = [{k: v for k, v in c.items() if k != 'pattern'}
                  for c in THING_CATEGORIES + STUFF_CATEGORIES]
    written = {}
    for split_idx, (split, n, allowed) in enumerate((('train', num_train, base),
                                                      ('val', num_val, THING_CATEGORIES))):
        if not n:
            continue
        cats = [c for c in everything if not c['isthing'] or
                c['name'] in {a['name'] for a in allowed}]
        scenes = _video_scenes(out_dir, split, seed * 1_000_003 + split_idx * 100_003 + 7, n,
                               num_frames, height, width, cats, open_vocab_thing(allowed),
                               colour_jitter=18.0)  # as make_toy_open_vocab's images
        seg_dir = osp.join(out_dir, 'annotations', f'panoptic_{split}')
        written[split] = write_panoptic_split(
            out_dir, split, scenes, n * num_frames, cats,
            dict(description='mmpanoptic open-vocabulary toy video', seed=seed,
                 novel=list(NOVEL)), progress, json_copies=[osp.join(seg_dir, f'{split}.json')])
    write_json(osp.join(out_dir, 'categories.json'), everything)
    return written
