# DETR panoptic, ResNet-50, COCO panoptic counts (Carion et al., ECCV 2020).
# A 1x1 projection of the 1/32 level, 6 encoder + 6 decoder layers (width 256,
# 8 heads, dropout 0.1), 100 queries starting at zero with learned positions,
# a class layer and a box MLP on every decoder layer; the mask head reads the
# last layer's attention maps over the encoder output and upsamples with the
# 1/16, 1/8 and 1/4 levels.  Losses: class 1 (0.1 for "no object"), L1 5,
# GIoU 2 on every layer, focal 1 + dice 1 on the masks.
num_things_classes = 80
num_stuff_classes = 53
width = 256
attn = dict(embed_dims=width, num_heads=8, dropout=0.1, batch_first=True)
ffn = dict(embed_dims=width, feedforward_channels=2048, num_fcs=2, ffn_drop=0.1,
           act_cfg=dict(type='ReLU', inplace=True))

model = dict(
    type='DETRPanoptic',
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,  # DETR pads only to the batch's largest image
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
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    panoptic_head=dict(
        type='DETRPanopticHead',
        in_channels=[256, 512, 1024, 2048],
        num_queries=100,
        encoder=dict(num_layers=6, layer_cfg=dict(self_attn_cfg=attn, ffn_cfg=ffn)),
        decoder=dict(num_layers=6, return_intermediate=True,
                     layer_cfg=dict(self_attn_cfg=attn, cross_attn_cfg=attn, ffn_cfg=ffn)),
        positional_encoding=dict(num_feats=width // 2, normalize=True)),
    criterion=dict(type='DETRSetCriterion', no_object_weight=0.1, loss_cls_weight=1.0,
                   loss_bbox_weight=5.0, loss_giou_weight=2.0, loss_mask_weight=1.0,
                   loss_dice_weight=1.0),
    # DETR's PostProcessPanoptic (threshold 0.85, segments > 4 pixels).
    fusion=dict(type='DETRPanopticFusion', object_mask_thr=0.85, min_area=4, instance_on=True),
    init_cfg=None)
