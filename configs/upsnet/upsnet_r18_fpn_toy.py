# UPSNet trained from scratch on the bundled toy data (128x128) on CPU.
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/upsnet/upsnet_r18_fpn_toy.py
# The Mask R-CNN branch is the Panoptic FPN toy's at half its FPN width: the
# backward of mmcv's CPU deformable conv costs ~10x its forward and grows with
# the input width (FPN 64 -> 1.3 s per step, FPN 32 -> ~0.8 s on 2 cores).
_base_ = [
    '../_base_/models/upsnet_r50_fpn.py',
    '../_base_/datasets/toy_panoptic.py',
    '../_base_/default_runtime.py',
]

# The only place the class counts of the toy data are written.
num_things_classes = 4  # ellipse, box, triangle, ring
num_stuff_classes = 4  # sky, grass, water, sand
channels = 32  # FPN width (COCO: 256)

model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels,
                  anchor_generator=dict(scales=[4])),  # toy things are 13..40 px
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=256,
                       num_classes=num_things_classes),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(num_convs=2, in_channels=channels, conv_out_channels=64,
                       num_classes=num_things_classes)),
    semantic_head=dict(in_channels=channels, channels=32, num_convs=1,  # one DCNv2 layer
                       norm_cfg=dict(type='GN', num_groups=8, requires_grad=True),
                       loss_weight=1.0),
    # ~200 px is COCO's 4096 px share of the image at 128 px.
    fusion=dict(score_thr=0.5, stuff_area_limit=200),
    panoptic_loss=dict(loss_weight=0.5),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(max_per_img=30)))

max_iters = 1000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-4),
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2))
log_processor = dict(by_epoch=False, window_size=25)
randomness = dict(seed=0)
