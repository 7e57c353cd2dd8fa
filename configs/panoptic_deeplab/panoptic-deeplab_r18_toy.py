# Panoptic-DeepLab trained from scratch on the bundled toy data (128x128) on CPU.
#   python tools/dataset_converters/make_toy_panoptic.py --out data/toy
#   python tools/train.py configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py
_base_ = [
    '../_base_/models/panoptic-deeplab_r50.py',
    '../_base_/datasets/toy_panoptic.py',
    '../_base_/default_runtime.py',
]

# The only place the class counts of the toy data are written.
num_things_classes = 4  # ellipse, box, triangle, ring
num_stuff_classes = 4  # sky, grass, water, sand
in_channels = [64, 128, 256, 512]  # ResNet-18

model = dict(
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    backbone=dict(depth=18, init_cfg=None),  # from scratch (no download)
    decode_head=dict(
        # A 128 px image is 8x8 at stride 16: dilations 6..18 would look past it.
        semantic_decoder=dict(in_channels=in_channels, aspp_channels=64,
                              aspp_dilations=(1, 2, 3), decoder_channels=64),
        instance_decoder=dict(in_channels=in_channels, aspp_channels=64,
                              aspp_dilations=(1, 2, 3), decoder_channels=64),
        semantic_head_channels=64),
    criterion=dict(
        sigma=3.0,  # toy things are 13..40 px wide (COCO / Cityscapes: 8)
        small_instance_area=0),  # every toy thing is small: no reweighting
    # COCO's 4096 px stuff limit is 1.3% of a 640x480 image; ~200 px here.
    fusion=dict(nms_kernel=5, stuff_area=200))

max_iters = 2000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=100, end=max_iters),
]
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=25)
randomness = dict(seed=0)
