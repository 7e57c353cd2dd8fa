"""Hungarian matching of query predictions to ground-truth segments."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import point_sample
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmpanoptic.registry import TASK_UTILS

from .losses import pairwise_dice, pairwise_sigmoid_ce, pairwise_sigmoid_focal


def finite_costs(cost):
    """The cost matrix as a float numpy array for ``linear_sum_assignment``,
    non-finite entries (a NaN / inf prediction) set to 1e8: the matching
    completes, the losses come out non-finite and ``NonFiniteCheckHook``
    stops the run naming the iteration and its images (scipy's own error,
    "matrix contains invalid numeric entries", named nothing)."""
    import torch
    cost = cost.detach().float()
    return torch.nan_to_num(cost, nan=1e8, posinf=1e8, neginf=-1e8).cpu().numpy()


@TASK_UTILS.register_module()
class HungarianMaskMatcher:
    """One-to-one assignment minimizing class + mask + dice costs.

    Class cost is ``-softmax(cls)[gt label]``; mask cost is the mean sigmoid
    BCE (Mask2Former) or focal loss (MaskFormer); dice cost as in the loss.
    With ``num_points`` the masks are compared on that many random points
    shared by predictions and targets (Mask2Former); with None the targets
    are resized to the prediction size (MaskFormer).

    Args:
        cost_class, cost_mask, cost_dice: weights of the three costs.
        mask_cost: ``'bce'`` or ``'focal'``.
        num_points: sampled points, or None for dense comparison.
    """

    def __init__(self, *, cost_class: float = 2.0, cost_mask: float = 5.0,
                 cost_dice: float = 5.0, mask_cost: str = 'bce',
                 num_points: Optional[int] = 12544) -> None:
        if mask_cost not in ('bce', 'focal'):
            raise ValueError(f"mask_cost must be 'bce' or 'focal', got {mask_cost!r}")
        self.cost_class = cost_class
        self.cost_mask = cost_mask
        self.cost_dice = cost_dice
        self.mask_cost = mask_cost
        self.num_points = num_points

    @torch.no_grad()
    def __call__(self, cls_logits: Tensor, mask_logits: Tensor, gt_labels: Tensor,
                 gt_masks: Tensor) -> Tuple[Tensor, Tensor]:
        """Match one image.

        Args:
            cls_logits: (Q, C + 1).  mask_logits: (Q, h, w).
            gt_labels: (M,) int64.  gt_masks: (M, H, W) bool.

        Returns:
            ``(query_index, gt_index)``, both (min(Q, M),) int64.
        """
        if len(gt_labels) == 0:
            empty = torch.zeros(0, dtype=torch.long, device=cls_logits.device)
            return empty, empty
        cost = -cls_logits.softmax(-1)[:, gt_labels] * self.cost_class
        pred, target = self.flatten_masks(mask_logits, gt_masks)
        pairwise = pairwise_sigmoid_ce if self.mask_cost == 'bce' else pairwise_sigmoid_focal
        cost = cost + self.cost_mask * pairwise(pred, target)
        cost = cost + self.cost_dice * pairwise_dice(pred, target)
        rows, cols = linear_sum_assignment(finite_costs(cost))
        device = cls_logits.device
        return (torch.as_tensor(rows, dtype=torch.long, device=device),
                torch.as_tensor(cols, dtype=torch.long, device=device))

    def flatten_masks(self, mask_logits: Tensor, gt_masks: Tensor) -> Tuple[Tensor, Tensor]:
        """(Q, P) prediction logits and (M, P) float targets on shared points."""
        targets = gt_masks[:, None].float()
        if self.num_points:
            coords = torch.rand(1, self.num_points, 2, device=mask_logits.device)
            pred = point_sample(mask_logits[:, None],
                                coords.expand(len(mask_logits), -1, -1))[:, 0]
            target = point_sample(targets, coords.expand(len(targets), -1, -1))[:, 0]
            return pred, target
        target = F.interpolate(targets, size=mask_logits.shape[-2:], mode='nearest')
        return mask_logits.flatten(1), target.flatten(1)
