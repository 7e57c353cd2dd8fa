# The toy K-Net with our earlier recipe instead of the official one: softmax
# over C classes + "no object", every kernel (things and stuff) matched by
# Mask2Former's criterion, mmseg's softmax feature gathering and the shared
# mask-classification inference; compared with the official recipe in
# docs/query_models.md.  The same `model` overrides (with 12544 points) turn
# any K-Net config into this variant; an open vocabulary needs it.
#   python tools/train.py configs/knet/knet-s3_r18_fpn_softmax_toy.py
_base_ = './knet-s3_r18_fpn_toy.py'
model = dict(
    panoptic_head=dict(
        cls_activation='softmax',
        kernel_update_head=dict(mask_gather='softmax')),
    # 32x32 mask logits hold 1024 pixels: sample that many points.
    criterion=dict(
        _delete_=True,
        type='MaskSetCriterion',
        matcher=dict(type='HungarianMaskMatcher', cost_class=2.0, cost_mask=5.0,
                     cost_dice=5.0, mask_cost='bce', num_points=1024),
        no_object_weight=0.1,
        loss_cls_weight=2.0,
        loss_mask_weight=5.0,
        loss_dice_weight=5.0,
        mask_loss='bce',
        num_points=1024),
    fusion=dict(_delete_=True, type='MaskClassificationFusion', object_mask_thr=0.8,
                iou_thr=0.8, panoptic_on=True, semantic_on=False, instance_on=False))
