"""UPSNet's panoptic loss: targets over the composed logits, cross entropy."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmpanoptic.registry import MODELS

IGNORE_INDEX = 255


def upsnet_panoptic_targets(sem_seg: Tensor, kept_masks: Tensor, dropped_masks: Tensor, *,
                            num_things: int, num_stuff: int) -> Tensor:
    """Channel index per pixel for :func:`compose_panoptic_logits`.

    Stuff pixels -> their stuff channel, pixels of kept instance i ->
    ``S + i``, pixels of dropped instances -> the unknown channel
    ``S + len(kept)``; VOID, crowd and thing pixels of no instance -> 255.

    Args:
        sem_seg: (H, W) int64 semantic labels (255 = VOID / padding).
        kept_masks, dropped_masks: (K, H, W) / (D, H, W) bool.
    """
    target = torch.full_like(sem_seg, IGNORE_INDEX)
    stuff = (sem_seg >= num_things) & (sem_seg < num_things + num_stuff)
    target[stuff] = sem_seg[stuff] - num_things
    unknown = num_stuff + len(kept_masks)
    if len(dropped_masks):
        target[dropped_masks.any(0)] = unknown
    for i, m in enumerate(kept_masks):
        target[m] = num_stuff + i
    return target


@MODELS.register_module()
class UPSNetPanopticLoss:
    """Cross entropy over UPSNet's composed panoptic logits.

    During training only a random ``box_keep_fraction`` of the ground-truth
    instances is given to the panoptic head (:meth:`split_kept`); the pixels
    of the others become the unknown class (:func:`upsnet_panoptic_targets`),
    so the head learns to say "unknown" where the semantic head sees a thing
    that no instance explains.

    Args:
        box_keep_fraction: share of ground-truth instances kept (UPSNet:
            0.7); 1.0 trains without unknown targets.
        loss_weight: of the cross entropy (UPSNet: 0.1 on COCO, 0.5 on
            Cityscapes).
    """

    def __init__(self, *, box_keep_fraction: float = 0.7, loss_weight: float = 0.1) -> None:
        if not 0 < box_keep_fraction <= 1:
            raise ValueError(f'box_keep_fraction must be in (0, 1], got {box_keep_fraction}')
        self.box_keep_fraction = box_keep_fraction
        self.loss_weight = loss_weight

    def split_kept(self, n: int, device: Optional[torch.device] = None
                   ) -> Tuple[Tensor, Tensor]:
        """Random kept / dropped indices of n training instances (at least
        one kept when n > 0; the global torch seed makes it reproducible)."""
        perm = torch.randperm(n, device=device)
        k = max(int(n * self.box_keep_fraction), 1) if n else 0
        return perm[:k].sort().values, perm[k:].sort().values

    def __call__(self, composed: List[Tensor], targets: List[Tensor]) -> Tensor:
        """Weighted cross entropy averaged over the valid pixels of the batch.

        Args:
            composed: per image (S + K_i + 1, h, w) logits.
            targets: per image (h, w) from :func:`upsnet_panoptic_targets`.
        """
        total, count = composed[0].new_zeros(()), 0
        for logits, target in zip(composed, targets):
            valid = target != IGNORE_INDEX
            if valid.any():
                total = total + F.cross_entropy(logits[None], target[None],
                                                ignore_index=IGNORE_INDEX, reduction='sum')
                count += int(valid.sum())
            else:
                total = total + logits.sum() * 0
        return self.loss_weight * total / max(count, 1)

    def __repr__(self) -> str:
        return (f'UPSNetPanopticLoss(box_keep_fraction={self.box_keep_fraction}, '
                f'loss_weight={self.loss_weight})')
