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
resize, the x offset negated under a horizontal flip).  Two-stage models
(Panoptic FPN, UPSNet) cannot average detections slot by slot: every view's
boxes are mapped back to the original image and merged by class-wise NMS
(mmdet's ``DetTTAModel`` merge: ``bbox_flip`` + ``batched_nms``),
then the mask head runs once per view on the merged boxes mapped into that
view and the RoI masks are averaged (flips undone) before they are pasted
once (detectron2's ``GeneralizedRCNNWithTTA`` does the same; mmdet's
``DetTTAModel`` refuses masks); their semantic logits are averaged like any
dense map.  Such models give ``tta_view_outputs`` (features included) and
this module's :func:`merge_detections` / :func:`merge_roi_masks` do the
shared part.
"""
import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import batched_nms
from mmdet.structures.bbox import bbox2roi, bbox_flip
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


def _box_scale(boxes: Tensor, meta: dict) -> Tensor:
    """(sx, sy, sx, sy) of a view.  mmdet's ``bbox_mapping`` /
    ``bbox_mapping_back`` multiply by ``scale_factor`` as given, which in
    mmdet 3.x is the 2-tuple (w, h): it does not broadcast over 4 columns."""
    sx, sy = meta['scale_factor'][:2]
    return boxes.new_tensor([sx, sy, sx, sy])


def boxes_to_original(boxes: Tensor, meta: dict) -> Tensor:
    """A view's (N, 4) input-pixel boxes -> original image pixels."""
    if meta.get('flip', False):
        boxes = bbox_flip(boxes, meta['img_shape'], meta.get('flip_direction') or 'horizontal')
    return boxes / _box_scale(boxes, meta)


def boxes_to_view(boxes: Tensor, meta: dict) -> Tensor:
    """(N, 4) original image boxes -> a view's input pixels (scaled, flipped)."""
    boxes = boxes * _box_scale(boxes, meta)
    if meta.get('flip', False):
        boxes = bbox_flip(boxes, meta['img_shape'], meta.get('flip_direction') or 'horizontal')
    return boxes


def merge_dense_maps(maps: Sequence[Tensor], metas: Sequence[dict],
                     size: Tuple[int, int]) -> Tensor:
    """Mean of (C, h, w) maps of one image, each already cropped to its
    view's image region: resized to ``size`` (bilinear), flips undone."""
    total = 0
    for x, meta in zip(maps, metas):
        if tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x[None], size=size, mode='bilinear', align_corners=False)[0]
        total = total + _unflip(x, meta)
    return total / len(maps)


def merge_detections(dets: Sequence, metas: Sequence[dict], nms_cfg: dict,
                     max_per_img: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Every view's detections of one image -> ``(boxes, scores, labels)`` in
    original image pixels after class-wise NMS, highest score first.

    ``dets[i]``: ``InstanceData`` with ``bboxes`` (x1, y1, x2, y2) in view
    ``i``'s input pixels (``rescale=False``), ``scores`` and ``labels``.
    """
    boxes = torch.cat([boxes_to_original(d.bboxes, m) for d, m in zip(dets, metas)])
    scores = torch.cat([d.scores for d in dets])
    labels = torch.cat([d.labels for d in dets])
    if len(boxes) == 0:
        return boxes.reshape(0, 4), scores, labels
    kept, keep = batched_nms(boxes, scores, labels, nms_cfg)
    keep = keep[:max_per_img]
    return kept[:max_per_img, :4], kept[:max_per_img, 4], labels[keep]


def merge_roi_masks(roi_head, feats: Sequence[Sequence[Tensor]], metas: Sequence[dict],
                    boxes: Tensor, labels: Tensor, *, probabilities: bool) -> Tensor:
    """(N, M, M) mask of each merged box for its class, the mean over views.

    ``boxes`` are in original image pixels; for view ``i`` they are mapped
    into its input (scaled, flipped), the RoI mask head of
    ``roi_head`` runs on ``feats[i]`` (that image's FPN levels, batch 1) and
    a flipped view's masks are flipped back (a box's mask is in box-local
    coordinates).  ``probabilities``: average sigmoids (as detectron2) or
    else raw logits (for heads that paste logits, UPSNet).
    """
    total = 0
    index = torch.arange(len(labels), device=boxes.device)
    for x, meta in zip(feats, metas):
        view_boxes = boxes_to_view(boxes, meta)
        preds = roi_head._mask_forward(tuple(x), bbox2roi([view_boxes]))['mask_preds']
        preds = preds[index, labels] if preds.shape[1] > 1 else preds[:, 0]
        if probabilities:
            preds = preds.sigmoid()
        total = total + _unflip(preds, meta)
    return total / len(feats)


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

    @torch.no_grad()
    def test_step(self, data):
        num_views = len(data['inputs'])
        model = self.module
        merge = getattr(model, 'merge_tta_outputs', None)
        if merge is None:
            raise NotImplementedError(
                f'{type(model).__name__} has no test-time augmentation yet (merge_tta_outputs); '
                'supported: MaskFormer, Mask2Former, K-Net, FC-CLIP, Panoptic-DeepLab, '
                'Panoptic FPN, UPSNet')
        # Two-stage models return their features too (their mask head runs
        # again on the merged boxes); the others' fusion inputs suffice.
        view_outputs = getattr(model, 'tta_view_outputs', model.predict_outputs)
        views: List[View] = []
        ref_samples = None
        for i in range(num_views):
            view = model.data_preprocessor({k: v[i] for k, v in data.items()}, False)
            outputs = view_outputs(view['inputs'], view['data_samples'])
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
