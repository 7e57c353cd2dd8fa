# Panoptic-DeepLab, ResNet-50 at output stride 16 (Cheng et al., CVPR 2020).
# Widths follow the paper: semantic decoder 256 (low-level projections 64 / 32,
# head 256), instance decoder 128 (projections 32 / 16, heads 32), ASPP
# dilations 6 / 12 / 18 at stride 16.  COCO counts; other data overrides the
# two class counts below.
num_things_classes = 80
num_stuff_classes = 53
norm_cfg = dict(type='BN', requires_grad=True)

model = dict(
    type='PanopticDeepLab',
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    backbone=dict(
        type='mmdet.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 2, 1),  # output stride 16: the last stage is dilated
        dilations=(1, 1, 1, 2),
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    decode_head=dict(
        type='PanopticDeepLabHead',
        semantic_decoder=dict(
            type='DeepLabV3PlusDecoder',
            in_channels=[256, 512, 1024, 2048],
            aspp_channels=256,
            aspp_dilations=(1, 6, 12, 18),
            low_level_indices=(1, 0),  # stride 8, then stride 4
            low_level_channels=(64, 32),
            decoder_channels=256,
            norm_cfg=norm_cfg),
        instance_decoder=dict(
            type='DeepLabV3PlusDecoder',
            in_channels=[256, 512, 1024, 2048],
            aspp_channels=256,
            aspp_dilations=(1, 6, 12, 18),
            low_level_indices=(1, 0),
            low_level_channels=(32, 16),
            decoder_channels=128,
            norm_cfg=norm_cfg),
        semantic_head_channels=256,
        instance_head_channels=32,
        norm_cfg=norm_cfg),
    criterion=dict(
        type='PanopticDeepLabCriterion',
        sigma=8.0,  # center Gaussian, pixels
        small_instance_area=4096,  # 64 x 64 px instances weigh 3x in the semantic loss
        small_instance_weight=3.0,
        top_k=0.2,  # semantic loss on the hardest 20% of pixels
        loss_weights=dict(sem=1.0, center=200.0, offset=0.01)),
    fusion=dict(type='CenterGroupingFusion', center_threshold=0.1, nms_kernel=7, top_k=200,
                stuff_area=2048))
