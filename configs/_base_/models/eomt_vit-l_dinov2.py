# EoMT, ViT-L/16 on DINOv2 with 4 registers, COCO panoptic counts (Kerssies et
# al., CVPR 2025; tue-mps/eomt).  The ViT's last 4 blocks take 200 queries;
# every one of them predicts (deep supervision) and masks the queries'
# attention until MaskAnnealingHook has annealed the masks away.
# Class counts are written once; a config for other data overrides these two.
num_things_classes = 80
num_stuff_classes = 53
img_size = 640

model = dict(
    type='EoMT',
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet, as DINOv2
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        # The pipeline pads the images to img_size with black pixels (PadToSize, as
        # EoMT); the data preprocessor only pads the masks of a batch.
        pad_size_divisor=16,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    backbone=dict(
        type='ViT',
        embed_dims=1024,
        depth=24,
        num_heads=16,
        patch_size=16,  # DINOv2's 14-pixel kernel resampled to 16 (FlexiViT), as EoMT
        img_size=img_size,
        num_register_tokens=4,
        layer_scale=1.0,
        drop_path_rate=0.0,
        # A save_pretrained folder of facebook/dinov2-with-registers-large (no
        # download at run time: fetch it once, e.g. with huggingface-cli).
        pretrained='data/pretrained/dinov2-with-registers-large'),
    panoptic_head=dict(type='EoMTHead', num_queries=200, num_blocks=4, num_upscale=2),
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
    # EoMT's panoptic inference: class score > 0.8, a query keeps >= 80 % of
    # its mask, only its own pixels with probability >= 0.5, stuff merged.
    fusion=dict(
        type='MaskClassificationFusion',
        object_mask_thr=0.8,
        iou_thr=0.8,
        filter_low_score=True,
        panoptic_on=True,
        semantic_on=False,
        instance_on=True,
        max_per_image=100),
    init_cfg=None)
