# DETR panoptic R50 on COCO panoptic, DETR's two stages in one config: the
# detector (every thing and stuff segment a box) with the mask head learning
# at the same time.  DETR trained the detector first (500 epochs, 64 GPUs)
# and then only the mask head for 25 epochs (detr_r50_mask-head_coco-panoptic.py
# reproduces that stage from this one's checkpoint).  Paper: 43.4 PQ.
_base_ = [
    '../_base_/models/detr_r50.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime.py',
]
from mmpanoptic.config_builders import detr_train_pipeline  # noqa: E402

train_pipeline = detr_train_pipeline()
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))

max_epochs = 500
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1, decay_mult=1.0)}))
param_scheduler = dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
                       milestones=[400], gamma=0.1)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=64)
