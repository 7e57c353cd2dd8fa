# Panoptic-DeepLab R50 on COCO panoptic (80 things, 53 stuff), detectron2's
# COCO recipe: 640x640 crops of images jittered 0.5..1.5 around 640 px,
# batch 64 (8 GPUs x 8), Adam lr 5e-4, poly decay over 200k iterations;
# stuff segments below 4096 px dropped (COCO's convention).
_base_ = [
    '../_base_/models/panoptic-deeplab_r50.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime.py',
]
crop_size = (640, 640)
model = dict(fusion=dict(stuff_area=4096))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPanopticAnnotations'),
    dict(type='mmdet.RandomResize', scale=(640, 640), ratio_range=(0.5, 1.5),
         keep_ratio=True),
    dict(type='mmdet.RandomCrop', crop_size=crop_size, crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='PackPanopticInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(640, 640), keep_ratio=True),
    dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
         with_seg=False, with_panoptic=True),
    dict(type='PackPanopticInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

# Test-time augmentation (tools/test.py CONFIG CKPT --tta): the test scale first
# (the reference view the others are mapped onto), then x0.75 and x1.25, each
# with and without a horizontal flip.
tta_model = dict(type='PanopticTTAModel')
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='mmdet.Resize', scale=(640, 640), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(480, 480), keep_ratio=True),
             dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True)],
             [dict(type='mmdet.RandomFlip', prob=0.), dict(type='mmdet.RandomFlip', prob=1.)],
             [dict(type='LoadPanopticAnnotations', with_bbox=False, with_mask=False,
                   with_seg=False, with_panoptic=True)],
             [dict(type='PackPanopticInputs',
                   meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                              'flip', 'flip_direction'))],
         ])
]
train_dataloader = dict(
    batch_size=8,
    batch_sampler=None,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 200000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.0),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=1000, end=max_iters),
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=64)
