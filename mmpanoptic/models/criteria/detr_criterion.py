"""DETR's set-prediction loss with its panoptic mask terms."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_overlaps, bbox_xyxy_to_cxcywh
from mmdet.structures.mask import mask2bbox
from mmdet.utils import reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmpanoptic.registry import MODELS, TASK_UTILS

from .losses import dice_loss, sigmoid_focal_loss


def box_targets(masks: Tensor, img_shape: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """Boxes of segment masks: absolute (x1, y1, x2, y2) (x2 / y2 one past
    the last pixel, as COCO's ``[x, y, w, h]``) and normalised (cx, cy, w, h)
    by the image size inside the padding (DETR's convention)."""
    if len(masks) == 0:
        empty = masks.new_zeros((0, 4), dtype=torch.float32)
        return empty, empty
    boxes = mask2bbox(masks).float()  # inclusive: (x1, y1, x2 + 1, y2 + 1)
    h, w = img_shape
    norm = bbox_xyxy_to_cxcywh(boxes) / boxes.new_tensor([w, h, w, h])
    return boxes, norm


@MODELS.register_module()
class DETRSetCriterion(nn.Module):
    """Hungarian matching on classes and boxes (mmdet's ``HungarianAssigner``
    with DETR's costs: class 1, L1 5, GIoU 2), then cross-entropy ("no
    object" weighted ``no_object_weight``), L1 and GIoU box losses on every
    decoder layer, and the panoptic mask losses (sigmoid focal + dice on the
    masks upsampled to the target size) on the last layer's matched queries.
    Every segment, stuff included, is an object with a box, as in DETR's
    panoptic training.  Losses are averaged over the number of segments in
    the batch (over all processes).

    Why ours: mmdet's ``DETRHead`` owns its assignment and cannot hand the
    matched pairs to a mask loss; its assigner and match costs are used here
    by ``type=``.

    Args:
        num_classes: C.
        assigner: mmdet assigner config.
        no_object_weight: class weight of "no object".
        loss_cls_weight, loss_bbox_weight, loss_giou_weight,
        loss_mask_weight, loss_dice_weight: term weights (DETR's: 1, 5, 2, 1, 1).
        mask_losses: False to train only the detector (DETR's first stage).

    Returns from ``forward``: ``loss_cls`` / ``loss_bbox`` / ``loss_iou`` for
    the last layer and ``d{i}.*`` for the earlier ones (mmdet's names), plus
    ``loss_mask`` / ``loss_dice``.
    """

    def __init__(self,
                 *,
                 num_classes: int,
                 assigner: dict = dict(
                     type='mmdet.HungarianAssigner',
                     match_costs=[dict(type='mmdet.ClassificationCost', weight=1.0),
                                  dict(type='mmdet.BBoxL1Cost', weight=5.0, box_format='xywh'),
                                  dict(type='mmdet.IoUCost', iou_mode='giou', weight=2.0)]),
                 no_object_weight: float = 0.1,
                 loss_cls_weight: float = 1.0,
                 loss_bbox_weight: float = 5.0,
                 loss_giou_weight: float = 2.0,
                 loss_mask_weight: float = 1.0,
                 loss_dice_weight: float = 1.0,
                 mask_losses: bool = True) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.assigner = TASK_UTILS.build(assigner)
        self.weights = dict(cls=loss_cls_weight, bbox=loss_bbox_weight, iou=loss_giou_weight,
                            mask=loss_mask_weight, dice=loss_dice_weight)
        self.mask_losses = mask_losses
        weight = torch.ones(num_classes + 1)
        weight[-1] = no_object_weight
        self.register_buffer('class_weight', weight, persistent=False)

    def match(self, cls_logits: Tensor, boxes: Tensor, labels: Tensor, gt_boxes: Tensor,
              img_shape: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """(query indices, target indices) of one image."""
        if len(labels) == 0:
            empty = torch.zeros(0, dtype=torch.long, device=cls_logits.device)
            return empty, empty
        h, w = img_shape
        factor = boxes.new_tensor([w, h, w, h])
        # non-finite predictions matched as very bad ones (see finite_costs)
        pred = InstanceData(scores=torch.nan_to_num(cls_logits.detach(), nan=-1e4),
                            bboxes=bbox_cxcywh_to_xyxy(torch.nan_to_num(boxes.detach())) * factor)
        gt = InstanceData(labels=labels, bboxes=gt_boxes)
        res = self.assigner.assign(pred, gt, img_meta=dict(img_shape=img_shape))
        q = torch.nonzero(res.gt_inds > 0)[:, 0]
        return q, res.gt_inds[q] - 1

    def forward(self, outputs: Dict[str, List[Tensor]], targets: List[Tuple[Tensor, Tensor]],
                img_shapes: Sequence[Tuple[int, int]]) -> Dict[str, Tensor]:
        """Losses of all decoder layers.

        Args:
            outputs: the head's ``cls_logits`` and ``boxes`` per layer and
                ``mask_logits`` ([last layer]).
            targets: per image ``(labels (M,), masks (M, H, W) bool)`` at
                the padded input size.
            img_shapes: per image (h, w) inside the padding.
        """
        device = outputs['cls_logits'][-1].device
        boxes = [box_targets(masks, shape) for (_, masks), shape in zip(targets, img_shapes)]
        num = sum(len(labels) for labels, _ in targets)
        num = max(float(reduce_mean(torch.tensor(float(num), device=device))), 1.0)
        losses = {}
        layers = len(outputs['cls_logits'])
        last_match = None
        for i, (cls, box) in enumerate(zip(outputs['cls_logits'], outputs['boxes'])):
            prefix = '' if i == layers - 1 else f'd{i}.'
            matches = [self.match(cls[b], box[b], labels, boxes[b][0], img_shapes[b])
                       for b, (labels, _) in enumerate(targets)]
            last_match = matches
            target_cls = torch.full(cls.shape[:2], self.num_classes, dtype=torch.long,
                                    device=device)
            pred_boxes, gt_norm, gt_abs, factors = [], [], [], []
            for b, (q, g) in enumerate(matches):
                target_cls[b, q] = targets[b][0][g]
                pred_boxes.append(box[b, q])
                gt_norm.append(boxes[b][1][g])
                gt_abs.append(boxes[b][0][g])
                h, w = img_shapes[b]
                factors.append(box.new_tensor([w, h, w, h]).expand(len(q), 4))
            losses[prefix + 'loss_cls'] = F.cross_entropy(
                cls.transpose(1, 2), target_cls,
                weight=self.class_weight.to(cls.dtype)) * self.weights['cls']
            pred, factor = torch.cat(pred_boxes), torch.cat(factors)
            losses[prefix + 'loss_bbox'] = F.l1_loss(
                pred, torch.cat(gt_norm), reduction='sum') / num * self.weights['bbox']
            giou = bbox_overlaps(bbox_cxcywh_to_xyxy(pred) * factor, torch.cat(gt_abs),
                                 mode='giou', is_aligned=True)
            losses[prefix + 'loss_iou'] = (1 - giou).sum() / num * self.weights['iou']
        if self.mask_losses:
            masks = outputs['mask_logits'][-1]
            preds = [masks[b, q] for b, (q, _) in enumerate(last_match)]
            gts = [targets[b][1][g] for b, (_, g) in enumerate(last_match)]
            pred = torch.cat(preds)
            if len(pred) == 0:
                zero = masks.sum() * 0
                losses.update(loss_mask=zero, loss_dice=zero)
            else:
                gt = torch.cat(gts).to(pred.dtype)
                pred = F.interpolate(pred[:, None], size=gt.shape[-2:], mode='bilinear',
                                     align_corners=False)[:, 0].flatten(1)
                gt = gt.flatten(1)
                losses['loss_mask'] = sigmoid_focal_loss(pred, gt, num) * self.weights['mask']
                losses['loss_dice'] = dice_loss(pred, gt, num) * self.weights['dice']
        return losses
