"""Pairwise costs and per-mask losses of mask classification.

Plain functions on (N, P) logits and (M, P) binary targets over P pixels or
sampled points.  Written here rather than taken from mmdet because mmdet's
mask ``FocalLoss`` wants ``1 - target`` as a class index and its costs live in
separate classes per term; the formulas are MaskFormer's / Mask2Former's.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def pairwise_sigmoid_ce(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean binary cross entropy of every prediction against every target.

    Args:
        logits: (N, P).  targets: (M, P) in {0, 1}.

    Returns:
        (N, M) costs.
    """
    p = logits.shape[1]
    pos = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits),
                                             reduction='none')
    neg = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits),
                                             reduction='none')
    return (pos @ targets.t() + neg @ (1 - targets).t()) / p


def pairwise_sigmoid_focal(logits: Tensor, targets: Tensor, alpha: float = 0.25,
                           gamma: float = 2.0) -> Tensor:
    """Mean sigmoid focal loss of every prediction against every target: (N, M)."""
    p = logits.shape[1]
    prob = logits.sigmoid()
    pos = alpha * (1 - prob)**gamma * F.binary_cross_entropy_with_logits(
        logits, torch.ones_like(logits), reduction='none')
    neg = (1 - alpha) * prob**gamma * F.binary_cross_entropy_with_logits(
        logits, torch.zeros_like(logits), reduction='none')
    return (pos @ targets.t() + neg @ (1 - targets).t()) / p


def pairwise_dice(logits: Tensor, targets: Tensor, eps: float = 1.0) -> Tensor:
    """``1 - (2 |p t| + eps) / (|p| + |t| + eps)`` for every pair: (N, M)."""
    prob = logits.sigmoid()
    inter = prob @ targets.t()
    return 1 - (2 * inter + eps) / (prob.sum(1)[:, None] + targets.sum(1)[None] + eps)


def sigmoid_ce_loss(logits: Tensor, targets: Tensor, num_masks: float) -> Tensor:
    """Per-mask mean BCE, summed over masks and divided by ``num_masks``."""
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
    return loss.mean(1).sum() / num_masks


def sigmoid_focal_loss(logits: Tensor, targets: Tensor, num_masks: float,
                       alpha: float = 0.25, gamma: float = 2.0) -> Tensor:
    """Per-mask mean focal loss (RetinaNet's), summed and divided by ``num_masks``."""
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce * (1 - p_t)**gamma
    loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return loss.mean(1).sum() / num_masks


def dice_loss(logits: Tensor, targets: Tensor, num_masks: float, eps: float = 1.0) -> Tensor:
    """Dice loss per mask (``eps`` = 1 as in Mask2Former), summed / ``num_masks``."""
    prob = logits.sigmoid()
    inter = (prob * targets).sum(1)
    loss = 1 - (2 * inter + eps) / (prob.sum(1) + targets.sum(1) + eps)
    return loss.sum() / num_masks
