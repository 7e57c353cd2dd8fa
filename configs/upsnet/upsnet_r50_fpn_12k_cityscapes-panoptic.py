# UPSNet R50 on Cityscapes panoptic (8 things, 11 stuff), UPSNet's recipe:
# 12k iterations at batch 16, lr 0.02 dropped at 9k, semantic loss 1.0,
# panoptic loss 0.5, stuff segments below 2048 px dropped.  UPSNet trains on
# whole images with the short side 800..1024; here the shared Cityscapes
# pipeline (scale jitter + 512x1024 crops) is used.
_base_ = [
    '../_base_/models/upsnet_r50_fpn.py',
    '../_base_/datasets/cityscapes_panoptic.py',
    '../_base_/default_runtime.py',
]
num_things_classes = 8
num_stuff_classes = 11

model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    roi_head=dict(bbox_head=dict(num_classes=num_things_classes),
                  mask_head=dict(num_classes=num_things_classes)),
    semantic_head=dict(loss_weight=1.0),
    fusion=dict(stuff_area_limit=2048),
    panoptic_loss=dict(loss_weight=0.5))

max_iters = 12000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[9000],
         gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=16)
