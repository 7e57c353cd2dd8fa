# COCO panoptic 2017.  Prepare it as described in docs/dataset_prepare.md:
#   data/coco/{train2017,val2017}/*.jpg
#   data/coco/annotations/panoptic_{train2017,val2017}.json
#   data/coco/annotations/panoptic_{train2017,val2017}/*.png
# Class lists come from the annotation file (80 things, 53 stuff).
# Pipelines, loaders and evaluators come from mmpanoptic/config_builders.py
# (written once for every dataset; `_base_` first keeps this a classic mmengine config).
_base_ = []
from mmpanoptic.config_builders import (  # noqa: E402
    coco_panoptic_data,
    coco_reference_differences,
    test_pipeline,
    train_pipeline,
    tta_pipeline,
)

dataset_type = 'CocoPanopticDataset'  # (the loaders below name it themselves)
data_root = 'data/coco/'
backend_args = None
test_scale = (1333, 800)

train_pipeline = train_pipeline(
    dict(type='mmdet.Resize', scale=test_scale, keep_ratio=True), backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, backend_args=backend_args)
# Test-time augmentation (tools/test.py CONFIG CKPT --tta): the test scale first
# (the reference view the others are mapped onto), then x0.75 and x1.25, each
# with and without a horizontal flip.
tta_model = dict(type='PanopticTTAModel')
tta_pipeline = tta_pipeline(test_scale, backend_args=backend_args)
# COCO's splits, mmdet's samplers and filter, PQ + instance AP on the official
# instances JSON + mIoU (see coco_panoptic_data for how to run without that file).
train_dataloader, val_dataloader, test_dataloader, val_evaluator = coco_panoptic_data(
    data_root, train_pipeline, test_pipeline)
# Settings that differ from the mmdet config this one reproduces, with why
# (tests/test_models/test_mmdet_parity.py checks that no other one differs).
reference_differences = coco_reference_differences()
test_evaluator = val_evaluator
