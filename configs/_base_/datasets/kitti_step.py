# KITTI-STEP (19 Cityscapes classes; 2 things: car, person) for video panoptic
# models.  Convert the STEP PNGs once (docs/dataset_prepare.md):
#   python tools/dataset_converters/video_to_coco_panoptic.py step \
#       --gt data/kitti_step/panoptic_maps/train --images data/kitti_step/images/train \
#       --categories data/kitti_step/categories.json \
#       --out data/kitti_step/annotations/panoptic_train.json \
#       --png-dir data/kitti_step/annotations/panoptic_train
# (the same for val).  Frames are 375x1242; training uses 384x1248 crops of
# images jittered 0.5..2.0 as deeplab2's KITTI-STEP recipe.
# Pipelines, loaders and evaluators come from mmpanoptic/config_builders.py
# (written once for every dataset; `_base_` first keeps this a classic mmengine config).
_base_ = []
from mmpanoptic.config_builders import dataloaders, split, test_pipeline, train_pipeline  # noqa: E402

dataset_type = 'VideoPanopticDataset'
data_root = 'data/kitti_step/'
backend_args = None
crop_size = (384, 1248)
test_scale = (1242, 375)

train_pipeline = train_pipeline(
    dict(type='mmdet.RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    crop_size=crop_size, backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, video=True, backend_args=backend_args)
# Training uses the frames as images; evaluation gets whole videos, frames in
# order, in one process (trackers and the video metric need it).
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('annotations/panoptic_train.json', 'images/train/', 'annotations/panoptic_train/'),
    val=split('annotations/panoptic_val.json', 'images/val/', 'annotations/panoptic_val/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline, video=True)
# STEP is scored with STQ; VPQ over windows of 1..4 frames is reported too.
val_evaluator = dict(type='VideoPanopticMetric')
test_evaluator = val_evaluator
