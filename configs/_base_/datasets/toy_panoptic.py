# The bundled procedural dataset (no download):
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
# 128x128 images, 4 thing classes (ellipse, box, triangle, ring) and
# 4 stuff classes (sky, grass, water, sand); see mmpanoptic/datasets/toy_panoptic.py.
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
data_root = 'data/toy/'
backend_args = None
test_scale = (128, 128)

# Resize to the native size: keeps scale_factor in the metainfo and lets toy
# data generated at another size still train at 128 px.
train_pipeline = train_pipeline(
    dict(type='mmdet.Resize', scale=test_scale, keep_ratio=True), backend_args=backend_args)
test_pipeline = test_pipeline(test_scale, backend_args=backend_args)
# num_workers=0: on 2 cores a loader process would steal a core from the
# model; decoding 128 px PNGs in the main process costs ~1 ms per image.
train_dataloader, val_dataloader, test_dataloader = dataloaders(
    dataset_type, data_root,
    train=split('annotations/panoptic_train2017.json', 'train2017/',
                'annotations/panoptic_train2017/'),
    val=split('annotations/panoptic_val2017.json', 'val2017/', 'annotations/panoptic_val2017/'),
    train_pipeline=train_pipeline, test_pipeline=test_pipeline, batch_size=4,
    val_batch_size=4, num_workers=0, filter_cfg=dict(filter_empty_gt=True))

# PQ, instance AP (mmdet's CocoMetric on the thing segments) and semantic mIoU
# (mmseg's IoUMetric on the label map) from one run.
val_evaluator = image_evaluators()
test_evaluator = val_evaluator

# Test-time augmentation (tools/test.py CONFIG CKPT --tta): 3 scales x 2 flips.
# The first view is the plain test view: the others are mapped onto it.
tta_model = dict(type='PanopticTTAModel')
tta_pipeline = tta_pipeline(test_scale, ratios=(1.0, 0.875, 1.25), backend_args=backend_args)
