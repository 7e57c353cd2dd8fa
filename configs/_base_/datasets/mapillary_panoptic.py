# Mapillary Vistas panoptic (v1.2: 65 classes, 37 things, 28 stuff), as
# released (COCO panoptic format; check it first with
# tools/misc/validate_panoptic_dataset.py):
#   data/mapillary/{training,validation}/images/*.jpg
#   data/mapillary/{training,validation}/panoptic/panoptic_2018.json
#   data/mapillary/{training,validation}/panoptic/*.png
# (v2.0: panoptic/panoptic_2020.json under v2.0/; 124 classes; see
# configs/mask2former/mask2former_r50_300k_mapillary-v2-panoptic.py.)
# Mask2Former's recipe: shorter side one of 1024..4096 (0.5..2.0 x 2048, at
# most 8192 long), 1024x1024 crops; test at shorter side 2048 (at most 2048 long).
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

dataset_type = 'CocoPanopticDataset'
data_root = 'data/mapillary/'
backend_args = None
crop_size = (1024, 1024)
test_scale = (2048, 2048)

train_pipeline = train_pipeline(
    dict(type='mmdet.RandomChoiceResize',
         scales=[(8192, int(x * 0.1 * 2048)) for x in range(5, 21)], keep_ratio=True),
    crop_size=crop_size, backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, backend_args=backend_args)
# Test-time augmentation (tools/test.py CONFIG CKPT --tta): the test scale first
# (the reference view the others are mapped onto), then x0.75 and x1.25, each
# with and without a horizontal flip.
tta_model = dict(type='PanopticTTAModel')
tta_pipeline = tta_pipeline(test_scale, backend_args=backend_args)
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('training/panoptic/panoptic_2018.json', 'training/images/', 'training/panoptic/'),
    val=split('validation/panoptic/panoptic_2018.json', 'validation/images/',
              'validation/panoptic/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline,
    filter_cfg=dict(filter_empty_gt=True))
# PQ, instance AP (mmdet's CocoMetric on the thing segments) and semantic mIoU
# (mmseg's IoUMetric on the label map) from one run.
val_evaluator = image_evaluators()
test_evaluator = val_evaluator
