# Cityscapes panoptic (19 classes: 8 things, 11 stuff), converted with
# cityscapesscripts' createPanopticImgs (docs/dataset_prepare.md):
#   data/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
#   data/cityscapes/gtFine/cityscapes_panoptic_{train,val}.json
#   data/cityscapes/gtFine/cityscapes_panoptic_{train,val}/*.png
# Mask2Former's recipe: 1024x2048 images jittered 0.5..2.0, 512x1024 crops;
# test at full resolution.
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

dataset_type = 'CityscapesPanopticDataset'
data_root = 'data/cityscapes/'
backend_args = None
crop_size = (512, 1024)
test_scale = (2048, 1024)

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
    train=split('gtFine/cityscapes_panoptic_train.json', 'leftImg8bit/train/',
                'gtFine/cityscapes_panoptic_train/'),
    val=split('gtFine/cityscapes_panoptic_val.json', 'leftImg8bit/val/',
              'gtFine/cityscapes_panoptic_val/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline,
    filter_cfg=dict(filter_empty_gt=False))
# PQ, instance AP (mmdet's CocoMetric on the thing segments) and semantic mIoU
# (mmseg's IoUMetric on the label map) from one run.
val_evaluator = image_evaluators()
test_evaluator = val_evaluator
