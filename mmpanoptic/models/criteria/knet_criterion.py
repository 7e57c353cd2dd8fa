"""K-Net's training targets and losses (the official ``KernelUpdateHead``)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.utils import reduce_mean
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from .matcher import finite_costs


def focal_cost(cls_logits: Tensor, gt_labels: Tensor, alpha: float = 0.25,
               gamma: float = 2.0, eps: float = 1e-12) -> Tensor:
    """(K, M) sigmoid focal classification cost (mmdet's ``FocalLossCost``)."""
    p = cls_logits.sigmoid()
    neg = -(1 - p + eps).log() * (1 - alpha) * p.pow(gamma)
    pos = -(p + eps).log() * alpha * (1 - p).pow(gamma)
    return pos[:, gt_labels] - neg[:, gt_labels]


def soft_accuracy_cost(mask_logits: Tensor, targets: Tensor) -> Tensor:
    """(K, M) ``-(sum p t + sum (1 - p)(1 - t)) / P``: K-Net's ``MaskCost``."""
    p = mask_logits.sigmoid().flatten(1)
    t = targets.flatten(1)
    return -(p @ t.t() + (1 - p) @ (1 - t).t()) / p.shape[1]


def squared_dice_cost(mask_logits: Tensor, targets: Tensor, eps: float = 1e-3) -> Tensor:
    """(K, M) ``-2 sum p t / (sum p^2 + sum t^2)``: K-Net's ``DiceCost``."""
    p = mask_logits.sigmoid().flatten(1)
    t = targets.flatten(1)
    return -2 * (p @ t.t()) / ((p * p).sum(1)[:, None] + eps + (t * t).sum(1)[None] + eps)


def squared_dice_loss(mask_logits: Tensor, targets: Tensor, eps: float = 1e-3) -> Tensor:
    """Mean over masks of ``1 - 2 sum p t / (sum p^2 + sum t^2)`` (mmdet 2's
    ``DiceLoss``, used by K-Net)."""
    p = mask_logits.sigmoid().flatten(1)
    t = targets.flatten(1)
    d = 2 * (p * t).sum(1) / ((p * p).sum(1) + eps + (t * t).sum(1) + eps)
    return (1 - d).mean()


@MODELS.register_module()
class KNetCriterion(nn.Module):
    """K-Net's losses on every kernel-update stage.

    Targets (per image, at the mask prediction's resolution, ground truth
    resized bilinearly as soft masks as K-Net does):

    * thing kernels (the first ``K - S``) are matched one-to-one to the
      thing segments by the Hungarian algorithm on ``cost_class`` x sigmoid
      focal cost (thing classes only) + ``cost_mask`` x soft accuracy +
      ``cost_dice`` x squared dice; unmatched ones are background;
    * stuff kernel ``j`` always stands for stuff class ``num_things + j``:
      positive when that class is in the image, background otherwise.

    Losses (each stage, weights as K-Net's COCO configs):

    * ``loss_cls``: sigmoid focal loss (alpha 0.25, gamma 2), thing kernels
      on the thing columns only, stuff kernel ``j`` on its own column only,
      summed and divided by the number of positive kernels (all processes);
    * ``loss_mask`` (BCE, mean over pixels) and ``loss_dice`` (squared
      dice, eps 1e-3, mean over masks) on the positive kernels;
    * ``loss_rank``: cross entropy over kernels at every pixel covered by a
      positive kernel's target (mean over all pixels, mmdet 2's
      ``CrossEntropyLoss`` with ``ignore_index``).

    Why ours: neither mmdet 3 nor mmseg has K-Net's panoptic targets (mmseg's
    K-Net is semantic only); the formulas are those of the official
    ``knet/det`` code.  Differences kept: each stage is matched on its own
    predictions (K-Net matches stage ``s`` on the masks fed into it) and the
    kernel-initialization stage has no loss of its own.

    Args:
        num_classes: C (sigmoid logits have C columns).
        num_things: thing classes ``[0, num_things)``.
        num_stuff_kernels: stuff kernels at the end (default C - num_things).
        cost_class, cost_mask, cost_dice: matching weights (2, 1, 4).
        loss_cls_weight, loss_mask_weight, loss_dice_weight,
        loss_rank_weight: loss weights (2, 1, 4, 0.1).

    Returns from ``forward``: ``loss_*`` for the last stage and ``d{i}.loss_*``
    for the earlier ones.
    """

    def __init__(self, *, num_classes: int, num_things: int,
                 num_stuff_kernels: Optional[int] = None, cost_class: float = 2.0,
                 cost_mask: float = 1.0, cost_dice: float = 4.0,
                 loss_cls_weight: float = 2.0, loss_mask_weight: float = 1.0,
                 loss_dice_weight: float = 4.0, loss_rank_weight: float = 0.1,
                 focal_alpha: float = 0.25, focal_gamma: float = 2.0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_things = num_things
        self.num_stuff = num_classes - num_things
        if num_stuff_kernels is not None and num_stuff_kernels != self.num_stuff:
            raise ValueError(f'{num_stuff_kernels} stuff kernels for {self.num_stuff} stuff '
                             f"classes: K-Net's targets need one kernel per stuff class")
        self.cost_class, self.cost_mask, self.cost_dice = cost_class, cost_mask, cost_dice
        self.loss_cls_weight = loss_cls_weight
        self.loss_mask_weight = loss_mask_weight
        self.loss_dice_weight = loss_dice_weight
        self.loss_rank_weight = loss_rank_weight
        self.alpha, self.gamma = focal_alpha, focal_gamma

    def forward(self, all_cls_logits: Sequence[Tensor], all_mask_logits: Sequence[Tensor],
                targets: List[Tuple[Tensor, Tensor]]) -> Dict[str, Tensor]:
        """Losses of all stages.

        Args:
            all_cls_logits: per stage (B, K, C) sigmoid class logits.
            all_mask_logits: per stage (B, K, h, w).
            targets: per image ``(labels (M,), masks (M, H, W) bool)``.
        """
        size = all_mask_logits[-1].shape[-2:]
        soft = [(labels, self.resize(masks, size)) for labels, masks in targets]
        losses = {}
        last = len(all_cls_logits) - 1
        for i, (cls, masks) in enumerate(zip(all_cls_logits, all_mask_logits)):
            prefix = '' if i == last else f'd{i}.'
            stage = self.stage_losses(cls, masks, soft)
            losses.update({prefix + k: v for k, v in stage.items()})
        return losses

    @staticmethod
    def resize(masks: Tensor, size) -> Tensor:
        """(M, H, W) bool -> (M, h, w) float, bilinear (soft edges)."""
        if len(masks) == 0:
            return masks.new_zeros((0, *size), dtype=torch.float32)
        return F.interpolate(masks[None].float(), size=tuple(size), mode='bilinear',
                             align_corners=False)[0]

    @torch.no_grad()
    def match_things(self, cls_logits: Tensor, mask_logits: Tensor, labels: Tensor,
                     masks: Tensor) -> Tuple[Tensor, Tensor]:
        """Hungarian matching of thing kernels (K_t, C) / (K_t, h, w) to thing
        segments; returns ``(kernel_index, segment_index)``."""
        device = cls_logits.device
        if len(labels) == 0 or len(cls_logits) == 0:
            empty = torch.zeros(0, dtype=torch.long, device=device)
            return empty, empty
        cost = self.cost_class * focal_cost(cls_logits[:, :self.num_things], labels,
                                            self.alpha, self.gamma)
        cost = cost + self.cost_mask * soft_accuracy_cost(mask_logits, masks)
        cost = cost + self.cost_dice * squared_dice_cost(mask_logits, masks)
        rows, cols = linear_sum_assignment(finite_costs(cost))
        return (torch.as_tensor(rows, dtype=torch.long, device=device),
                torch.as_tensor(cols, dtype=torch.long, device=device))

    def stage_losses(self, cls_logits: Tensor, mask_logits: Tensor,
                     targets: List[Tuple[Tensor, Tensor]]) -> Dict[str, Tensor]:
        """Targets, then the four losses of one stage."""
        b, k, c = cls_logits.shape
        if c != self.num_classes:
            raise ValueError(f'K-Net class logits have {c} columns, expected num_classes = '
                             f'{self.num_classes} (sigmoid, no "no object" column)')
        p = k - self.num_stuff
        if p < 0:
            raise ValueError(f'{k} kernels, fewer than the {self.num_stuff} stuff kernels')
        device = cls_logits.device
        onehot = torch.zeros_like(cls_logits)
        weights = torch.zeros_like(cls_logits)
        weights[:, :p, :self.num_things] = 1
        stuff = torch.arange(self.num_stuff, device=device)
        weights[:, p + stuff, self.num_things + stuff] = 1
        h, w = mask_logits.shape[-2:]
        rank = torch.full((b, h, w), 255, dtype=torch.long, device=device)
        pos_pred, pos_gt = [], []
        for img, (labels, masks) in enumerate(targets):
            labels = labels.to(device)
            is_thing = labels < self.num_things
            kq, gi = self.match_things(cls_logits[img, :p].detach(),
                                       mask_logits[img, :p].detach(),
                                       labels[is_thing], masks[is_thing])
            kernels = torch.cat([kq, p + labels[~is_thing] - self.num_things])
            gt_index = torch.cat([is_thing.nonzero()[:, 0][gi], (~is_thing).nonzero()[:, 0]])
            onehot[img, kernels, labels[gt_index]] = 1
            pos_pred.append(mask_logits[img, kernels])
            pos_gt.append(masks[gt_index])
            for kernel, target in zip(kernels.tolist(), masks[gt_index]):
                rank[img][target > 0] = kernel
        num_pos = sum(len(t) for t in pos_gt)
        avg = max(float(reduce_mean(torch.tensor(float(num_pos), device=device))), 1.0)
        focal = F.binary_cross_entropy_with_logits(cls_logits, onehot, reduction='none')
        prob = cls_logits.sigmoid()
        p_t = prob * onehot + (1 - prob) * (1 - onehot)
        alpha_t = self.alpha * onehot + (1 - self.alpha) * (1 - onehot)
        loss_cls = (alpha_t * (1 - p_t).pow(self.gamma) * focal * weights).sum() / avg
        losses = dict(loss_cls=loss_cls * self.loss_cls_weight)
        if num_pos == 0:
            zero = mask_logits.sum() * 0
            losses.update(loss_mask=zero, loss_dice=zero, loss_rank=zero)
            return losses
        pred, gt = torch.cat(pos_pred), torch.cat(pos_gt).to(mask_logits.dtype)
        losses['loss_mask'] = F.binary_cross_entropy_with_logits(pred, gt) * \
            self.loss_mask_weight
        losses['loss_dice'] = squared_dice_loss(pred, gt) * self.loss_dice_weight
        rank_loss = F.cross_entropy(mask_logits, rank, ignore_index=255, reduction='sum')
        losses['loss_rank'] = rank_loss / rank.numel() * self.loss_rank_weight
        return losses
