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
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

from mmpanoptic.structures import id2rgb, mask_bbox

from .toy_panoptic import _BASE_RGB, TOY_CATEGORIES, _thing_mask, _unique_ids, render_stuff


def render_video(seed: int, num_frames: int = 10, height: int = 128, width: int = 128,
                 max_things: int = 5, min_thing_area: int = 24
                 ) -> List[Tuple[np.ndarray, np.ndarray, List[Dict]]]:
    """Frames ``(image RGB uint8, ids int64, segments_info)`` of one video."""
    rng = np.random.default_rng(seed)
    h, w = height, width
    thing_ids = [c['id'] for c in TOY_CATEGORIES if c['isthing']]
    present, stuff_map, background = render_stuff(rng, h, w)

    objects = []
    margin = w // 3
    for _ in range(int(rng.integers(2, max_things + 1))):
        cat = int(rng.choice(thing_ids))
        mask = _thing_mask(cat, h, w, rng)
        if mask.sum() < min_thing_area:
            continue
        ys, xs = np.nonzero(mask)
        cy, cx = int(ys.mean()), int(xs.mean())
        # Template centred in a canvas, pasted at the moving centre each frame.
        objects.append(dict(
            cat=cat, mask=mask, centre=(cy, cx),
            velocity=rng.uniform(-5, 5, 2) * rng.choice([0.5, 1.0, 1.5]),
            colour=np.array(_BASE_RGB[cat], np.float32) + rng.normal(0, 25, 3)))
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
    from mmengine.utils import ProgressBar
    cat_by_id = {c['id']: c for c in TOY_CATEGORIES}
    written = {}
    for split_idx, (split, n) in enumerate((('train', num_train), ('val', num_val))):
        img_dir = osp.join(out_dir, split)
        seg_dir = osp.join(out_dir, 'annotations', f'panoptic_{split}')
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(seg_dir, exist_ok=True)
        images, annotations = [], []
        bar = ProgressBar(n) if progress and n else None
        for v in range(n):
            inst_of: Dict[int, int] = {}  # STEP instance numbers, stable per video
            frames = render_video(seed * 1_000_003 + split_idx * 100_003 + v, num_frames,
                                  height, width)
            for t, (img, ids, info) in enumerate(frames):
                name = f'{v:04d}_{t:04d}'
                cv2.imwrite(osp.join(img_dir, name + '.png'), img[..., ::-1])
                cv2.imwrite(osp.join(seg_dir, name + '.png'), id2rgb(ids)[..., ::-1])
                image_id = len(images) + 1
                images.append(dict(id=image_id, file_name=name + '.png', height=height,
                                   width=width, video_id=v, frame_id=t))
                annotations.append(dict(image_id=image_id, file_name=name + '.png',
                                        segments_info=info))
                step_dir = osp.join(out_dir, f'step_{split}', f'{v:04d}')
                os.makedirs(step_dir, exist_ok=True)
                cat = np.full(ids.shape, 255, np.int64)
                inst = np.zeros(ids.shape, np.int64)
                for s in info:
                    m = ids == s['id']
                    cat[m] = s['category_id']
                    if cat_by_id[s['category_id']]['isthing']:
                        inst[m] = inst_of.setdefault(s['id'], len(inst_of) + 1)
                cv2.imwrite(osp.join(step_dir, f'{t:04d}.png'),
                            np.stack([inst % 256, inst // 256, cat], -1).astype(np.uint8))
            if bar is not None:
                bar.update()
        if bar is not None:
            print()
        data = dict(info=dict(description='mmpanoptic toy video panoptic', seed=seed),
                    images=images, annotations=annotations, categories=TOY_CATEGORIES)
        ann_file = osp.join(out_dir, 'annotations', f'panoptic_{split}.json')
        for path in (ann_file, osp.join(seg_dir, f'{split}.json')):
            with open(path, 'w') as f:
                json.dump(data, f)
        written[split] = ann_file
    with open(osp.join(out_dir, 'categories.json'), 'w') as f:
        json.dump(TOY_CATEGORIES, f)
    return written
