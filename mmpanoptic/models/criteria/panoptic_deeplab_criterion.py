"""Panoptic-DeepLab's targets and losses (Cheng et al., CVPR 2020).

- semantic: bootstrapped cross entropy (mean over the hardest ``top_k``
  fraction of pixels), pixels of small instances weighted more;
- center: MSE to a Gaussian (``sigma`` px) at every instance's center of
  mass, ignored on VOID and crowd pixels;
- offset: L1 on the (dy, dx) from each thing pixel to its center, on
  pixels of (non-crowd) instances only.

Targets are built at the padded input resolution from ``gt_instances``
(masks, non-crowd), ``ignored_instances`` (crowd) and ``gt_sem_seg``.
"""
import math
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from torch import Tensor

from mmpanoptic.registry import MODELS

from .targets import instance_masks

IGNORE_INDEX = 255


def center_offset_targets(sample: DetDataSample, *, sigma: float = 8.0,
                          small_instance_area: int = 4096,
                          small_instance_weight: float = 3.0) -> Dict[str, Tensor]:
    """Panoptic-DeepLab's training targets for one (padded) sample.

    Args:
        sample: packed sample with ``gt_sem_seg`` (1, H, W) (255 = VOID and
            padding), ``gt_instances.masks`` (N, H, W) and, for crowd
            regions, ``ignored_instances.masks``.
        sigma: standard deviation of the center Gaussian in pixels; the
            Gaussian is cut at 3 sigma, as in the reference.
        small_instance_area: instances with fewer pixels get
            ``small_instance_weight`` in the semantic loss.

    Returns:
        dict of ``sem`` (H, W) int64, ``sem_weight`` (H, W), ``center``
        (1, H, W), ``center_weight`` (1, H, W), ``offset`` (2, H, W) and
        ``offset_weight`` (1, H, W), float32 unless stated.

    >>> from mmengine.structures import InstanceData, PixelData
    >>> from mmdet.structures.mask import BitmapMasks
    >>> import numpy as np
    >>> m = np.zeros((1, 8, 8), np.uint8); m[0, 2:5, 2:5] = 1
    >>> s = DetDataSample()
    >>> s.gt_sem_seg = PixelData(sem_seg=torch.zeros(1, 8, 8, dtype=torch.long))
    >>> s.gt_instances = InstanceData(masks=BitmapMasks(m, 8, 8), labels=torch.tensor([0]))
    >>> t = center_offset_targets(s, sigma=1.0)
    >>> float(t['center'][0, 3, 3]), t['offset'][:, 2, 2].tolist()
    (1.0, [1.0, 1.0])
    """
    sem = sample.gt_sem_seg.sem_seg[0].long()
    h, w = sem.shape
    device = sem.device
    masks = instance_masks(sample.get('gt_instances'), (h, w), device)
    crowd = instance_masks(sample.get('ignored_instances'), (h, w), device).any(0)
    if masks.shape[-2:] != (h, w):
        raise ValueError(f'image {sample.metainfo.get("img_id")}: instance masks are '
                         f'{tuple(masks.shape[-2:])} but the semantic map is {(h, w)}')
    center = torch.zeros((1, h, w), device=device)
    offset = torch.zeros((2, h, w), device=device)
    offset_weight = torch.zeros((1, h, w), device=device)
    sem_weight = torch.ones((h, w), device=device)
    ys = torch.arange(h, device=device, dtype=torch.float32)
    xs = torch.arange(w, device=device, dtype=torch.float32)
    radius = int(math.ceil(3 * sigma))
    for mask in masks:  # per instance, not per pixel
        area = int(mask.sum())
        if area == 0:
            continue
        py, px = mask.nonzero(as_tuple=True)
        cy, cx = py.float().mean(), px.float().mean()
        # Gaussian cut at 3 sigma around the rounded center (the reference's window).
        iy, ix = int(cy.round()), int(cx.round())
        y0, y1 = max(iy - radius, 0), min(iy + radius + 1, h)
        x0, x1 = max(ix - radius, 0), min(ix + radius + 1, w)
        g = torch.exp(-((ys[y0:y1, None] - iy) ** 2 + (xs[None, x0:x1] - ix) ** 2)
                      / (2 * sigma ** 2))
        center[0, y0:y1, x0:x1] = torch.maximum(center[0, y0:y1, x0:x1], g)
        offset[0, py, px] = cy.round() - py.float()
        offset[1, py, px] = cx.round() - px.float()
        offset_weight[0, py, px] = 1.0
        if area < small_instance_area:
            sem_weight[py, px] = small_instance_weight
    center_weight = ((sem != IGNORE_INDEX) & ~crowd).float()[None]
    return dict(sem=sem, sem_weight=sem_weight, center=center, center_weight=center_weight,
                offset=offset, offset_weight=offset_weight)


def bootstrapped_cross_entropy(logits: Tensor, target: Tensor, weight: Tensor, *,
                               top_k: float = 0.2,
                               ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Mean weighted cross entropy of the hardest ``top_k`` fraction of the
    valid (non-ignored) pixels of the batch.

    DeepLab's reference counts ignored pixels in the pixel total; here the
    fraction is of valid pixels, so batch padding does not shrink it.

    Args:
        logits: (B, C, H, W); target: (B, H, W) int64; weight: (B, H, W).
        top_k: fraction in (0, 1]; 1 gives the plain weighted mean.
    """
    if not 0 < top_k <= 1:
        raise ValueError(f'top_k must be in (0, 1], got {top_k}')
    loss = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction='none')
    valid = target != ignore_index
    loss = (loss * weight)[valid]
    if loss.numel() == 0:
        return logits.sum() * 0
    k = max(1, int(round(top_k * loss.numel())))
    if k < loss.numel():
        loss = loss.topk(k, sorted=False).values
    return loss.mean()


def _weighted_mean(loss: Tensor, weight: Tensor) -> Tensor:
    total = weight.sum()
    return (loss * weight).sum() / total if total > 0 else (loss * weight).sum() * 0


@MODELS.register_module()
class PanopticDeepLabCriterion:
    """Targets + the three weighted losses of Panoptic-DeepLab.

    Args:
        sigma, small_instance_area, small_instance_weight: see
            :func:`center_offset_targets`.
        top_k: fraction of hardest pixels in the semantic loss (paper 0.2).
        loss_weights: ``sem`` / ``center`` / ``offset`` (paper 1 / 200 / 0.01).
    """

    def __init__(self, *, sigma: float = 8.0, small_instance_area: int = 4096,
                 small_instance_weight: float = 3.0, top_k: float = 0.2,
                 loss_weights: Dict[str, float] = None) -> None:
        self.sigma = sigma
        self.small_instance_area = small_instance_area
        self.small_instance_weight = small_instance_weight
        self.top_k = top_k
        self.loss_weights = dict(sem=1.0, center=200.0, offset=0.01)
        self.loss_weights.update(loss_weights or {})

    def targets(self, samples: List[DetDataSample]) -> Dict[str, Tensor]:
        """Batched targets (the samples are already padded to one size)."""
        per = [center_offset_targets(s, sigma=self.sigma,
                                     small_instance_area=self.small_instance_area,
                                     small_instance_weight=self.small_instance_weight)
               for s in samples]
        return {k: torch.stack([p[k] for p in per]) for k in per[0]}

    def __call__(self, outputs: Dict[str, Tensor], samples: List[DetDataSample]
                 ) -> Dict[str, Tensor]:
        """Losses of predictions already resized to the padded input.

        Args:
            outputs: ``sem`` (B, C, H, W), ``center`` (B, 1, H, W), ``offset``
                (B, 2, H, W) in input pixels.
        """
        t = self.targets(samples)
        sem_loss = bootstrapped_cross_entropy(outputs['sem'], t['sem'], t['sem_weight'],
                                              top_k=self.top_k)
        center_loss = _weighted_mean(
            F.mse_loss(outputs['center'], t['center'], reduction='none'), t['center_weight'])
        # Summed over (dy, dx), averaged over thing pixels (the reference's normalization).
        offset_loss = _weighted_mean(
            F.l1_loss(outputs['offset'], t['offset'], reduction='none').sum(1, keepdim=True),
            t['offset_weight'])
        w = self.loss_weights
        return dict(loss_sem=w['sem'] * sem_loss, loss_center=w['center'] * center_loss,
                    loss_offset=w['offset'] * offset_loss)

    def __repr__(self) -> str:
        return (f'PanopticDeepLabCriterion(sigma={self.sigma}, top_k={self.top_k}, '
                f'loss_weights={self.loss_weights})')
