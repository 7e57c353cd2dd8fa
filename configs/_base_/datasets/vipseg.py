# VIPSeg (Miao et al., CVPR 2022): 124 classes (58 things, 66 stuff), 720p.
# After VIPSeg's own change2_720p.py and create_panoptic_video_labels.py,
# flatten its per-video JSON once:
#   python tools/dataset_converters/video_to_coco_panoptic.py vipseg \
#       --ann data/VIPSeg_720P/panoptic_gt_VIPSeg_train.json \
#       --out data/VIPSeg_720P/panoptic_train_video.json
# (the same for val).
# Pipelines, loaders and evaluators come from mmpanoptic/config_builders.py
# (written once for every dataset; `_base_` first keeps this a classic mmengine config).
_base_ = []
from mmpanoptic.config_builders import dataloaders, split, test_pipeline, train_pipeline  # noqa: E402

dataset_type = 'VideoPanopticDataset'
data_root = 'data/VIPSeg_720P/'
backend_args = None
crop_size = (720, 720)
test_scale = (1280, 720)

train_pipeline = train_pipeline(
    dict(type='mmdet.RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    crop_size=crop_size, backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, video=True, backend_args=backend_args)
# Training uses the frames as images; evaluation gets whole videos, frames in
# order, in one process (trackers and the video metric need it).
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('panoptic_train_video.json', 'images/', 'panomasksRGB/'),
    val=split('panoptic_val_video.json', 'images/', 'panomasksRGB/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline, video=True)
val_evaluator = dict(type='VideoPanopticMetric')
test_evaluator = val_evaluator
