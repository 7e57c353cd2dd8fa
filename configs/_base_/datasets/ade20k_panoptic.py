# ADE20K panoptic (150 classes: 100 things, 50 stuff), converted to COCO
# panoptic format as in docs/dataset_prepare.md:
#   data/ade/ADEChallengeData2016/images/{training,validation}/*.jpg
#   data/ade/ADEChallengeData2016/ade20k_panoptic_{train,val}.json
#   data/ade/ADEChallengeData2016/ade20k_panoptic_{train,val}/*.png
# Mask2Former's recipe: shorter side jittered 320..1280 (0.5..2.0 x 640),
# 640x640 crops; test at shorter side 640 (max 2560).
# Pipelines, loaders and evaluators come from mmpanoptic/config_builders.py
# (written once for every dataset; `_base_` first keeps this a classic mmengine config).
_base_ = []
from mmpanoptic.config_builders import (  # noqa: E402
    dataloaders,
    image_evaluators,
    split,
    test_pipeline,
    train_pipeline,
    tta_pipeline,
)

dataset_type = 'ADE20KPanopticDataset'
data_root = 'data/ade/ADEChallengeData2016/'
backend_args = None
crop_size = (640, 640)
test_scale = (2560, 640)

train_pipeline = train_pipeline(
    dict(type='mmdet.RandomResize', scale=test_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    crop_size=crop_size, backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, backend_args=backend_args)
# Test-time augmentation (tools/test.py CONFIG CKPT --tta): the test scale first
# (the reference view the others are mapped onto), then x0.75 and x1.25, each
# with and without a horizontal flip.
tta_model = dict(type='PanopticTTAModel')
tta_pipeline = tta_pipeline(test_scale, backend_args=backend_args)
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('ade20k_panoptic_train.json', 'images/training/', 'ade20k_panoptic_train/'),
    val=split('ade20k_panoptic_val.json', 'images/validation/', 'ade20k_panoptic_val/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline,
    filter_cfg=dict(filter_empty_gt=False))
# PQ, instance AP (mmdet's CocoMetric on the thing segments) and semantic mIoU
# (mmseg's IoUMetric on the label map) from one run.
val_evaluator = image_evaluators()
test_evaluator = val_evaluator
