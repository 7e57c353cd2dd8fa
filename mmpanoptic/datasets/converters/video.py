"""Convert the published video panoptic layouts to COCO panoptic + video ids.

:class:`VideoPanopticDataset` reads one format: a COCO panoptic JSON whose
``images`` carry ``video_id`` and ``frame_id`` and whose segment ids are
track ids.  These functions write it from

- ``step`` (KITTI-STEP, MOTChallenge-STEP): ``GT/<video>/<frame>.png`` with
  R = category id (255 void), G * 256 + B = instance (0 on a thing = crowd);
  images ``IMAGES/<video>/<frame>.<ext>``.  The RGB-id PNGs are written.
- ``cityscapes-vps``: one COCO panoptic JSON over RGB-id PNGs, frames named
  ``<video>_<frame>_<city>_...``; only a new JSON is written (the PNGs are
  used where they are).
- ``vipseg``: the COCO-style JSON of VIPSeg's ``create_panoptic_video_labels.py``
  (``{"videos": [{"video_id", "images", "annotations"}], "categories"}``) over
  ``panomasksRGB/<video>/``; only a new JSON is written.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmpanoptic.fileio import (
    ConversionError,
    check_category,
    load_step_dir,
    read_json,
    read_step_frame,
    read_vipseg_json,
    vps_video_of,
    write_json,
    write_panoptic_png,
)
from mmpanoptic.structures import mask_bbox

from .common import write_panoptic_set


def _categories(categories: Sequence[Dict], source: str) -> List[Dict]:
    out = []
    for c in categories:
        check_category(dict(c, name=c.get('name', str(c.get('id')))), source)
        out.append(dict(id=int(c['id']), name=c.get('name', str(c['id'])),
                        isthing=int(c['isthing']), **({'color': c['color']}
                                                       if 'color' in c else {})))
    return out


def step_to_coco_video(gt_dir: str, categories: Sequence[Dict], out_json: str,
                       out_png_dir: str, *, image_dir: Optional[str] = None,
                       image_suffix: str = '.png') -> str:
    """STEP layout -> COCO panoptic JSON + RGB-id PNGs (``<video>/<frame>.png``).

    Segment ids are ``(category << 16 | instance) + 1``: the same object has
    the same id in every frame of its video.  Image ``file_name`` is
    ``<video>/<frame><image_suffix>`` (relative to ``image_dir`` when given,
    which is checked to hold every frame).

    Returns:
        ``out_json``.
    """
    cats = _categories(categories, 'categories')
    cat_index = {c['id']: k for k, c in enumerate(cats)}
    things = {c['id'] for c in cats if c['isthing']}
    images, annotations = [], []
    for vid, (video, frames) in enumerate(load_step_dir(gt_dir).items()):
        for fid, (name, path) in enumerate(frames.items()):
            stem = osp.splitext(name)[0]
            where = f'video {video}, frame {stem}'
            frame = read_step_frame(path, cat_index, things, True, where)
            file_name = f'{video}/{stem}{image_suffix}'
            if image_dir is not None and not osp.isfile(osp.join(image_dir, file_name)):
                raise FileNotFoundError(f'{where}: image {osp.join(image_dir, file_name)} '
                                        f'not found (ground truth {path})')
            segments = []
            for s in frame.segments:
                mask = frame.ids == s['id']
                segments.append(dict(id=s['id'], category_id=s['category_id'],
                                     iscrowd=s['iscrowd'], area=s['area'],
                                     bbox=list(mask_bbox(mask))))
            write_panoptic_png(osp.join(out_png_dir, video, stem + '.png'), frame.ids)
            image_id = len(images) + 1
            h, w = frame.ids.shape
            images.append(dict(id=image_id, file_name=file_name, height=h, width=w,
                               video_id=vid, frame_id=fid, video_name=video))
            annotations.append(dict(image_id=image_id, file_name=f'{video}/{stem}.png',
                                    segments_info=segments))
    return write_panoptic_set(out_json, images, annotations, cats)


def _frame_of(name: str, where: str) -> int:
    parts = name.split('_')
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConversionError(f'{where}: frame name {name!r} is not <video>_<frame>_...')
    return int(parts[1])


def cityscapes_vps_to_coco_video(ann_json: str, out_json: str) -> str:
    """Cityscapes-VPS JSON -> the same JSON with ``video_id`` / ``frame_id``
    on every image (parsed from ``<video>_<frame>_...`` names).  The PNGs
    are unchanged."""
    data = read_json(ann_json, 'Cityscapes-VPS JSON')
    if not isinstance(data, dict) or 'images' not in data or 'annotations' not in data:
        raise ConversionError(f'{ann_json}: not COCO panoptic (needs images, annotations)')
    videos: Dict[str, int] = {}
    for img in data['images']:
        name = osp.splitext(osp.basename(img['file_name']))[0]
        video = vps_video_of(name)
        img['video_id'] = videos.setdefault(video, len(videos))
        img['frame_id'] = _frame_of(name, f'{ann_json} image {img["id"]}')
        img['video_name'] = video
    return write_json(out_json, data)


def vipseg_to_coco_video(ann_json: str, out_json: str) -> str:
    """VIPSeg's per-video COCO JSON -> one COCO panoptic JSON.

    Frames keep their order in each video's ``images`` list (``frame_id``);
    image ids become unique integers, file names are prefixed with the video
    folder (``<video>/<frame>.jpg`` under ``images/``, ``<video>/<frame>.png``
    under ``panomasksRGB/``).
    """
    data = read_vipseg_json(ann_json)
    images, annotations = [], []
    for vid, video in enumerate(data['videos']):
        name = str(video['video_id'])
        anns = {a['image_id']: a for a in video['annotations']}
        for fid, img in enumerate(video['images']):
            image_id = len(images) + 1
            images.append(dict(img, id=image_id, file_name=f'{name}/{img["file_name"]}',
                               video_id=vid, frame_id=fid, video_name=name))
            ann = anns[img['id']]
            annotations.append(dict(ann, image_id=image_id,
                                    file_name=f'{name}/{ann["file_name"]}'))
    return write_panoptic_set(out_json, images, annotations,
                              _categories(data.get('categories', []), ann_json))


def check_track_ids(ann_json: str) -> int:
    """Number of tracks; raises when a segment id changes category within a
    video (two objects sharing an id)."""
    data = read_json(ann_json, 'video panoptic JSON')
    video_of = {img['id']: img['video_id'] for img in data['images']}
    seen: Dict[tuple, int] = {}
    for ann in data['annotations']:
        for s in ann['segments_info']:
            key = (video_of[ann['image_id']], s['id'])
            if seen.setdefault(key, s['category_id']) != s['category_id']:
                raise ConversionError(
                    f'{ann_json}: image {ann["image_id"]}, segment {s["id"]}: category '
                    f'{s["category_id"]} but {seen[key]} earlier in the same video')
    return len(seen)


__all__ = ['step_to_coco_video', 'cityscapes_vps_to_coco_video', 'vipseg_to_coco_video',
           'check_track_ids']
