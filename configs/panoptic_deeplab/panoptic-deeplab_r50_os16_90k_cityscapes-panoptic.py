# Panoptic-DeepLab R50 on Cityscapes panoptic (8 things, 11 stuff), the
# paper's recipe scaled to mmengine: 90k iterations, batch 32 (8 GPUs x 4),
# Adam lr 1e-3 with poly decay, 512x1024 crops of images jittered 0.5..2.0.
# The paper crops 1025x2049; 512x1024 is what fits 4 images per 32 GB GPU.
_base_ = [
    '../_base_/models/panoptic-deeplab_r50.py',
    '../_base_/datasets/cityscapes_panoptic.py',
    '../_base_/default_runtime.py',
]
num_things_classes = 8
num_stuff_classes = 11

model = dict(num_things_classes=num_things_classes, num_stuff_classes=num_stuff_classes)
train_dataloader = dict(batch_size=4)

max_iters = 90000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=1000, end=max_iters),
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=3))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(enable=False, base_batch_size=32)
