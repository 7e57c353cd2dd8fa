# Cityscapes panoptic (19 classes: 8 things, 11 stuff), converted with
# cityscapesscripts' createPanopticImgs (docs/dataset_prepare.md):
#   data/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
#   data/cityscapes/gtFine/cityscapes_panoptic_{train,val}.json
#   data/cityscapes/gtFine/cityscapes_panoptic_{train,val}/*.png
# Mask2Former's recipe: 1024x2048 images jittered 0.5..2.0, 512x1024 crops;
# test at full resolution.
dataset_type = 'CityscapesPanopticDataset'
data_root = 'data/cityscapes/'
backend_args = None
crop_size = (512, 1024)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='mmdet.RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(2048, 1024), keep_ratio=True),
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
             [dict(type='mmdet.Resize', scale=(2048, 1024), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(1536, 768), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(2560, 1280), keep_ratio=True)],
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
        ann_file='gtFine/cityscapes_panoptic_train.json',
        data_prefix=dict(img='leftImg8bit/train/', seg='gtFine/cityscapes_panoptic_train/'),
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
        ann_file='gtFine/cityscapes_panoptic_val.json',
        data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/'),
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
