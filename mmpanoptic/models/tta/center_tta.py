"""Test-time augmentation of Panoptic-DeepLab: semantic logits, center
heatmap and offsets averaged (offsets scaled with the resize, the x offset
negated under a horizontal flip)."""
from typing import Dict, Sequence, Tuple

import torch
from torch import nn

from ..fusion.center_grouping import upsample_predictions
from .step import TTAStep, View, unflip


def merge_center_outputs(views: Sequence[View], b: int) -> Tuple[Dict, dict]:
    """Image ``b`` of every view -> Panoptic-DeepLab's ``sem`` / ``center`` /
    ``offset`` (1, *, h, w) on the reference view's image region."""
    ref = views[0][1][b]
    size = tuple(ref['img_shape'][:2])
    total = None
    for outputs, metas, _ in views:
        meta = metas[b]
        vh, vw = meta['img_shape'][:2]
        pred = {k: v[b:b + 1, :, :vh, :vw] for k, v in outputs.items()
                if k in ('sem', 'center', 'offset')}
        if (vh, vw) != size:
            pred = upsample_predictions(pred, size)  # offsets scaled too
        pred = {k: unflip(v, meta) for k, v in pred.items()}
        if meta.get('flip', False):
            direction = meta.get('flip_direction', 'horizontal')
            sign = torch.ones(2, dtype=pred['offset'].dtype, device=pred['offset'].device)
            if direction in ('horizontal', 'diagonal'):
                sign[1] = -1  # offsets are (dy, dx)
            if direction in ('vertical', 'diagonal'):
                sign[0] = -1
            pred['offset'] = pred['offset'] * sign[None, :, None, None]
        total = pred if total is None else {k: total[k] + pred[k] for k in total}
    merged = {k: v / len(views) for k, v in total.items()}
    return merged, dict(ref, batch_input_shape=size, pad_shape=size, flip=False)


class CenterTTA(TTAStep):
    """Means of the semantic / center / offset maps (:func:`merge_center_outputs`)."""

    def merge(self, model: nn.Module, views: Sequence[View], b: int) -> Tuple[Dict, dict]:
        return merge_center_outputs(views, b)
