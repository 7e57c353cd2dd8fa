# K-Net, ResNet-50 + FPN, COCO panoptic counts (Zhang et al., NeurIPS 2021):
# 100 thing kernels + one kernel per stuff class, 3 kernel-update stages, as
# the official knet_s3_r50_fpn_panoptic.py: sigmoid class scores, features
# gathered under each kernel's binary mask, thing kernels Hungarian-matched
# (focal 2 + mask 1 + dice 4), stuff kernel j fixed to stuff class j, focal
# (2.0) + BCE (1.0) + dice (4.0) + rank (0.1) losses on dense masks, and the
# official panoptic merge (overlap 0.6, thing score 0.3).
# Our earlier softmax variant (shared Mask2Former criterion and inference):
# the model overrides of configs/knet/knet-s3_r18_fpn_softmax_toy.py.
num_things_classes = 80
num_stuff_classes = 53
feat_channels = 256

model = dict(
    type='KNet',
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
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='mmdet.FPN', in_channels=[256, 512, 1024, 2048],
              out_channels=feat_channels, num_outs=4),
    panoptic_head=dict(
        type='KNetKernelHead',
        in_channels=feat_channels,
        feat_channels=feat_channels,
        num_proposals=100,
        num_levels=4,
        num_stages=3,
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        cls_activation='sigmoid',
        kernel_update_head=dict(
            type='KNetUpdateHead',
            mask_gather='sigmoid_hard',
            num_ffn_fcs=2,
            num_heads=8,
            num_mask_fcs=1,
            feedforward_channels=2048,
            dropout=0.0,
            conv_kernel_size=1,
            ffn_act_cfg=dict(type='ReLU', inplace=True),
            with_ffn=True,
            feat_transform_cfg=dict(conv_cfg=dict(type='Conv2d'), act_cfg=None),
            kernel_updator_cfg=dict(
                type='mmseg.KernelUpdator',
                in_channels=feat_channels,
                feat_channels=feat_channels,
                out_channels=feat_channels,
                act_cfg=dict(type='ReLU', inplace=True),
                norm_cfg=dict(type='LN')))),
    criterion=dict(
        type='KNetCriterion',
        cost_class=2.0, cost_mask=1.0, cost_dice=4.0,
        loss_cls_weight=2.0, loss_mask_weight=1.0, loss_dice_weight=4.0,
        loss_rank_weight=0.1),
    fusion=dict(type='KNetFusion', overlap_thr=0.6, instance_score_thr=0.3),
    init_cfg=None)
