"""Write what a config's data pipeline produces (after augmentation) as pictures.

    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR
        [--phase train|val|test] [--max-images 20] [--scale 2] [--cfg-options k=v ...]

Each picture is the packed image with its ground truth drawn on it: the thing
instances (``gt_instances``) and the semantic map (``gt_sem_seg``) of a
training pipeline, or the panoptic map (``gt_panoptic_seg``) of a test
pipeline; the file name has the image id, the title its augmentation
(flip, scale).  Use it to check crops, flips and label alignment before
training.
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.config import DictAction
from tqdm import tqdm

from mmpanoptic.apis.inferencer import class_palette
from mmpanoptic.registry import DATASETS
from mmpanoptic.utils import register_all_modules
from mmpanoptic.utils.tool_config import load_tool_config
from mmpanoptic.visualization.panoptic import draw_panoptic


def panoptic_of(sample, num_things):
    """(ids, segments_info) of a packed sample's ground truth."""
    if 'gt_panoptic_seg' in sample:
        pan = sample.gt_panoptic_seg
        return pan.sem_seg[0].numpy().astype(np.int64), [dict(s) for s in pan.segments_info]
    h, w = sample.metainfo['img_shape'][:2]
    ids = np.zeros((h, w), np.int64)
    segments = []
    if 'gt_sem_seg' in sample:
        sem = sample.gt_sem_seg.sem_seg[0].numpy()
        for label in np.unique(sem).tolist():
            if label == 255 or label < num_things:  # VOID; things come from instances
                continue
            segments.append(dict(id=len(segments) + 1, label=int(label), isthing=0))
            ids[sem == label] = len(segments)
    inst = sample.get('gt_instances')
    if inst is not None and 'masks' in inst:
        masks = inst.masks.to_ndarray() if hasattr(inst.masks, 'to_ndarray') else \
            np.asarray(inst.masks)
        for mask, label in zip(masks, inst.labels.tolist()):
            segments.append(dict(id=len(segments) + 1, label=int(label), isthing=1))
            ids[mask[:h, :w].astype(bool)] = len(segments)
    return ids, segments


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--output-dir', required=True)
    p.add_argument('--phase', choices=['train', 'val', 'test'], default='train')
    p.add_argument('--max-images', type=int, default=20)
    p.add_argument('--scale', type=int, default=1, help='upscale the pictures (small images)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. train_dataloader.dataset.data_root=...')
    args = p.parse_args(argv)
    cfg = load_tool_config(args.config, cfg_options=args.cfg_options)
    register_all_modules()  # default scope: the pipeline's unprefixed types are ours
    dataset = DATASETS.build(cfg[f'{args.phase}_dataloader'].dataset)
    meta = dataset.metainfo
    classes = list(meta['classes'])
    num_things = len(meta.get('thing_classes', ()))
    palette = [tuple(c) for c in meta.get('palette') or class_palette(len(classes))]
    os.makedirs(args.output_dir, exist_ok=True)
    n = min(args.max_images, len(dataset))
    for i in tqdm(range(n), unit='image'):
        packed = dataset[i]
        sample = packed['data_samples']
        image = packed['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # BGR -> RGB
        ids, segments = panoptic_of(sample, num_things)
        info = sample.metainfo
        title = f'{info.get("img_id")}'
        if info.get('flip'):
            title += f' flip:{info.get("flip_direction")}'
        if 'scale_factor' in info:
            title += ' scale:{:.2f}'.format(float(np.mean(info['scale_factor'])))
        picture = draw_panoptic(np.ascontiguousarray(image), ids[:image.shape[0], :image.shape[1]],
                                segments, classes, palette, scale=args.scale, title=title)
        stem = osp.splitext(osp.basename(info.get('img_path', f'{i}')))[0]
        cv2.imwrite(osp.join(args.output_dir, f'{i:04d}_{stem}.jpg'), picture[..., ::-1])
    print(f'{n} pictures of the {args.phase} pipeline written to {args.output_dir}')


if __name__ == '__main__':
    main()
