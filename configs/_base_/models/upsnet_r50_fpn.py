# UPSNet, ResNet-50 + FPN (Xiong et al., CVPR 2019), COCO counts.
# Panoptic FPN's Mask R-CNN branch unchanged; the semantic head becomes the
# deformable one and the heuristic merge becomes the parameter-free panoptic
# head.  Loss weights are UPSNet's COCO values (semantic 0.2, panoptic 0.1).
_base_ = './panoptic-fpn_r50_fpn.py'

num_things_classes = 80
num_stuff_classes = 53

model = dict(
    type='UPSNet',
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    semantic_head=dict(
        _delete_=True,
        type='UPSNetSemanticHead',
        in_channels=256,
        channels=128,  # per level; 4 levels concatenated = 512
        num_convs=2,
        conv_cfg=dict(type='DCNv2', deform_groups=1),  # mmcv's compiled op
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_weight=0.2),
    fusion=dict(
        _delete_=True,
        type='UPSNetFusion',
        score_thr=0.5,
        overlap_thr=0.3,  # UPSNet's mask removal
        stuff_area_limit=4096),
    panoptic_loss=dict(
        type='UPSNetPanopticLoss',
        box_keep_fraction=0.7,  # 30% of gt instances train the unknown class
        loss_weight=0.1),
    test_cfg=dict(
        # UPSNet removes duplicates across classes before composing.
        rcnn=dict(nms=dict(type='nms', iou_threshold=0.5, class_agnostic=True))))
