"""Resize and padding steps that mmdet's transforms do not cover.

* :class:`ResizeShortestEdge`: the output size of transformers' image
  processors (``get_size_with_aspect_ratio``: the shorter side to
  ``shortest_edge`` unless the longer would exceed ``longest_edge``, sizes
  truncated, not rounded), so a converted hub model sees the pixels it was
  trained on; the resize itself is mmdet's ``Resize`` (``backend='pillow'``
  for transformers' PIL processors).
* :class:`AntialiasResize`: mmdet's ``Resize`` with torch's antialiased
  bilinear kernel on the uint8 image (``F.interpolate(..., antialias=True)``,
  what torchvision's ``resize`` runs and transformers' torchvision-based
  processors, e.g. VidEoMT's video processor, call).
* :class:`PadToSize`: pads the image with raw pixel values (EoMT and
  transformers' processors pad before normalising; mmdet's data
  preprocessor pads after, with 0 in the normalised space) and the
  annotations with VOID / empty masks, keeping ``img_shape`` the resized
  image's size so the predictions are cropped back to it.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import Resize

from mmpanoptic.registry import TRANSFORMS

from .loading import IGNORE_INDEX


def size_with_aspect_ratio(height: int, width: int, shortest_edge: int,
                           longest_edge: Optional[int] = None) -> Tuple[int, int]:
    """``(new_h, new_w)`` as transformers' ``get_size_with_aspect_ratio``.

    >>> size_with_aspect_ratio(480, 640, 640, 640), size_with_aspect_ratio(375, 500, 800, 1333)
    ((480, 640), (800, 1066))
    """
    size, raw = shortest_edge, None
    if longest_edge is not None:
        short, long = float(min(height, width)), float(max(height, width))
        if long / short * size > longest_edge:
            raw = longest_edge * short / long
            size = int(round(raw))
    if (height <= width and height == size) or (width <= height and width == size):
        return height, width
    if width < height:
        scaled = raw if raw is not None else size
        return int(scaled * height / width), size
    scaled = raw if raw is not None else size
    return size, int(scaled * width / height)


@TRANSFORMS.register_module()
class ResizeShortestEdge(Resize):
    """mmdet's ``Resize`` to transformers' output size (see the module doc).

    Args:
        shortest_edge: target of the shorter side.
        longest_edge: cap of the longer side (None: no cap).
        size_divisor: round both sides up to a multiple of it, stretching
            the image (transformers' Mask2Former / MaskFormer processors'
            ``size_divisor``; 0: no rounding).
        backend: ``'pillow'`` (transformers' PIL processors) or ``'cv2'``.
        interpolation: as mmdet's ``Resize`` (``'bilinear'``).
    """

    def __init__(self, shortest_edge: int, longest_edge: Optional[int] = None, *,
                 size_divisor: int = 0, backend: str = 'pillow',
                 interpolation: str = 'bilinear') -> None:
        super().__init__(scale=(shortest_edge, shortest_edge), keep_ratio=False,
                         backend=backend, interpolation=interpolation)
        self.shortest_edge = shortest_edge
        self.longest_edge = longest_edge
        self.size_divisor = size_divisor

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        new_h, new_w = size_with_aspect_ratio(h, w, self.shortest_edge, self.longest_edge)
        if self.size_divisor > 0:
            d = self.size_divisor
            new_h, new_w = -(-new_h // d) * d, -(-new_w // d) * d
        results['scale'] = (new_w, new_h)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_seg(results)
        self._resize_keypoints(results)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(shortest_edge={self.shortest_edge}, '
                f'longest_edge={self.longest_edge}, size_divisor={self.size_divisor}, '
                f'backend={self.backend})')


@TRANSFORMS.register_module()
class AntialiasResize(Resize):
    """mmdet's ``Resize`` (same arguments; the boxes, masks and maps as it
    resizes them) whose image resize is torch's antialiased bilinear
    interpolation on the uint8 image, the kernel torchvision's ``resize``
    uses (see the module doc)."""

    def _resize_img(self, results: dict) -> None:
        import torch
        import torch.nn.functional as F
        img = results.get('img')
        if img is None:
            return
        h, w = img.shape[:2]
        if self.keep_ratio:
            import mmcv
            new_w, new_h = mmcv.rescale_size((w, h), results['scale'])
        else:
            new_w, new_h = results['scale']
        x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
        if x.dtype != torch.uint8:
            x = x.float()
        out = F.interpolate(x, size=(new_h, new_w), mode='bilinear', align_corners=False,
                            antialias=True)[0].permute(1, 2, 0).numpy()
        results['img'] = out
        results['img_shape'] = out.shape[:2]
        results['scale_factor'] = (new_w / w, new_h / h)
        results['keep_ratio'] = self.keep_ratio


@TRANSFORMS.register_module()
class PadToSize(BaseTransform):
    """Pad the image at the bottom / right to at least ``size`` (H, W) with
    raw pixel value ``pad_val`` (0 = black, before normalisation), the
    semantic map with VOID and the instance masks with 0; ``img_shape``
    stays the unpadded size, ``pad_shape`` is set.  A side already longer is
    left as it is (EoMT's training pads, then crops)."""

    def __init__(self, size: Sequence[int], pad_val: float = 0) -> None:
        self.size = (int(size[0]), int(size[1]))
        self.pad_val = pad_val

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        th, tw = max(h, self.size[0]), max(w, self.size[1])
        padded = np.full((th, tw) + img.shape[2:], self.pad_val, dtype=img.dtype)
        padded[:h, :w] = img
        results['img'] = padded
        results['pad_shape'] = padded.shape[:2]
        if results.get('gt_seg_map') is not None:
            seg = results['gt_seg_map']
            out = np.full((th, tw), IGNORE_INDEX, dtype=seg.dtype)
            out[:seg.shape[0], :seg.shape[1]] = seg
            results['gt_seg_map'] = out
        if results.get('gt_masks') is not None:
            results['gt_masks'] = results['gt_masks'].pad((th, tw), pad_val=0)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size}, pad_val={self.pad_val})'
