# COCO panoptic 2017.  Prepare it as described in docs/dataset_prepare.md:
#   data/coco/{train2017,val2017}/*.jpg
#   data/coco/annotations/panoptic_{train2017,val2017}.json
#   data/coco/annotations/panoptic_{train2017,val2017}/*.png
# Class lists come from the annotation file (80 things, 53 stuff).
dataset_type = 'CocoPanopticDataset'
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(1333, 800), keep_ratio=True),
    # Loaded after Resize: the gt used by the metric stays at original size.
    dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
         with_seg=False, with_panoptic=True, backend_args=backend_args),
    dict(type='PackPanopticInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

# Test-time augmentation (tools/test.py CONFIG CKPT --tta): the test scale first
# (the reference view the others are mapped onto), then x0.75 and x1.25, each
# with and without a horizontal flip.
tta_model = dict(type='PanopticTTAModel')
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='mmdet.Resize', scale=(1333, 800), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(1000, 600), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(1666, 1000), keep_ratio=True)],
             [dict(type='mmdet.RandomFlip', prob=0.), dict(type='mmdet.RandomFlip', prob=1.)],
             [dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
                   with_seg=False, with_panoptic=True, backend_args=backend_args)],
             [dict(type='PackPanopticInputs',
                   meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                              'flip', 'flip_direction'))],
         ])
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='mmdet.AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# PQ, instance AP (mmdet's CocoMetric on the thing segments) and semantic mIoU
# (mmseg's IoUMetric on the label map) from one run.
val_evaluator = [
    dict(type='PanopticQualityMetric'),
    # the official instances JSON (mmdet's path; an error when it is missing).  Without
    # it: --cfg-options val_evaluator.1.gt_source=panoptic val_evaluator.1.ann_file=None
    dict(type='InstanceFromPanopticMetric', metric=['bbox', 'segm'], gt_source='instances_json',
         ann_file=data_root + 'annotations/instances_val2017.json'),
    dict(type='SemanticIoUMetric'),
]
# Settings that differ from the mmdet config this one reproduces, with why
# (tests/test_models/test_mmdet_parity.py checks that no other one differs).
reference_differences = dict(
    evaluator='PQ is computed in memory with panopticapi\'s rules (the numbers of '
    'mmdet\'s CocoPanopticMetric, tested) instead of writing PNGs; instance AP is mmdet\'s '
    'CocoMetric (on instances_val2017.json when present, else on the panoptic thing '
    'segments) and semantic mIoU mmseg\'s IoUMetric, for every model')
test_evaluator = val_evaluator
