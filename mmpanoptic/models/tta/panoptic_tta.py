"""Test-time augmentation (flip and multi-scale) for panoptic models.

mmengine's ``BaseTTAModel`` runs the model on every augmented view and then
merges the *final* predictions; panoptic maps of different views cannot be
averaged (their segment ids are unrelated).  :class:`PanopticTTAModel` merges
one step earlier, where every family's outputs are dense or per query:

1. each view: the model's own ``predict_outputs`` (the fusion's inputs);
2. per image, the views' outputs are brought back onto the reference view
   (the first one: the test scale, not flipped): padding cropped, resized,
   flips undone; then averaged (a merge function per family below);
3. the model's own ``fusion`` once on the merged outputs, at ``ori_shape``.

Families: mask classification (MaskFormer, Mask2Former, K-Net, FC-CLIP) merge
the class logits and the mask logits of each query index (the queries are
learned slots, so query ``j`` of every view is the same slot; this is how
query models' semantic TTA averages the per-view outputs); Panoptic-DeepLab
averages its semantic logits, center heatmap and offsets (scaled with the
resize, the x offset negated under a horizontal flip).  Panoptic FPN and
UPSNet (detections merged by box NMS) are not supported yet and say so.
"""
import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseTTAModel
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..fusion.base import add_pred_to_samples
from ..fusion.center_grouping import upsample_predictions

View = Tuple[Dict[str, Tensor], List[dict], Tuple[int, int]]  # outputs, metas, pad (H, W)


def _unflip(x: Tensor, meta: dict) -> Tensor:
    if not meta.get('flip', False):
        return x
    direction = meta.get('flip_direction', 'horizontal')
    dims = {'horizontal': [-1], 'vertical': [-2], 'diagonal': [-2, -1]}[direction]
    return x.flip(dims)


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
        mask_sum = mask_sum + _unflip(masks, meta)
        cls_sum = cls_sum + outputs['cls_logits'][b]
    n = len(views)
    meta = dict(ref, img_shape=size, batch_input_shape=size, pad_shape=size, flip=False)
    return dict(cls_logits=(cls_sum / n)[None], mask_logits=(mask_sum / n)[None]), meta


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
        pred = {k: _unflip(v, meta) for k, v in pred.items()}
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


@MODELS.register_module()
class PanopticTTAModel(BaseTTAModel):
    """Flip / multi-scale test-time augmentation for panoptic models.

    Used by ``tools/test.py CONFIG CKPT --tta`` with the config's
    ``tta_model = dict(type='PanopticTTAModel')`` and ``tta_pipeline`` (a
    ``TestTimeAug`` whose first view is the plain test view: it is the
    reference the others are mapped onto, and its data samples carry the
    ground truth to the metrics).

    Args:
        module: the panoptic model (config or module).
        data_preprocessor: as in ``BaseTTAModel`` (the module's is used).
    """

    def test_step(self, data):
        num_views = len(data['inputs'])
        model = self.module
        merge = getattr(model, 'merge_tta_outputs', None)
        if merge is None:
            raise NotImplementedError(
                f'{type(model).__name__} has no test-time augmentation yet (merge_tta_outputs); '
                'supported: MaskFormer, Mask2Former, K-Net, FC-CLIP, Panoptic-DeepLab')
        views: List[View] = []
        ref_samples = None
        for i in range(num_views):
            view = model.data_preprocessor({k: v[i] for k, v in data.items()}, False)
            with torch.no_grad():
                outputs = model.predict_outputs(view['inputs'], view['data_samples'])
            views.append((outputs, [s.metainfo for s in view['data_samples']],
                          tuple(view['inputs'].shape[-2:])))
            if i == 0:
                ref_samples = view['data_samples']
        results = []
        for b in range(len(ref_samples)):
            outputs, meta = merge(views, b)
            results += model.fusion(outputs, [meta], rescale=True)
        return add_pred_to_samples(ref_samples, results)

    def merge_preds(self, data_samples_list):
        raise NotImplementedError('PanopticTTAModel merges model outputs in test_step')
