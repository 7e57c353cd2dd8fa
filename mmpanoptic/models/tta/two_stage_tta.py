"""Test-time augmentation of the two-stage models (Panoptic FPN, UPSNet).

Detections cannot be averaged slot by slot: every view's boxes are mapped
back to the original image and merged by class-wise NMS (mmdet's
``DetTTAModel`` merge: ``bbox_flip`` + ``batched_nms``); then the RoI mask
head runs in every view on the merged boxes mapped into that view and the
RoI masks are averaged with flips undone, before they are pasted once
(detectron2's ``GeneralizedRCNNWithTTA`` does the same; mmdet's
``DetTTAModel`` refuses masks).  Semantic logits are averaged like any dense
map.  Every model call is a step of the shared two-stage path
(:mod:`mmpanoptic.models.segmentors.panoptic_fpn`: ``detect``,
``roi_mask_logits``, ``semantic_maps`` / ``semantic_logits``,
``paste_instances``).
"""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import batched_nms
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox_flip
from mmengine.structures import InstanceData
from torch import Tensor, nn

from .step import TTAStep, View, merge_dense_maps, unflip


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


def merge_detections(dets: Sequence, metas: Sequence[dict], nms_cfg: dict,
                     max_per_img: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Every view's detections of one image -> ``(boxes, scores, labels)`` in
    original image pixels after class-wise NMS, highest score first.

    ``dets[i]``: ``InstanceData`` with ``bboxes`` (x1, y1, x2, y2) in view
    ``i``'s input pixels, ``scores`` and ``labels``.
    """
    boxes = torch.cat([boxes_to_original(d.bboxes, m) for d, m in zip(dets, metas)])
    scores = torch.cat([d.scores for d in dets])
    labels = torch.cat([d.labels for d in dets])
    if len(boxes) == 0:
        return boxes.reshape(0, 4), scores, labels
    kept, keep = batched_nms(boxes, scores, labels, nms_cfg)
    keep = keep[:max_per_img]
    return kept[:max_per_img, :4], kept[:max_per_img, 4], labels[keep]


def merge_roi_masks(model: nn.Module, feats: Sequence[Sequence[Tensor]],
                    metas: Sequence[dict], boxes: Tensor, labels: Tensor, *,
                    probabilities: bool) -> Tensor:
    """(N, M, M) mask of each merged box for its class, the mean over views.

    ``boxes`` are in original image pixels; for view ``i`` they are mapped
    into its input (scaled, flipped), the model's ``roi_mask_logits`` runs
    on ``feats[i]`` (that image's FPN levels, batch 1) and a flipped view's
    masks are flipped back (a box's mask is in box-local coordinates).
    ``probabilities``: average sigmoids (as detectron2) or else raw logits
    (for heads that paste logits, UPSNet).
    """
    total = 0
    for x, meta in zip(feats, metas):
        preds = model.roi_mask_logits(tuple(x), [boxes_to_view(boxes, meta)], [labels])[0]
        if probabilities:
            preds = preds.sigmoid()
        total = total + unflip(preds, meta)
    return total / len(feats)


class TwoStageTTA(TTAStep):
    """The shared part: each view's features and box detections; the
    merged detections of one image."""

    def view_outputs(self, model: nn.Module, inputs: Tensor, samples: SampleList) -> Dict:
        """FPN features (the mask head runs on them again after the merge),
        box detections in the view's input pixels, semantic logits."""
        x = model.extract_feat(inputs)
        metas = [s.metainfo for s in samples]
        return dict(feats=x, detections=model.detect(x, samples),
                    sem_logits=self.view_semantic(model, x, metas, tuple(inputs.shape[-2:])))

    def view_semantic(self, model: nn.Module, x, metas, input_shape):
        raise NotImplementedError

    @staticmethod
    def merged_detections(model: nn.Module, views: Sequence[View], b: int):
        """Image ``b``'s metas of every view, and its boxes (original image
        pixels), scores and labels merged over the views by class-wise NMS
        (the RoI head's ``nms`` and ``max_per_img``)."""
        metas = [meta[b] for _, meta, _ in views]
        cfg = model.roi_head.test_cfg
        return (metas, *merge_detections([out['detections'][b] for out, _, _ in views], metas,
                                         cfg.nms, cfg.max_per_img))

    @staticmethod
    def view_feats(views: Sequence[View], b: int):
        return [[f[b:b + 1] for f in out['feats']] for out, _, _ in views]


class PanopticFPNTTA(TwoStageTTA):
    """Panoptic FPN: RoI mask probabilities averaged and pasted by mmdet's
    mask head; semantic logits averaged at the original size."""

    def view_semantic(self, model, x, metas, input_shape):
        """Semantic logits at each image's original size (flips not undone)."""
        return model.semantic_maps(x, metas, rescale=True)

    def merge(self, model: nn.Module, views: Sequence[View], b: int) -> Tuple[Dict, dict]:
        metas, boxes, scores, labels = self.merged_detections(model, views, b)
        ref = metas[0]
        # mmdet's mask head pastes boxes given in the reference view's pixels.
        dets = InstanceData(bboxes=boxes_to_view(boxes, ref), scores=scores, labels=labels)
        probs = boxes.new_zeros((0, 1, 1)) if len(boxes) == 0 else merge_roi_masks(
            model, self.view_feats(views, b), metas, boxes, labels, probabilities=True)
        instances = model.paste_instances(probs, dets, ref, rescale=True, activate_map=True)
        size = tuple(ref['ori_shape'][:2])
        sem = merge_dense_maps([out['sem_logits'][b] for out, _, _ in views], metas, size)
        return dict(instances=[instances], sem_logits=[sem]), ref


class UPSNetTTA(TwoStageTTA):
    """UPSNet: boxes cut at the fusion's score threshold, RoI mask logits
    averaged (UPSNet pastes logits), semantic logits averaged on the
    reference view's image region."""

    def view_semantic(self, model, x, metas, input_shape):
        """Semantic logits of each image's region at the view's input size."""
        sem = F.interpolate(model.semantic_logits(x), size=input_shape, mode='bilinear',
                            align_corners=False)
        return [sem[i, :, :m['img_shape'][0], :m['img_shape'][1]] for i, m in enumerate(metas)]

    def merge(self, model: nn.Module, views: Sequence[View], b: int) -> Tuple[Dict, dict]:
        metas, boxes, scores, labels = self.merged_detections(model, views, b)
        ref = metas[0]
        keep = model.mask_keep(scores)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        masks = boxes.new_zeros((0, 1, 1)) if len(boxes) == 0 else merge_roi_masks(
            model, self.view_feats(views, b), metas, boxes, labels, probabilities=False)
        size = tuple(ref['img_shape'][:2])
        sem = merge_dense_maps([out['sem_logits'][b] for out, _, _ in views], metas, size)
        dets = InstanceData(bboxes=boxes_to_view(boxes, ref), scores=scores, labels=labels)
        meta = dict(ref, pad_shape=size, batch_input_shape=size, flip=False)
        return dict(sem_logits=sem[None], detections=[dets], mask_logits=[masks]), meta
