# ADE20K panoptic (150 classes: 100 things, 50 stuff), converted to COCO
# panoptic format as in docs/dataset_prepare.md:
#   data/ade/ADEChallengeData2016/images/{training,validation}/*.jpg
#   data/ade/ADEChallengeData2016/ade20k_panoptic_{train,val}.json
#   data/ade/ADEChallengeData2016/ade20k_panoptic_{train,val}/*.png
# Mask2Former's recipe: shorter side jittered 320..1280 (0.5..2.0 x 640),
# 640x640 crops; test at shorter side 640 (max 2560).
dataset_type = 'ADE20KPanopticDataset'
data_root = 'data/ade/ADEChallengeData2016/'
backend_args = None
crop_size = (640, 640)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='mmdet.RandomResize', scale=(2560, 640), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(2560, 640), keep_ratio=True),
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
             [dict(type='mmdet.Resize', scale=(2560, 640), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(1920, 480), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(3200, 800), keep_ratio=True)],
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
        ann_file='ade20k_panoptic_train.json',
        data_prefix=dict(img='images/training/', seg='ade20k_panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=False),
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
        ann_file='ade20k_panoptic_val.json',
        data_prefix=dict(img='images/validation/', seg='ade20k_panoptic_val/'),
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
