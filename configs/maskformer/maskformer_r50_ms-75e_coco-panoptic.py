# MaskFormer R50 on COCO panoptic (16 GPUs x 1 image, 75 epochs of 1333x800
# multi-scale).  Paper: 46.5 PQ.
_base_ = [
    '../_base_/models/maskformer_r50.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import detr_train_pipeline  # noqa: E402

# MaskFormer's (DETR's) augmentation: flip, then either a multi-scale resize
# (shorter side 480..800) or resize -> random crop (384..600) -> resize.
train_pipeline = detr_train_pipeline()
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))

max_epochs = 75
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.0001, eps=1e-8,
                   betas=(0.9, 0.999)),
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1, decay_mult=1.0),
        'query_embed': dict(lr_mult=1.0, decay_mult=0.0)
    }, norm_decay_mult=0.0),
    clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
                       milestones=[50], gamma=0.1)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=16)
