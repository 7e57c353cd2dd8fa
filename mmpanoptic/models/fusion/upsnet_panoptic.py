"""UPSNet's parameter-free panoptic head (Xiong et al., CVPR 2019).

Pure functions first, then :class:`UPSNetFusion` (test time); the training
targets and loss are :class:`~mmpanoptic.models.criteria.UPSNetPanopticLoss`.
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
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from .base import PanopticFusion


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
class UPSNetFusion(PanopticFusion):
    """UPSNet's parameter-free panoptic head at test time.

    Reads ``sem_logits`` (B, S + T, H, W) at the padded input size,
    ``detections`` (per image ``InstanceData`` with ``bboxes`` in input
    pixels, ``labels``, ``scores``, already above :attr:`score_thr`) and
    ``mask_logits`` (per image (N, M, M) RoI mask logits of those
    detections).  Per image: crop the padding, resize to ``ori_shape`` with
    ``rescale`` (boxes scaled), paste the masks, :func:`remove_overlapping`,
    :func:`compose_panoptic_logits` and :func:`panoptic_from_composed`.
    Returns the panoptic map and the kept detections (``instances``).

    Args:
        num_things, num_stuff: the label split (things first).
        score_thr: minimum detection score (applied by the model before the
            mask head, which then runs on fewer boxes).
        overlap_thr: mask removal threshold (:func:`remove_overlapping`).
        stuff_area_limit: minimum stuff segment area.
    """

    input_keys = ('sem_logits', 'detections', 'mask_logits')

    def __init__(self, *, num_things: int, num_stuff: int, score_thr: float = 0.5,
                 overlap_thr: float = 0.3, stuff_area_limit: int = 4096) -> None:
        super().__init__(num_things=num_things, num_stuff=num_stuff)
        self.score_thr = score_thr
        self.overlap_thr = overlap_thr
        self.stuff_area_limit = stuff_area_limit

    def fuse(self, outputs: Dict, batch_img_metas: Sequence[dict],
             rescale: bool = True) -> List[Dict]:
        results = []
        for i, meta in enumerate(batch_img_metas):
            det, masks = outputs['detections'][i], outputs['mask_logits'][i]
            h, w = meta['img_shape'][:2]
            sem, boxes = outputs['sem_logits'][i, :, :h, :w], det.bboxes
            if rescale:
                out_size = tuple(meta['ori_shape'][:2])
                sem = F.interpolate(sem[None], size=out_size, mode='bilinear',
                                    align_corners=False)[0]
                sx, sy = meta['scale_factor'][:2]
                boxes = boxes / boxes.new_tensor([sx, sy, sx, sy])
            else:
                out_size = (h, w)
            pasted = paste_mask_logits(masks, boxes, out_size)
            keep = remove_overlapping(pasted > 0, det.scores, overlap_thr=self.overlap_thr)
            labels, scores = det.labels[keep], det.scores[keep]
            composed = compose_panoptic_logits(sem, pasted[keep], boxes[keep], labels,
                                               num_things=self.num_things)
            ids, segments = panoptic_from_composed(
                composed, labels, scores, num_things=self.num_things,
                stuff_area_limit=self.stuff_area_limit)
            results.append(dict(panoptic=(ids, segments), instances=InstanceData(
                bboxes=boxes[keep], labels=labels, scores=scores)))
        return results
