"""Set-prediction loss of mask classification with deep supervision."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.ops import point_sample
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from mmdet.utils import reduce_mean
from torch import Tensor, nn

from mmpanoptic.registry import MODELS, TASK_UTILS

from .losses import dice_loss, sigmoid_ce_loss, sigmoid_focal_loss


@MODELS.register_module()
class MaskSetCriterion(nn.Module):
    """Hungarian-matched class, mask and dice losses on every decoder layer.

    Unmatched queries learn "no object" (weighted by ``no_object_weight``);
    matched ones learn their segment's class and mask.  Mask losses are
    averaged over the number of ground-truth segments in the batch (over all
    processes).  Mask2Former compares masks on ``num_points`` points chosen
    by uncertainty (``importance_sample_ratio`` of them among
    ``oversample_ratio`` x as many random ones); MaskFormer (``num_points``
    None) upsamples predictions to the target size.

    Kept out of the heads (as Mask2Former does) so every query model, K-Net
    and the open-vocabulary classifier share it.

    Args:
        num_classes: C; class logits have C + 1 columns.
        matcher: :class:`HungarianMaskMatcher` config or instance.
        no_object_weight: class-loss weight of the "no object" column.
        loss_cls_weight, loss_mask_weight, loss_dice_weight: term weights.
        mask_loss: ``'bce'`` (Mask2Former) or ``'focal'`` (MaskFormer).
        num_points, oversample_ratio, importance_sample_ratio: point sampling.

    Returns from ``forward``: ``loss_cls`` / ``loss_mask`` / ``loss_dice`` for
    the last layer and ``d{i}.loss_*`` for the earlier ones (mmdet's names).
    """

    def __init__(self,
                 *,
                 num_classes: int,
                 matcher: Union[dict, object] = dict(type='HungarianMaskMatcher'),
                 no_object_weight: float = 0.1,
                 loss_cls_weight: float = 2.0,
                 loss_mask_weight: float = 5.0,
                 loss_dice_weight: float = 5.0,
                 mask_loss: str = 'bce',
                 num_points: Optional[int] = 12544,
                 oversample_ratio: float = 3.0,
                 importance_sample_ratio: float = 0.75) -> None:
        super().__init__()
        if mask_loss not in ('bce', 'focal'):
            raise ValueError(f"mask_loss must be 'bce' or 'focal', got {mask_loss!r}")
        self.num_classes = num_classes
        self.matcher = TASK_UTILS.build(matcher) if isinstance(matcher, dict) else matcher
        self.loss_cls_weight = loss_cls_weight
        self.loss_mask_weight = loss_mask_weight
        self.loss_dice_weight = loss_dice_weight
        self.mask_loss = mask_loss
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        weight = torch.ones(num_classes + 1)
        weight[-1] = no_object_weight
        self.register_buffer('class_weight', weight, persistent=False)

    def forward(self, all_cls_logits: Sequence[Tensor], all_mask_logits: Sequence[Tensor],
                targets: List[Tuple[Tensor, Tensor]]) -> Dict[str, Tensor]:
        """Losses of all decoder layers.

        Args:
            all_cls_logits: per layer (B, Q, C + 1).
            all_mask_logits: per layer (B, Q, h, w).
            targets: per image ``(labels (M,), masks (M, H, W) bool)``.
        """
        num_masks = sum(len(labels) for labels, _ in targets)
        device = all_cls_logits[-1].device
        num_masks = reduce_mean(torch.tensor(float(num_masks), device=device))
        num_masks = max(float(num_masks), 1.0)
        losses = {}
        last = len(all_cls_logits) - 1
        for i, (cls_logits, mask_logits) in enumerate(zip(all_cls_logits, all_mask_logits)):
            prefix = '' if i == last else f'd{i}.'
            layer = self.layer_losses(cls_logits, mask_logits, targets, num_masks)
            losses.update({prefix + k: v for k, v in layer.items()})
        return losses

    def layer_losses(self, cls_logits: Tensor, mask_logits: Tensor,
                     targets: List[Tuple[Tensor, Tensor]], num_masks: float) -> Dict:
        """Match, then the three losses of one decoder layer."""
        b, q = cls_logits.shape[:2]
        if cls_logits.shape[-1] != self.num_classes + 1:
            raise ValueError(f'class logits have {cls_logits.shape[-1]} columns, expected '
                             f'{self.num_classes + 1}')
        target_classes = torch.full((b, q), self.num_classes, dtype=torch.long,
                                    device=cls_logits.device)
        preds, gts = [], []
        for img, (labels, masks) in enumerate(targets):
            qi, gi = self.matcher(cls_logits[img].detach(), mask_logits[img].detach(),
                                  labels, masks)
            target_classes[img, qi] = labels[gi]
            preds.append(mask_logits[img, qi])
            gts.append(masks[gi])
        loss_cls = F.cross_entropy(cls_logits.transpose(1, 2), target_classes,
                                   weight=self.class_weight.to(cls_logits.dtype))
        pred = torch.cat(preds)
        if len(pred) == 0:  # no segment in the batch: keep the graph, zero loss
            zero = mask_logits.sum() * 0
            return dict(loss_cls=loss_cls * self.loss_cls_weight, loss_mask=zero,
                        loss_dice=zero)
        gt = torch.cat(gts)[:, None].to(pred.dtype)
        if self.num_points:
            with torch.no_grad():
                coords = get_uncertain_point_coords_with_randomness(
                    pred[:, None], None, self.num_points, self.oversample_ratio,
                    self.importance_sample_ratio)
                gt = point_sample(gt, coords)[:, 0]
            pred = point_sample(pred[:, None], coords)[:, 0]
        else:
            pred = F.interpolate(pred[:, None], size=gt.shape[-2:], mode='bilinear',
                                 align_corners=False).flatten(1)
            gt = gt.flatten(1)
        mask_fn = sigmoid_ce_loss if self.mask_loss == 'bce' else sigmoid_focal_loss
        return dict(loss_cls=loss_cls * self.loss_cls_weight,
                    loss_mask=mask_fn(pred, gt, num_masks) * self.loss_mask_weight,
                    loss_dice=dice_loss(pred, gt, num_masks) * self.loss_dice_weight)
