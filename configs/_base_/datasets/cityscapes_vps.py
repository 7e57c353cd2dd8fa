# Cityscapes-VPS (Kim et al., CVPR 2020): 19 classes, 8 things; every 5th of
# 30 frames annotated, VPQ over windows of 1..4 annotated frames (VPQ^0, 5,
# 10, 15).  Add video / frame ids to the published JSON once:
#   python tools/dataset_converters/video_to_coco_panoptic.py cityscapes-vps \
#       --ann data/cityscapes_vps/val/panoptic_gt_val_city_vps.json \
#       --out data/cityscapes_vps/val/panoptic_val_video.json
# (the same for train).
# Pipelines, loaders and evaluators come from mmpanoptic/config_builders.py
# (written once for every dataset; `_base_` first keeps this a classic mmengine config).
_base_ = []
from mmpanoptic.config_builders import dataloaders, split, test_pipeline, train_pipeline  # noqa: E402

dataset_type = 'VideoPanopticDataset'
data_root = 'data/cityscapes_vps/'
backend_args = None
crop_size = (512, 1024)
test_scale = (2048, 1024)

train_pipeline = train_pipeline(
    dict(type='mmdet.RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    crop_size=crop_size, backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, video=True, backend_args=backend_args)
# Training uses the frames as images; evaluation gets whole videos, frames in
# order, in one process (trackers and the video metric need it).
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('train/panoptic_train_video.json', 'train/img/', 'train/panoptic_video/'),
    val=split('val/panoptic_val_video.json', 'val/img/', 'val/panoptic_video/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline, video=True)
val_evaluator = dict(type='VideoPanopticMetric')
test_evaluator = val_evaluator
