# Mask2Former, ResNet-50, COCO panoptic counts (Cheng et al., CVPR 2022).
# Numbers follow the paper / mmdet's release: 100 queries, 9 decoder layers
# (3 rounds over the 1/32, 1/16, 1/8 levels), 6 MSDeformAttn encoder layers,
# 12544 = 112 x 112 sampled points for the mask losses.
# Class counts are written once; a config for other data overrides these two.
num_things_classes = 80
num_stuff_classes = 53

model = dict(
    type='Mask2Former',
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
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    panoptic_head=dict(
        type='Mask2FormerQueryHead',
        in_channels=[256, 512, 1024, 2048],
        feat_channels=256,
        out_channels=256,
        num_queries=100,
        num_transformer_feat_level=3,
        pixel_decoder=dict(
            type='mmdet.MSDeformAttnPixelDecoder',  # on mmcv's compiled MSDeformAttn op
            strides=[4, 8, 16, 32],
            num_outs=3,
            norm_cfg=dict(type='GN', num_groups=32),
            act_cfg=dict(type='ReLU'),
            encoder=dict(
                num_layers=6,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=256, num_heads=8, num_levels=3,
                                       num_points=4, dropout=0.0, batch_first=True),
                    ffn_cfg=dict(embed_dims=256, feedforward_channels=1024, num_fcs=2,
                                 ffn_drop=0.0, act_cfg=dict(type='ReLU', inplace=True)))),
            positional_encoding=dict(num_feats=128, normalize=True)),
        positional_encoding=dict(num_feats=128, normalize=True),
        transformer_decoder=dict(
            type='Mask2FormerTransformerDecoder',
            return_intermediate=True,
            num_layers=9,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0,
                                   batch_first=True),
                cross_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0,
                                    batch_first=True),
                ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2,
                             ffn_drop=0.0, act_cfg=dict(type='ReLU', inplace=True))),
            init_cfg=None)),
    criterion=dict(
        type='MaskSetCriterion',
        matcher=dict(type='HungarianMaskMatcher', cost_class=2.0, cost_mask=5.0,
                     cost_dice=5.0, mask_cost='bce', num_points=12544),
        no_object_weight=0.1,
        loss_cls_weight=2.0,
        loss_mask_weight=5.0,
        loss_dice_weight=5.0,
        mask_loss='bce',
        num_points=12544,
        oversample_ratio=3.0,
        importance_sample_ratio=0.75),
    fusion=dict(
        type='MaskClassificationFusion',
        object_mask_thr=0.8,
        iou_thr=0.8,
        # Mask2Former (detectron2 and mmdet) drops a query's pixels whose own
        # mask probability is below 0.5; MaskFormer does not.
        filter_low_score=True,
        panoptic_on=True,
        semantic_on=False,
        instance_on=True,
        max_per_image=100),
    init_cfg=None)
