# UPSNet R50 on COCO panoptic.  UPSNet trains 90k iterations at batch 16
# (lr 0.02, steps at 60k / 80k): the 1x schedule in epochs.
_base_ = [
    '../_base_/models/upsnet_r50_fpn.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime.py',
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
