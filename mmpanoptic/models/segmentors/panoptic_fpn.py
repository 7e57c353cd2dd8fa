"""Panoptic FPN (Kirillov et al., CVPR 2019)."""
import copy
import warnings
from typing import Dict, Optional, Tuple

import torch
from mmdet.models.detectors import TwoStageDetector
from mmdet.models.utils import empty_instances
from mmdet.structures import SampleList
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part
from .base import PanopticPredictMixin


@MODELS.register_module()
class PanopticFPN(PanopticPredictMixin, TwoStageDetector):
    """Shared FPN features feeding a Mask R-CNN instance branch and a
    semantic FPN branch, merged by a fusion module.

    It reuses mmdet's two-stage detector for the RPN and RoI heads and adds
    a semantic head (e.g. ``mmdet.PanopticFPNHead``) and a fusion module
    (:class:`HeuristicFusion`), both registry-built and swappable.

    Args:
        backbone, neck, rpn_head, roi_head: as in mmdet's ``TwoStageDetector``.
        semantic_head: config or module; its ``loss(x, data_samples)`` returns
            a loss dict and ``predict(x, img_metas, rescale)`` per-image
            (S + 1, H, W) logits.
        fusion: config or callable ``(instances, sem_logits) -> (ids, segments_info)``.
        train_cfg, test_cfg, data_preprocessor, init_cfg: as in mmdet.

    Predictions are written to ``data_sample.pred_panoptic_seg``: ``sem_seg``
    is the (1, H, W) int32 id map at the original image size and the
    metainfo ``segments_info`` lists ``id``, ``label``, ``isthing``,
    ``score``, ``area``.  ``pred_instances`` keeps the raw detections.
    """

    def __init__(self,
                 *,
                 backbone: ConfigOrModule,
                 neck: ConfigOrModule,
                 rpn_head: ConfigOrModule,
                 roi_head: ConfigOrModule,
                 semantic_head: ConfigOrModule,
                 fusion,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone, neck=neck, rpn_head=rpn_head, roi_head=roi_head,
            train_cfg=train_cfg, test_cfg=test_cfg,
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.semantic_head = build_part(semantic_head, name='semantic_head')
        self.fusion = build_part(fusion, name='fusion')

    def _instance_losses(self, x: Tuple[Tensor], data_samples: SampleList) -> Dict:
        """RPN (class-agnostic) and RoI losses on already computed features."""
        losses = {}
        proposal_cfg = self.train_cfg.get('rpn_proposal', self.test_cfg.rpn)
        rpn_samples = copy.deepcopy(data_samples)
        for s in rpn_samples:
            s.gt_instances.labels = torch.zeros_like(s.gt_instances.labels)
        rpn_losses, proposals = self.rpn_head.loss_and_predict(
            x, rpn_samples, proposal_cfg=proposal_cfg)
        for key in list(rpn_losses):
            if 'loss' in key and 'rpn' not in key:
                rpn_losses[f'rpn_{key}'] = rpn_losses.pop(key)
        losses.update(rpn_losses)
        losses.update(self.roi_head.loss(x, proposals, data_samples))
        return losses

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict:
        """Instance, RPN and semantic losses for a (B, 3, H, W) batch."""
        x = self.extract_feat(batch_inputs)
        losses = self._instance_losses(x, batch_data_samples)
        losses.update(self.semantic_head.loss(x, batch_data_samples))
        return losses

    def predict_output_options(self, rescale: bool) -> dict:
        """mmdet's RoI heads resize the instances themselves: they need ``rescale``."""
        return dict(rescale=rescale)

    def predict_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                        rescale: bool = True) -> Dict:
        """mmdet's instance predictions and the semantic logits, per image,
        already at the output size (mmdet's heads resize them)."""
        x = self.extract_feat(batch_inputs)
        img_metas = [s.metainfo for s in batch_data_samples]
        proposals = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        instances = self.roi_head.predict(x, proposals, batch_data_samples, rescale=rescale)
        sem_logits = self.semantic_head.predict(x, img_metas, rescale=rescale)
        return dict(instances=instances, sem_logits=sem_logits)

    def tta_view_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict:
        """Test-time augmentation, one view: the FPN features (the mask head
        runs on them again after the views' boxes are merged), the box
        detections in the view's input pixels and the semantic logits at
        each image's original size (flips not undone yet)."""
        x, metas, dets = self._tta_detections(batch_inputs, batch_data_samples)
        return dict(feats=x, detections=dets,
                    sem_logits=self.semantic_head.predict(x, metas, rescale=True))

    def _tta_detections(self, batch_inputs: Tensor, batch_data_samples: SampleList):
        """Features, metas and box detections (input pixels) of one TTA view."""
        x = self.extract_feat(batch_inputs)
        metas = [s.metainfo for s in batch_data_samples]
        proposals = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        return x, metas, self.roi_head.predict_bbox(x, metas, proposals,
                                                    self.roi_head.test_cfg, rescale=False)

    def _merged_tta_detections(self, views, b: int):
        """Image ``b``'s metas of every view, and its boxes (original image
        pixels), scores and labels merged over the views by class-wise NMS."""
        from ..tta import merge_detections
        metas = [meta[b] for _, meta, _ in views]
        cfg = self.roi_head.test_cfg
        return (metas, *merge_detections([out['detections'][b] for out, _, _ in views], metas,
                                         cfg.nms, cfg.max_per_img))

    def merge_tta_outputs(self, views, b: int):
        """Image ``b`` of every view -> the fusion's ``instances`` and
        ``sem_logits`` at the original size: boxes merged by class-wise NMS
        (the RoI head's ``nms`` and ``max_per_img``), RoI mask probabilities
        averaged over the views and pasted by mmdet's mask head, semantic
        logits averaged (:mod:`mmpanoptic.models.tta`)."""
        from ..tta import boxes_to_view, merge_dense_maps, merge_roi_masks
        metas, boxes, scores, labels = self._merged_tta_detections(views, b)
        ref, cfg = metas[0], self.roi_head.test_cfg
        # mmdet's mask head pastes boxes given in the reference view's pixels.
        found = InstanceData(bboxes=boxes_to_view(boxes, ref), scores=scores, labels=labels)
        if len(boxes) == 0:
            instances = empty_instances([ref], boxes.device, task_type='mask',
                                        instance_results=[found],
                                        mask_thr_binary=cfg.mask_thr_binary)[0]
        else:
            feats = [[f[b:b + 1] for f in out['feats']] for out, _, _ in views]
            probs = merge_roi_masks(self.roi_head, feats, metas, boxes, labels,
                                    probabilities=True)
            per_class = probs[:, None].expand(-1, self.roi_head.mask_head.num_classes, -1, -1)
            with warnings.catch_warnings():  # mmdet copies the map with new_tensor
                warnings.filterwarnings('ignore', 'To copy construct from a tensor')
                instances = self.roi_head.mask_head.predict_by_feat(
                    (per_class,), [found], [ref], cfg, rescale=True, activate_map=True)[0]
        size = tuple(ref['ori_shape'][:2])
        sem = merge_dense_maps([out['sem_logits'][b] for out, _, _ in views], metas, size)
        return dict(instances=[instances], sem_logits=[sem]), ref

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Tuple:
        """Raw outputs (features, RPN outputs, semantic logits) for tracing."""
        x = self.extract_feat(batch_inputs)
        return x, self.rpn_head.forward(x), self.semantic_head.forward(x)['seg_preds']
