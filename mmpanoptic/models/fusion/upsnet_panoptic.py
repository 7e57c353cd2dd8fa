"""UPSNet's parameter-free panoptic head (Xiong et al., CVPR 2019).

Pure functions first, then :class:`UPSNetPanopticHead` holding the knobs.
For one image with semantic logits ``X`` (C, H, W) (things ``[0, T)``,
stuff ``[T, C)``) and N instances (box ``B_i``, class ``c_i``, mask
logits ``M_i`` resized into the box):

- stuff channels: ``X[T:]``;
- instance channel i: ``X[c_i]`` inside ``B_i`` + ``M_i`` inside ``B_i``,
  0 outside the box;
- unknown channel: ``max_c<T X[c]`` minus ``max_i`` (semantic term of
  instance i), so pixels the semantic head calls "thing" but no instance
  explains get a high unknown logit.

The composed logits are trained with cross entropy (pixels of randomly
dropped ground-truth instances are the unknown class), and at test time
the argmax decides each pixel; unknown pixels stay VOID.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmpanoptic.registry import MODELS

IGNORE_INDEX = 255


def _box_extent(box: Sequence[float]) -> Tuple[int, int, int, int]:
    """Whole-pixel ``(x0, y0, width, height)`` covered by an ``x1y1x2y2``
    box, at least 1 x 1 (UPSNet resizes mask logits to this size)."""
    x0, y0 = int(math.floor(box[0])), int(math.floor(box[1]))
    return x0, y0, max(int(math.ceil(box[2])) - x0, 1), max(int(math.ceil(box[3])) - y0, 1)


def box_ranges(boxes: Tensor, size: Tuple[int, int]) -> List[Tuple[int, int, int, int]]:
    """Pixel ranges ``(x0, y0, x1, y1)`` (end exclusive) of (N, 4) ``x1y1x2y2``
    boxes on an (H, W) grid: :func:`_box_extent` clipped to the grid (empty
    when the box lies outside).  The mask logits and the semantic term of an
    instance use the same ranges."""
    h, w = size
    out = []
    for box in boxes.tolist():
        x0, y0, bw, bh = _box_extent(box)
        out.append((max(x0, 0), max(y0, 0), min(x0 + bw, w), min(y0 + bh, h)))
    return out


def paste_mask_logits(mask_logits: Tensor, boxes: Tensor, size: Tuple[int, int]) -> Tensor:
    """Resize each (M, M) mask logit map bilinearly to its box and place it
    on a zero (N, H, W) canvas (differentiable; a loop over instances only).

    The box's full extent (also the part outside the image) gets the whole
    M x M map, then the part inside the image is kept, as UPSNet does.
    """
    canvas = mask_logits.new_zeros((mask_logits.shape[0], *size))
    for i, (box, (xa, ya, xb, yb)) in enumerate(zip(boxes.tolist(), box_ranges(boxes, size))):
        if xb <= xa or yb <= ya:
            continue
        x0, y0, bw, bh = _box_extent(box)
        resized = F.interpolate(mask_logits[i][None, None], size=(bh, bw), mode='bilinear',
                                align_corners=False)[0, 0]
        canvas[i, ya:yb, xa:xb] = resized[ya - y0:yb - y0, xa - x0:xb - x0]
    return canvas


def compose_panoptic_logits(sem_logits: Tensor, mask_logits: Tensor, boxes: Tensor,
                            labels: Tensor, *, num_things: int,
                            with_unknown: bool = True) -> Tensor:
    """UPSNet's panoptic logits ``[stuff (S), instances (N), unknown (1)]``.

    Args:
        sem_logits: (C, H, W) semantic logits, things first.
        mask_logits: (N, H, W) mask logits already pasted on the grid
            (:func:`paste_mask_logits`), 0 outside each box.
        boxes: (N, 4) ``x1y1x2y2`` on the same grid.
        labels: (N,) thing classes in ``[0, num_things)``.
        num_things: T.
        with_unknown: append the unknown channel.

    Returns:
        (S + N [+ 1], H, W) logits, S = C - T.

    >>> sem = torch.zeros(2, 2, 4); sem[0] = 2.0; sem[1] = 1.0   # thing 0, stuff 1
    >>> masks = torch.zeros(1, 2, 4); masks[0, :, :2] = 3.0
    >>> out = compose_panoptic_logits(sem, masks, torch.tensor([[0., 0., 2., 2.]]),
    ...                               torch.tensor([0]), num_things=1)
    >>> out[:, 0, 0].tolist(), out[:, 0, 3].tolist()     # [stuff, inst, unknown]
    ([1.0, 5.0, 0.0], [1.0, 0.0, 2.0])
    """
    c, h, w = sem_logits.shape
    if len(labels) and (int(labels.max()) >= num_things or int(labels.min()) < 0):
        raise ValueError(f'instance labels must be thing classes [0, {num_things}), got '
                         f'{labels.tolist()}')
    stuff = sem_logits[num_things:]
    n = len(labels)
    inst_sem = sem_logits.new_zeros((n, h, w))
    for i, (x0, y0, x1, y1) in enumerate(box_ranges(boxes, (h, w))):
        inst_sem[i, y0:y1, x0:x1] = sem_logits[int(labels[i]), y0:y1, x0:x1]
    parts = [stuff, inst_sem + mask_logits]
    if with_unknown:
        thing_max = sem_logits[:num_things].max(0).values if num_things else \
            sem_logits.new_zeros((h, w))
        # With no instance every pixel is outside all boxes: the max is 0.
        inst_max = inst_sem.max(0).values if n else sem_logits.new_zeros((h, w))
        parts.append((thing_max - inst_max)[None])
    return torch.cat(parts, 0)


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


def panoptic_from_composed(logits: Tensor, labels: Tensor, scores: Tensor, *,
                           num_things: int, stuff_area_limit: int = 4096
                           ) -> Tuple[Tensor, List[Dict]]:
    """Argmax of composed logits -> id map + ``segments_info``.

    Unknown pixels, stuff classes below ``stuff_area_limit`` pixels and
    instances that win no pixel are VOID (id 0).

    Args:
        logits: (S + N + 1, H, W) from :func:`compose_panoptic_logits`.
        labels, scores: (N,) of the instances.
    """
    n = len(labels)
    s = logits.shape[0] - n - 1
    winner = logits.argmax(0)
    areas = torch.bincount(winner.flatten(), minlength=s + n + 1)
    lut = torch.zeros(s + n + 1, dtype=torch.int32, device=logits.device)
    segments: List[Dict] = []
    for i in range(n):
        if areas[s + i] > 0:
            segments.append(dict(id=len(segments) + 1, label=int(labels[i]), isthing=True,
                                 score=float(scores[i]), area=int(areas[s + i])))
            lut[s + i] = len(segments)
    for k in range(s):
        if areas[k] > 0 and areas[k] >= stuff_area_limit:
            segments.append(dict(id=len(segments) + 1, label=num_things + k, isthing=False,
                                 area=int(areas[k])))
            lut[k] = len(segments)
    return lut[winner], segments


def remove_overlapping(masks: Tensor, scores: Tensor, *, overlap_thr: float = 0.3) -> Tensor:
    """Indices of instances kept by UPSNet's mask removal: in score order,
    an instance is dropped when more than ``overlap_thr`` of its mask is
    already covered by better ones (or its mask is empty).

    Args:
        masks: (N, H, W) bool; scores: (N,).

    Returns:
        (K,) int64 indices into the inputs, best score first.
    """
    order = scores.argsort(descending=True)
    if len(order) == 0:
        return order
    taken = torch.zeros(masks.shape[-2:], dtype=torch.bool, device=masks.device)
    keep = []
    for i in order.tolist():
        area = int(masks[i].sum())
        if area == 0:
            continue
        if int((masks[i] & taken).sum()) > overlap_thr * area:
            continue
        keep.append(i)
        taken |= masks[i]
    return torch.tensor(keep, dtype=torch.long, device=masks.device)


@MODELS.register_module()
class UPSNetPanopticHead:
    """Knobs of UPSNet's parameter-free panoptic head.

    Args:
        num_things, num_stuff: the label split (things first).
        box_keep_fraction: during training, the share of ground-truth
            instances given to the head; the pixels of the others become
            the unknown class (UPSNet: 0.7).  1.0 trains without unknown
            targets.
        loss_weight: of the panoptic cross entropy (UPSNet: 0.1 on COCO,
            0.5 on Cityscapes).
        score_thr: minimum detection score at test time.
        overlap_thr: mask removal threshold (:func:`remove_overlapping`).
        stuff_area_limit: minimum stuff segment area at test time.
    """

    def __init__(self, *, num_things: int, num_stuff: int, box_keep_fraction: float = 0.7,
                 loss_weight: float = 0.1, score_thr: float = 0.5, overlap_thr: float = 0.3,
                 stuff_area_limit: int = 4096) -> None:
        if not 0 < box_keep_fraction <= 1:
            raise ValueError(f'box_keep_fraction must be in (0, 1], got {box_keep_fraction}')
        self.num_things = num_things
        self.num_stuff = num_stuff
        self.box_keep_fraction = box_keep_fraction
        self.loss_weight = loss_weight
        self.score_thr = score_thr
        self.overlap_thr = overlap_thr
        self.stuff_area_limit = stuff_area_limit

    def split_kept(self, n: int, device: Optional[torch.device] = None
                   ) -> Tuple[Tensor, Tensor]:
        """Random kept / dropped indices of n training instances (at least
        one kept when n > 0; the global torch seed makes it reproducible)."""
        perm = torch.randperm(n, device=device)
        k = max(int(n * self.box_keep_fraction), 1) if n else 0
        return perm[:k].sort().values, perm[k:].sort().values

    def loss(self, composed: List[Tensor], targets: List[Tensor]) -> Tensor:
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
        return (f'UPSNetPanopticHead(num_things={self.num_things}, num_stuff={self.num_stuff}, '
                f'box_keep_fraction={self.box_keep_fraction}, loss_weight={self.loss_weight}, '
                f'score_thr={self.score_thr}, overlap_thr={self.overlap_thr}, '
                f'stuff_area_limit={self.stuff_area_limit})')
