# MaskFormer, ResNet-50, COCO panoptic counts (Cheng et al., NeurIPS 2021).
# A 6-layer transformer encoder on the 1/32 level, a 6-layer DETR decoder
# with global cross-attention, 100 queries, focal (20) + dice (1) mask losses
# on full masks, class weight 1 with 0.1 for "no object".
num_things_classes = 80
num_stuff_classes = 53

model = dict(
    type='MaskFormer',
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,  # MaskFormer pads only to the batch's largest image
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
        type='MaskFormerQueryHead',
        in_channels=[256, 512, 1024, 2048],
        feat_channels=256,
        out_channels=256,
        num_queries=100,
        pixel_decoder=dict(
            type='mmdet.TransformerEncoderPixelDecoder',
            norm_cfg=dict(type='GN', num_groups=32),
            act_cfg=dict(type='ReLU'),
            encoder=dict(
                num_layers=6,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1,
                                       batch_first=True),
                    ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2,
                                 ffn_drop=0.1, act_cfg=dict(type='ReLU', inplace=True)))),
            positional_encoding=dict(num_feats=128, normalize=True)),
        enforce_decoder_input_project=False,
        positional_encoding=dict(num_feats=128, normalize=True),
        transformer_decoder=dict(
            type='DetrTransformerDecoder',
            num_layers=6,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1,
                                   batch_first=True),
                cross_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1,
                                    batch_first=True),
                ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, num_fcs=2,
                             ffn_drop=0.1, act_cfg=dict(type='ReLU', inplace=True))),
            return_intermediate=True)),
    criterion=dict(
        type='MaskSetCriterion',
        matcher=dict(type='HungarianMaskMatcher', cost_class=1.0, cost_mask=20.0,
                     cost_dice=1.0, mask_cost='focal', num_points=None),
        no_object_weight=0.1,
        loss_cls_weight=1.0,
        loss_mask_weight=20.0,
        loss_dice_weight=1.0,
        mask_loss='focal',
        num_points=None),
    fusion=dict(
        type='MaskClassificationFusion',
        object_mask_thr=0.8,
        iou_thr=0.8,
        panoptic_on=True,
        semantic_on=False,
        instance_on=False),
    init_cfg=None)
