"""K-Net's panoptic merge (the official ``KernelIterHead.get_panoptic``):
kernel scores and the registered fusion."""
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor

from mmpanoptic.registry import MODELS

from .base import PanopticFusion
from .mask_classification import panoptic_from_queries, upsample_masks


def knet_kernel_scores(cls_logits: Tensor, *, num_things: int,
                       num_stuff_kernels: int) -> tuple:
    """Scores and labels of K-Net's kernels from sigmoid class logits.

    Thing kernels (the first ``K - num_stuff_kernels``) take their best
    thing class; stuff kernel ``j`` scores for its own stuff class
    ``num_things + j`` (the diagonal of the stuff block), as K-Net assigns
    one kernel per stuff class.

    Args:
        cls_logits: (K, C) sigmoid class logits.

    Returns:
        ``scores`` (K,), ``labels`` (K,) int64, ``is_thing`` (K,) bool.

    >>> logits = torch.tensor([[2., 0., -5.], [0., 1., 3.], [-1., -2., 4.]])
    >>> s, l, t = knet_kernel_scores(logits, num_things=2, num_stuff_kernels=1)
    >>> l.tolist(), t.tolist(), [round(v, 3) for v in s.tolist()]
    ([0, 1, 2], [True, True, False], [0.881, 0.731, 0.982])
    """
    k, c = cls_logits.shape
    num_stuff = c - num_things
    if num_stuff_kernels != num_stuff:
        raise ValueError(f'{num_stuff_kernels} stuff kernels for {num_stuff} stuff classes: '
                         f"K-Net's inference needs one kernel per stuff class")
    if k < num_stuff_kernels:
        raise ValueError(f'{k} kernels, fewer than the {num_stuff_kernels} stuff kernels')
    probs = cls_logits.sigmoid()
    p = k - num_stuff_kernels
    thing_scores, thing_labels = probs[:p, :num_things].max(-1) if num_things else (
        probs.new_zeros(p), torch.zeros(p, dtype=torch.long, device=probs.device))
    stuff_scores = probs[p:, num_things:].diagonal()
    stuff_labels = torch.arange(num_things, c, device=probs.device)
    is_thing = torch.arange(k, device=probs.device) < p
    return (torch.cat([thing_scores, stuff_scores]), torch.cat([thing_labels, stuff_labels]),
            is_thing)


@MODELS.register_module()
class KNetFusion(PanopticFusion):
    """Panoptic results of K-Net's kernels, as the official code composes them.

    1. Kernel scores and labels by :func:`knet_kernel_scores` (sigmoid class
       scores; thing kernels their best thing class, stuff kernels their own).
    2. Mask probabilities: sigmoid first, then resized to the image (the
       official ``rescale_masks`` order).
    3. Every pixel goes to the kernel maximizing ``score * probability``, all
       kernels taking part.  In score order a kernel becomes a segment when it
       wins pixels, has a non-empty mask (probability >= 0.5) and wins at
       least ``overlap_thr`` of it; thing kernels scoring below
       ``instance_score_thr`` never become segments, so the pixels they win
       stay VOID.  Stuff kernels have no score threshold.

    ``stuff_score_thr``, ``iou_thr``, ``stuff_max_area``, ``mask_thr`` and
    ``max_per_img`` of the official ``test_cfg`` are not read by its panoptic
    path and have no counterpart here.

    Same call and result format as :class:`MaskClassificationFusion`
    (panoptic results only).

    Args:
        num_things, num_stuff: the label split (things first).
        num_stuff_kernels: stuff kernels at the end of the kernel list
            (default: one per stuff class, as K-Net).
        overlap_thr: minimum share of its mask a kernel must keep (0.6).
        instance_score_thr: minimum score of a thing segment (0.3).
    """

    def __init__(self, *, num_things: int, num_stuff: int,
                 num_stuff_kernels: Optional[int] = None, overlap_thr: float = 0.6,
                 instance_score_thr: float = 0.3, panoptic_on: bool = True) -> None:
        super().__init__(num_things=num_things, num_stuff=num_stuff)
        if not panoptic_on:
            raise ValueError('KNetFusion gives panoptic results only (panoptic_on=True)')
        self.num_stuff_kernels = num_stuff_kernels
        self.overlap_thr = overlap_thr
        self.instance_score_thr = instance_score_thr

    input_keys = ('cls_logits', 'mask_logits')

    def fuse(self, outputs: Dict, img_metas: Sequence[dict], rescale: bool = True) -> List[Dict]:
        """Results per image.

        Args:
            outputs: ``cls_logits`` (B, K, C) sigmoid class logits (no "no
                object") and ``mask_logits`` (B, K, h, w).
            img_metas, rescale: as :meth:`MaskClassificationFusion.fuse`.

        Returns:
            One dict per image with ``panoptic`` = ``(ids (H, W) int32,
            segments_info)``.
        """
        cls_logits, mask_logits = outputs['cls_logits'], outputs['mask_logits']
        if cls_logits.shape[-1] != self.num_classes:
            raise ValueError(f'K-Net class logits have {cls_logits.shape[-1]} columns, '
                             f'expected num_classes = {self.num_classes} (sigmoid scores, '
                             f'no "no object" column)')
        stuff_kernels = self.num_stuff if self.num_stuff_kernels is None \
            else self.num_stuff_kernels
        results = []
        for cls, masks, meta in zip(cls_logits, mask_logits, img_metas):
            scores, labels, is_thing = knet_kernel_scores(
                cls, num_things=self.num_things, num_stuff_kernels=stuff_kernels)
            probs = upsample_masks(
                masks.sigmoid(), img_shape=meta['img_shape'][:2],
                ori_shape=meta['ori_shape'][:2] if rescale else None,
                pad_shape=meta.get('batch_input_shape', meta['img_shape'][:2]))
            ids, segments = panoptic_from_queries(
                scores, labels, probs, num_things=self.num_things, probabilities=True,
                iou_thr=self.overlap_thr,
                compete_only=is_thing & (scores < self.instance_score_thr))
            results.append(dict(panoptic=(ids, segments)))
        return results
