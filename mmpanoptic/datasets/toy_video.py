"""A procedural video panoptic dataset: the toy scenes, animated.

Stuff stays where it is; things (the toy shapes) move with a constant
velocity, occlude each other in a fixed depth order, and leave the frame on
one side to come back on the other (positions wrap around a margin outside
the image), so a tracker must keep ids through occlusion and exits.
Segment ids are track ids: one 24-bit id per object for the whole video.

Written in three layouts, all from the same frames:

- COCO panoptic with ``video_id`` / ``frame_id`` (``annotations/panoptic_{split}.json``
  + PNGs; train an image model on it, test with :class:`VideoPanopticDataset`);
- Cityscapes-VPS style: the PNG folder also holds ``{split}.json``, frames named
  ``<video>_<frame>.png`` (``video_eval.py --layout cityscapes-vps``);
- STEP style: ``step_{split}/<video>/<frame>.png`` with R = category id
  (255 void), G * 256 + B = instance (``video_eval.py --layout step``).
"""
import os.path as osp
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

import cv2
import numpy as np

from mmpanoptic.fileio import write_json, write_step_frame
from mmpanoptic.structures import mask_bbox

from .toy_panoptic import (
    _BASE_RGB,
    TOY_CATEGORIES,
    Scene,
    _thing_mask,
    _unique_ids,
    render_stuff,
    write_panoptic_split,
)


def toy_shape(rng: np.random.Generator, h: int, w: int) -> Tuple[int, np.ndarray, np.ndarray]:
    """A toy thing: ``(category id, mask, colour)``, the class its shape."""
    cat = int(rng.choice([c['id'] for c in TOY_CATEGORIES if c['isthing']]))
    return cat, _thing_mask(cat, h, w, rng), np.array(_BASE_RGB[cat], np.float32)


def render_video(seed: int, num_frames: int = 10, height: int = 128, width: int = 128,
                 max_things: int = 5, min_thing_area: int = 24,
                 make_thing: Callable = toy_shape, colour_jitter: float = 25.0
                 ) -> List[Tuple[np.ndarray, np.ndarray, List[Dict]]]:
    """Frames ``(image RGB uint8, ids int64, segments_info)`` of one video.

    ``make_thing(rng, h, w)`` draws each object: ``(category id, (h, w)
    bool mask, appearance)``, the appearance an RGB colour (3,) or an
    (h, w, 3) texture that moves with the object; each object's colour is
    shifted by a normal draw of standard deviation ``colour_jitter``.
    """
    rng = np.random.default_rng(seed)
    h, w = height, width
    present, stuff_map, background = render_stuff(rng, h, w)

    objects = []
    margin = w // 3
    for _ in range(int(rng.integers(2, max_things + 1))):
        cat, mask, appearance = make_thing(rng, h, w)
        if mask.sum() < min_thing_area:
            continue
        ys, xs = np.nonzero(mask)
        cy, cx = int(ys.mean()), int(xs.mean())
        # Template centred in a canvas, pasted at the moving centre each frame.
        velocity = rng.uniform(-5, 5, 2) * rng.choice([0.5, 1.0, 1.5])
        objects.append(dict(cat=cat, mask=mask, centre=(cy, cx), velocity=velocity,
                            colour=np.asarray(appearance, np.float32) +
                            rng.normal(0, colour_jitter, 3).astype(np.float32)))
    seg_ids = _unique_ids(len(present) + len(objects), rng)
    stuff_track = dict(zip(present, seg_ids[:len(present)]))
    frames = []
    for t in range(num_frames):
        image = background.copy()
        cat_map = stuff_map.copy()
        owner = np.full((h, w), -1, np.int64)
        for k, obj in enumerate(objects):
            dy, dx = obj['velocity'] * t
            # Wrap around a margin outside the image: objects leave and return.
            sy = (obj['centre'][0] + dy + margin) % (h + 2 * margin) - margin - obj['centre'][0]
            sx = (obj['centre'][1] + dx + margin) % (w + 2 * margin) - margin - obj['centre'][1]
            shift = np.float32([[1, 0, sx], [0, 1, sy]])
            moved = cv2.warpAffine(obj['mask'].astype(np.uint8), shift, (w, h),
                                   flags=cv2.INTER_NEAREST).astype(bool)
            if obj['colour'].ndim == 3:  # a texture moves with the object
                image[moved] = cv2.warpAffine(obj['colour'], shift, (w, h),
                                              flags=cv2.INTER_NEAREST)[moved]
            else:
                image[moved] = obj['colour']
            cat_map[moved] = obj['cat']
            owner[moved] = k
        image += rng.normal(0, 10, image.shape)
        image = np.clip(image, 0, 255).astype(np.uint8)
        ids = np.zeros((h, w), np.int64)
        info = []
        for cat, sid in stuff_track.items():
            m = (stuff_map == cat) & (owner < 0)
            if m.any():
                ids[m] = sid
                info.append(dict(id=sid, category_id=int(cat), iscrowd=0, area=int(m.sum()),
                                 bbox=mask_bbox(m)))
        for k, obj in enumerate(objects):
            m = owner == k
            if m.sum() >= min_thing_area:  # tiny remnants stay VOID
                sid = seg_ids[len(present) + k]
                ids[m] = sid
                info.append(dict(id=sid, category_id=obj['cat'], iscrowd=0,
                                 area=int(m.sum()), bbox=mask_bbox(m)))
        frames.append((image, ids, info))
    return frames


def make_toy_video(out_dir: str, num_train: int = 40, num_val: int = 6,
                   num_frames: int = 10, height: int = 128, width: int = 128,
                   seed: int = 0, progress: bool = True) -> Dict[str, str]:
    """Write the toy video dataset; returns ``{split: COCO panoptic ann_file}``."""
    written = {}
    for split_idx, (split, n) in enumerate((('train', num_train), ('val', num_val))):
        scenes = _video_scenes(out_dir, split, seed * 1_000_003 + split_idx * 100_003, n,
                               num_frames, height, width)
        seg_dir = osp.join(out_dir, 'annotations', f'panoptic_{split}')
        written[split] = write_panoptic_split(
            out_dir, split, scenes, n * num_frames, TOY_CATEGORIES,
            dict(description='mmpanoptic toy video panoptic', seed=seed), progress,
            json_copies=[osp.join(seg_dir, f'{split}.json')])
    write_json(osp.join(out_dir, 'categories.json'), TOY_CATEGORIES)
    return written


def _video_scenes(out_dir: str, split: str, seed: int, num_videos: int, num_frames: int,
                  height: int, width: int, categories: Sequence[Dict] = TOY_CATEGORIES,
                  make_thing: Callable = toy_shape, colour_jitter: float = 25.0
                  ) -> Iterable[Scene]:
    """The frames of every video as scenes named ``<video>_<frame>.png``; the
    STEP layout's frame of each is written on the way."""
    cat_by_id = {c['id']: c for c in categories}
    for v in range(num_videos):
        inst_of: Dict[int, int] = {}  # STEP instance numbers, stable per video
        for t, (img, ids, info) in enumerate(render_video(seed + v, num_frames, height, width,
                                                          make_thing=make_thing,
                                                          colour_jitter=colour_jitter)):
            cat = np.full(ids.shape, 255, np.int64)
            inst = np.zeros(ids.shape, np.int64)
            for s in info:
                m = ids == s['id']
                cat[m] = s['category_id']
                if cat_by_id[s['category_id']]['isthing']:
                    inst[m] = inst_of.setdefault(s['id'], len(inst_of) + 1)
            write_step_frame(osp.join(out_dir, f'step_{split}', f'{v:04d}', f'{t:04d}.png'),
                             cat, inst)
            yield f'{v:04d}_{t:04d}.png', img, ids, info, dict(video_id=v, frame_id=t)
