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
dataset_type = 'CocoPanopticDataset'
data_root = 'data/mapillary/'
backend_args = None
crop_size = (1024, 1024)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='mmdet.RandomChoiceResize',
         scales=[(8192, int(x * 0.1 * 2048)) for x in range(5, 21)], keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(2048, 2048), keep_ratio=True),
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
             [dict(type='mmdet.Resize', scale=(2048, 2048), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(1536, 1536), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(2560, 2560), keep_ratio=True)],
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
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='training/panoptic/panoptic_2018.json',
        data_prefix=dict(img='training/images/', seg='training/panoptic/'),
        filter_cfg=dict(filter_empty_gt=True),
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
        ann_file='validation/panoptic/panoptic_2018.json',
        data_prefix=dict(img='validation/images/', seg='validation/panoptic/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# PQ, instance AP (mmdet's CocoMetric on the thing segments) and semantic mIoU
# (mmseg's IoUMetric on the label map) from one run.
val_evaluator = [
    dict(type='PanopticQualityMetric'),
    dict(type='InstanceFromPanopticMetric', metric=['bbox', 'segm']),
    dict(type='SemanticIoUMetric'),
]
test_evaluator = val_evaluator
