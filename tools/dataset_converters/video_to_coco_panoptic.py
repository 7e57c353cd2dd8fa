"""Convert KITTI-STEP / Cityscapes-VPS / VIPSeg annotations for VideoPanopticDataset.

    # KITTI-STEP (or MOTChallenge-STEP): writes the JSON and RGB-id PNGs
    python tools/dataset_converters/video_to_coco_panoptic.py step \\
        --gt data/kitti_step/panoptic_maps/train --images data/kitti_step/images/train \\
        --categories data/kitti_step/categories.json \\
        --out data/kitti_step/annotations/panoptic_train.json \\
        --png-dir data/kitti_step/annotations/panoptic_train
    # Cityscapes-VPS: adds video_id / frame_id to its JSON
    python tools/dataset_converters/video_to_coco_panoptic.py cityscapes-vps \\
        --ann data/cityscapes_vps/val/panoptic_gt_val_city_vps.json \\
        --out data/cityscapes_vps/val/panoptic_val_video.json
    # VIPSeg (after its change2_720p.py + create_panoptic_video_labels.py)
    python tools/dataset_converters/video_to_coco_panoptic.py vipseg \\
        --ann data/VIPSeg_720P/panoptic_gt_VIPSeg_train.json \\
        --out data/VIPSeg_720P/panoptic_train_video.json
"""
import argparse
import sys

from mmpanoptic.datasets.converters import (
    check_track_ids,
    cityscapes_vps_to_coco_video,
    step_to_coco_video,
    vipseg_to_coco_video,
)
from mmpanoptic.fileio import PanopticError, load_categories, read_json


def main(argv=None):
    try:
        convert(argv)
    except PanopticError as e:
        sys.exit(f'error: {e}')


def convert(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('layout', choices=['step', 'cityscapes-vps', 'vipseg'])
    p.add_argument('--out', required=True, help='output COCO panoptic JSON')
    p.add_argument('--gt', help='step: <video>/<frame>.png ground-truth folder')
    p.add_argument('--images', help='step: <video>/<frame> image folder (checked)')
    p.add_argument('--image-suffix', default='.png', help='step: image file extension')
    p.add_argument('--categories', help='step: COCO-style categories JSON')
    p.add_argument('--png-dir', help='step: where the RGB-id PNGs go')
    p.add_argument('--ann', help='cityscapes-vps / vipseg: the published JSON')
    args = p.parse_args(argv)
    if args.layout == 'step':
        missing = [f'--{k.replace("_", "-")}' for k in ('gt', 'categories', 'png_dir')
                   if getattr(args, k) is None]
        if missing:
            p.error(f'step needs {" ".join(missing)}')
        cats = load_categories(args.categories)
        out = step_to_coco_video(args.gt, cats, args.out, args.png_dir, image_dir=args.images,
                                 image_suffix=args.image_suffix)
    else:
        if args.ann is None:
            p.error(f'{args.layout} needs --ann')
        convert = cityscapes_vps_to_coco_video if args.layout == 'cityscapes-vps' \
            else vipseg_to_coco_video
        out = convert(args.ann, args.out)
    data = read_json(out)
    videos = len({img['video_id'] for img in data['images']})
    print(f'{out}: {videos} videos, {len(data["images"])} frames, '
          f'{check_track_ids(out)} tracks')


if __name__ == '__main__':
    main()
