"""Panoptic-DeepLab's bottom-up post-processing (Cheng et al., CVPR 2020).

Pure torch functions, vectorized (no loop over pixels or instances), the
same on CPU and GPU:

1. :func:`find_centers`: keep local maxima of the center heatmap (max-pool
   NMS) above a threshold, at most ``top_k``;
2. :func:`group_pixels`: every thing pixel votes for the center nearest to
   its own position plus its predicted offset;
3. :func:`merge_semantic_and_instance`: each instance takes the majority
   semantic class of its pixels; stuff classes become one segment each
   unless smaller than ``stuff_area``.

:class:`CenterGroupingFusion` runs the three on a batch (the registered
fusion of :class:`PanopticDeepLab`).
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmpanoptic.registry import MODELS

from .base import PanopticFusion


def find_centers(heatmap: Tensor, *, threshold: float = 0.1, nms_kernel: int = 7,
                 top_k: int = 200) -> Tensor:
    """Instance centers from a center heatmap.

    Args:
        heatmap: (H, W) center scores.
        threshold: minimum score of a center.
        nms_kernel: window of the max-pool non-maximum suppression (odd).
        top_k: most centers kept (highest scores).

    Returns:
        (K, 2) int64 (y, x) centers, highest score first.

    >>> hm = torch.zeros(9, 9); hm[2, 2] = 0.9; hm[2, 3] = 0.8; hm[6, 6] = 0.5
    >>> find_centers(hm, nms_kernel=3).tolist()
    [[2, 2], [6, 6]]
    """
    if nms_kernel % 2 != 1:
        raise ValueError(f'nms_kernel must be odd, got {nms_kernel}')
    pooled = F.max_pool2d(heatmap[None, None], nms_kernel, stride=1,
                          padding=nms_kernel // 2)[0, 0]
    keep = (heatmap == pooled) & (heatmap > threshold)
    scores = heatmap[keep]
    centers = keep.nonzero()
    order = scores.argsort(descending=True, stable=True)[:top_k]  # ties: raster order
    return centers[order]


def group_pixels(centers: Tensor, offsets: Tensor, thing_mask: Tensor, *,
                 chunk: int = 1 << 18) -> Tensor:
    """Instance index per pixel: the nearest center to ``position + offset``.

    Args:
        centers: (K, 2) (y, x) centers.
        offsets: (2, H, W) predicted (dy, dx) from each pixel to its center.
        thing_mask: (H, W) bool, pixels of thing classes.
        chunk: pixels per distance computation (bounds memory at
            ``chunk * K`` floats for full-HD images with 200 centers).

    Returns:
        (H, W) int64: 1 + the index of the pixel's center for thing pixels,
        0 for stuff pixels or when there is no center.
    """
    h, w = thing_mask.shape
    out = torch.zeros((h, w), dtype=torch.long, device=offsets.device)
    if len(centers) == 0:
        return out
    ys, xs = torch.meshgrid(torch.arange(h, device=offsets.device),
                            torch.arange(w, device=offsets.device), indexing='ij')
    pos = torch.stack([ys + offsets[0], xs + offsets[1]], -1)[thing_mask].float()  # (P, 2)
    ctr = centers.float()
    nearest = torch.cat([torch.cdist(pos[i:i + chunk], ctr,
                                       compute_mode='donot_use_mm_for_euclid_dist').argmin(1)
                         for i in range(0, len(pos), chunk)]) if len(pos) else \
        torch.zeros(0, dtype=torch.long, device=offsets.device)
    out[thing_mask] = nearest + 1
    return out


def merge_semantic_and_instance(sem: Tensor, instances: Tensor, *, num_things: int,
                                stuff_area: int = 2048) -> Tuple[Tensor, List[Dict]]:
    """Panoptic map from a semantic map and an instance map.

    Args:
        sem: (H, W) int64 semantic labels (things ``< num_things``).
        instances: (H, W) int64 from :func:`group_pixels` (0 = none).
        num_things: number of thing classes.
        stuff_area: stuff classes with fewer pixels stay VOID.

    Returns:
        ``ids`` (H, W) int32 (0 = VOID) and ``segments_info`` (``id``,
        ``label``, ``isthing``, ``area``): instances first (in center
        order), then stuff classes.
    """
    h, w = sem.shape
    ids = torch.zeros((h, w), dtype=torch.int32, device=sem.device)
    segments: List[Dict] = []
    num_classes = int(sem.max()) + 1 if sem.numel() else 1
    thing = (instances > 0) & (sem < num_things)
    if thing.any():
        k = int(instances.max())
        votes = torch.zeros(k + 1, max(num_classes, num_things), dtype=torch.long,
                            device=sem.device)
        votes.index_put_((instances[thing], sem[thing]), torch.ones_like(sem[thing]),
                         accumulate=True)
        labels = votes.argmax(1)  # majority class per instance (first on ties)
        areas = votes.sum(1)
        lut = torch.zeros(k + 1, dtype=torch.int32, device=sem.device)
        for inst in range(1, k + 1):  # instances, not pixels
            if areas[inst] > 0:
                segments.append(dict(id=len(segments) + 1, label=int(labels[inst]),
                                     isthing=True, area=int(areas[inst])))
                lut[inst] = len(segments)
        ids = torch.where(thing, lut[instances], ids)
    stuff_areas = torch.bincount(sem[sem >= num_things], minlength=num_classes)
    for label in range(num_things, num_classes):
        area = int(stuff_areas[label])
        if area >= stuff_area and area > 0:
            segments.append(dict(id=len(segments) + 1, label=label, isthing=False, area=area))
            ids[sem == label] = len(segments)
    return ids, segments


def upsample_predictions(outputs: Dict[str, Tensor], size: Tuple[int, int]
                         ) -> Dict[str, Tensor]:
    """Bilinear resize of every prediction to ``size``; offsets are scaled
    by the resize factor of each axis so they stay in pixels of the output.
    """
    h, w = next(iter(outputs.values())).shape[-2:]  # all at one resolution
    out = {k: F.interpolate(v, size=size, mode='bilinear', align_corners=False)
           for k, v in outputs.items()}
    if 'offset' in out:
        scale = torch.tensor([size[0] / h, size[1] / w], dtype=out['offset'].dtype,
                             device=out['offset'].device)
        out['offset'] = out['offset'] * scale[None, :, None, None]
    return out


def at_output_size(outputs: Dict[str, Tensor], meta: dict, *, rescale: bool = True
                   ) -> Dict[str, Tensor]:
    """One image's (1, ., H, W) maps at the padded input size cropped to
    ``img_shape`` and, with ``rescale``, resized to ``ori_shape`` (offsets
    scaled): what :class:`CenterGroupingFusion` groups (ViP-DeepLab's
    next-frame offsets too)."""
    h, w = meta['img_shape'][:2]
    cropped = {k: v[:, :, :h, :w] for k, v in outputs.items()}
    return upsample_predictions(cropped, tuple(meta['ori_shape'][:2])) if rescale else cropped


@MODELS.register_module()
class CenterGroupingFusion(PanopticFusion):
    """Panoptic-DeepLab's fusion: semantic argmax, centers, grouping, merge.

    Reads ``sem`` (B, C, H, W), ``center`` (B, 1, H, W) and ``offset``
    (B, 2, H, W) at the padded input size (offsets in its pixels); per image
    crops the padding, resizes to ``ori_shape`` with ``rescale`` (offsets
    scaled), then :func:`find_centers`, :func:`group_pixels` on the pixels
    predicted as things and :func:`merge_semantic_and_instance`.  Returns
    the panoptic map and the semantic argmax (``semantic``).

    Args:
        num_things, num_stuff: the label split (things first).
        center_threshold, nms_kernel, top_k: of :func:`find_centers` (the
            paper's 0.1, 7, 200).
        stuff_area: minimum stuff segment area (2048 Cityscapes, 4096 COCO).
    """

    input_keys = ('sem', 'center', 'offset')

    def __init__(self, *, num_things: int, num_stuff: int, center_threshold: float = 0.1,
                 nms_kernel: int = 7, top_k: int = 200, stuff_area: int = 2048) -> None:
        super().__init__(num_things=num_things, num_stuff=num_stuff)
        self.center_threshold = center_threshold
        self.nms_kernel = nms_kernel
        self.top_k = top_k
        self.stuff_area = stuff_area

    def fuse(self, outputs: Dict, batch_img_metas: Sequence[dict],
             rescale: bool = True) -> List[Dict]:
        results = []
        for i, meta in enumerate(batch_img_metas):
            pred = at_output_size({k: outputs[k][i:i + 1] for k in self.input_keys}, meta,
                                  rescale=rescale)
            sem = pred['sem'][0].argmax(0)
            centers = find_centers(pred['center'][0, 0], threshold=self.center_threshold,
                                   nms_kernel=self.nms_kernel, top_k=self.top_k)
            instances = group_pixels(centers, pred['offset'][0], sem < self.num_things)
            ids, segments = merge_semantic_and_instance(
                sem, instances, num_things=self.num_things, stuff_area=self.stuff_area)
            results.append(dict(panoptic=(ids, segments),
                                semantic=PixelData(sem_seg=sem[None])))
        return results
