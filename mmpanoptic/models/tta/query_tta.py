"""Test-time augmentation of mask-classification models (MaskFormer,
Mask2Former, K-Net, FC-CLIP): the queries are learned slots, so query ``j``
of every view is the same slot; class and mask logits are averaged per query
(how query models' semantic TTA averages the per-view outputs)."""
import math
from typing import Dict, Sequence, Tuple

import torch.nn.functional as F
from torch import nn

from .step import TTAStep, View, unflip


def merge_query_outputs(views: Sequence[View], b: int) -> Tuple[Dict, dict]:
    """Image ``b`` of every view -> one ``cls_logits`` (1, Q, C + 1) and
    ``mask_logits`` (1, Q, h, w), means over the views; masks at the
    reference view's mask resolution, cropped to its image region."""
    ref_out, ref_metas, ref_pad = views[0]
    ref = ref_metas[b]
    mh, mw = ref_out['mask_logits'].shape[-2:]
    ih, iw = ref['img_shape'][:2]
    size = (math.ceil(mh * ih / ref_pad[0]), math.ceil(mw * iw / ref_pad[1]))
    cls_sum, mask_sum = 0, 0
    for outputs, metas, pad in views:
        meta = metas[b]
        masks = outputs['mask_logits'][b]
        h, w = masks.shape[-2:]
        vh, vw = meta['img_shape'][:2]
        masks = masks[:, :math.ceil(h * vh / pad[0]), :math.ceil(w * vw / pad[1])]
        if tuple(masks.shape[-2:]) != size:
            masks = F.interpolate(masks[None], size=size, mode='bilinear',
                                  align_corners=False)[0]
        mask_sum = mask_sum + unflip(masks, meta)
        cls_sum = cls_sum + outputs['cls_logits'][b]
    n = len(views)
    meta = dict(ref, img_shape=size, batch_input_shape=size, pad_shape=size, flip=False)
    return dict(cls_logits=(cls_sum / n)[None], mask_logits=(mask_sum / n)[None]), meta


class QueryTTA(TTAStep):
    """Per-query means of class and mask logits (:func:`merge_query_outputs`)."""

    def merge(self, model: nn.Module, views: Sequence[View], b: int) -> Tuple[Dict, dict]:
        return merge_query_outputs(views, b)
