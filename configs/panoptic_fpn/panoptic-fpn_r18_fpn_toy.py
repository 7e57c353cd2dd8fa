# Panoptic FPN trained from scratch on the bundled toy data (128x128 images)
# in about 10 minutes on 2 CPU cores.  The main job of README's first command.
_base_ = [
    '../_base_/models/panoptic-fpn_r50_fpn.py',
    '../_base_/datasets/toy_panoptic.py',
    '../_base_/default_runtime.py',
]

# The only place the class counts of the toy data are written.
num_things_classes = 4  # ellipse, box, triangle, ring
num_stuff_classes = 4  # sky, grass, water, sand
channels = 64  # FPN width: a quarter of COCO's 256 keeps a CPU step fast

model = dict(
    backbone=dict(
        depth=18,
        frozen_stages=-1,  # from scratch: everything trains...
        norm_eval=False,  # ...including BN statistics
        init_cfg=None),  # no pretrained weights (no download)
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    rpn_head=dict(
        in_channels=channels,
        feat_channels=channels,
        # Base sizes 16..256 px at strides 4..64: toy things are 13..40 px.
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=256,
                       num_classes=num_things_classes),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(num_convs=2, in_channels=channels, conv_out_channels=channels,
                       num_classes=num_things_classes)),
    semantic_head=dict(
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        in_channels=channels,
        inner_channels=64,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True)),
    fusion=dict(
        num_things=num_things_classes,
        num_stuff=num_stuff_classes,
        score_thr=0.5,
        # COCO's 4096 px is 1.3% of a 640x480 image; the same share of
        # 128x128 is ~200 px.
        stuff_area_limit=200),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=200),
        # The toy keeps per-class NMS and a 0.05 box threshold (the merge
        # drops boxes below 0.5): the documented toy result was made so.
        rcnn=dict(max_per_img=30, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.5, class_agnostic=False))))

max_iters = 1000  # ~0.5 s per step of 4 images on 2 CPU cores
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=10.0))  # from scratch: early steps spike
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-4),
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2))
log_processor = dict(by_epoch=False, window_size=25)
randomness = dict(seed=0)
