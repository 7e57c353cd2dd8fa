# K-Net as mmpanoptic first built it: the official architecture with a softmax
# over C classes + "no object", every kernel (things and stuff) matched by the
# Hungarian matcher of Mask2Former's criterion (BCE + dice on 12544 sampled
# points), mmseg's softmax feature gathering, and the shared
# mask-classification inference.  Compared with the official recipe on the
# bundled data in docs/query_models.md.
_base_ = './knet_r50_fpn.py'
model = dict(
    panoptic_head=dict(
        cls_activation='softmax',
        kernel_update_head=dict(mask_gather='softmax')),
    criterion=dict(
        _delete_=True,
        type='MaskSetCriterion',
        matcher=dict(type='HungarianMaskMatcher', cost_class=2.0, cost_mask=5.0,
                     cost_dice=5.0, mask_cost='bce', num_points=12544),
        no_object_weight=0.1,
        loss_cls_weight=2.0,
        loss_mask_weight=5.0,
        loss_dice_weight=5.0,
        mask_loss='bce',
        num_points=12544),
    fusion=dict(_delete_=True, type='MaskClassificationFusion', object_mask_thr=0.8,
                iou_thr=0.8, panoptic_on=True, semantic_on=False, instance_on=False))
