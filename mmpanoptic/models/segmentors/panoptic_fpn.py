"""Panoptic FPN (Kirillov et al., CVPR 2019) and the one two-stage inference
path it shares with UPSNet, their test-time augmentation and the ONNX export.

The two-stage path, in the order it runs::

    x = model.extract_feat(inputs)                         # FPN levels
    dets = model.detect(x, samples)                        # RPN + RoI box head, input pixels
    keep = model.mask_keep(dets[i].scores)                 # which boxes get a mask
    masks = model.roi_mask_logits(x, boxes, labels)        # (N, M, M) per box, its class
    sem = model.semantic_logits(x)                         # (B, C, h, w) at the head's stride
    outputs = model.fusion_inputs(dets, masks, sem, metas, rescale)   # what the fusion reads

``predict_outputs`` is exactly these calls; :mod:`mmpanoptic.models.tta`
(``TwoStageTTA``) runs the first four per view and merges; the ONNX export
(:mod:`mmpanoptic.apis.export`) traces the first four and feeds ONNX
Runtime's results to ``fusion_inputs``.
"""
import copy
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.detectors import TwoStageDetector
from mmdet.models.utils import empty_instances
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part
from ..tta import PanopticFPNTTA
from .base import PanopticPredictMixin


def resize_semantic(sem: Tensor, metas: Sequence[dict], rescale: bool) -> List[Tensor]:
    """(B, C, h, w) semantic logits -> per image (C, H, W): resized to the
    padded input (``batch_input_shape``), then with ``rescale`` cropped to
    ``img_shape`` and resized to ``ori_shape`` (mmdet's
    ``BaseSemanticHead.predict``, as tensors so the export can reuse it)."""
    sem = F.interpolate(sem, size=tuple(metas[0]['batch_input_shape'][:2]), mode='bilinear',
                        align_corners=False)
    if not rescale:
        return [sem[i] for i in range(len(metas))]
    out = []
    for i, meta in enumerate(metas):
        h, w = meta['img_shape'][:2]
        out.append(F.interpolate(sem[i:i + 1, :, :h, :w], size=tuple(meta['ori_shape'][:2]),
                                 mode='bilinear', align_corners=False)[0])
    return out


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
            a loss dict and ``forward(x)['seg_preds']`` the (B, S + 1, h, w)
            logits.
        fusion: config or callable ``(instances, sem_logits) -> (ids, segments_info)``.
        train_cfg, test_cfg, data_preprocessor, init_cfg: as in mmdet.

    Predictions are written to ``data_sample.pred_panoptic_seg``: ``sem_seg``
    is the (1, H, W) int32 id map at the original image size and the
    metainfo ``segments_info`` lists ``id``, ``label``, ``isthing``,
    ``score``, ``area``.  ``pred_instances`` keeps the raw detections.
    """

    tta_step = PanopticFPNTTA()

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

    # ------------------------------------------------------------------ training
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

    # ------------------------------------------------------------------ the two-stage path
    def detect(self, x: Sequence[Tensor], batch_data_samples: SampleList) -> List[InstanceData]:
        """RPN proposals, then the RoI box head with its class-wise NMS: per
        image ``bboxes`` (N, 4) in input pixels, ``scores``, ``labels``."""
        metas = [s.metainfo for s in batch_data_samples]
        proposals = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        return self.roi_head.predict_bbox(x, metas, proposals, self.roi_head.test_cfg,
                                          rescale=False)

    def mask_keep(self, scores: Tensor) -> Tensor:
        """(N,) bool: the detections that get a mask (all of them here)."""
        return torch.ones_like(scores, dtype=torch.bool)

    def roi_mask_logits(self, x: Sequence[Tensor], boxes: Sequence[Tensor],
                        labels: Sequence[Tensor]) -> List[Tensor]:
        """(N_i, M, M) RoI mask logits of each image's boxes (input pixels)
        for their class.

        The RoI extractor, shared head and mask head are called as modules
        (mmdet's ``StandardRoIHead._mask_forward`` does the same, privately);
        the class is picked with a gather so that a traced graph does not
        freeze the number of boxes.
        """
        if sum(len(b) for b in boxes) == 0:
            return [x[0].new_zeros((0, 1, 1)) for _ in boxes]
        head = self.roi_head
        feats = head.mask_roi_extractor(x[:head.mask_roi_extractor.num_inputs], bbox2roi(boxes))
        if head.with_shared_head:
            feats = head.shared_head(feats)
        preds = head.mask_head(feats)
        if preds.shape[1] > 1:  # class-specific masks
            index = torch.cat(list(labels)).long().view(-1, 1, 1, 1)
            preds = preds.gather(1, index.expand(-1, 1, *preds.shape[-2:]))
        return list(preds[:, 0].split([len(b) for b in boxes]))

    def semantic_logits(self, x: Sequence[Tensor]) -> Tensor:
        """(B, C, h, w) semantic logits at the semantic head's stride."""
        return self.semantic_head.forward(x)['seg_preds']

    def semantic_maps(self, x: Sequence[Tensor], metas: Sequence[dict],
                      rescale: bool) -> List[Tensor]:
        """Per image (C, H, W) semantic logits at the output size
        (:func:`resize_semantic` of :meth:`semantic_logits`)."""
        return resize_semantic(self.semantic_logits(x), metas, rescale)

    def paste_instances(self, mask_maps: Tensor, dets: InstanceData, meta: dict, *,
                        rescale: bool = True, activate_map: bool = False) -> InstanceData:
        """One image's detections (boxes in input pixels) with their (N, M, M)
        mask logits (or probabilities, ``activate_map=True``) pasted by
        mmdet's mask head (``mask_thr_binary``); with ``rescale`` at
        ``ori_shape``."""
        cfg = self.roi_head.test_cfg
        # mmdet's mask head rescales the boxes in place: give it a copy
        found = InstanceData(bboxes=dets.bboxes.clone(), scores=dets.scores, labels=dets.labels)
        if len(found) == 0:
            return empty_instances([meta], found.bboxes.device, task_type='mask',
                                   instance_results=[found],
                                   mask_thr_binary=cfg.mask_thr_binary)[0]
        head = self.roi_head.mask_head
        per_class = mask_maps[:, None].expand(-1, head.num_classes, -1, -1)
        with warnings.catch_warnings():  # mmdet copies an activated map with new_tensor
            warnings.filterwarnings('ignore', 'To copy construct from a tensor')
            return head.predict_by_feat((per_class, ), [found], [meta], cfg, rescale=rescale,
                                        activate_map=activate_map)[0]

    def network_outputs(self, batch_inputs: Tensor,
                        batch_data_samples: SampleList) -> Tuple[List, List, Tensor]:
        """The tensor part of the path: per image detections and their mask
        logits, and the semantic logits (what the ONNX graph returns)."""
        x = self.extract_feat(batch_inputs)
        dets = [d[self.mask_keep(d.scores)] for d in self.detect(x, batch_data_samples)]
        masks = self.roi_mask_logits(x, [d.bboxes for d in dets], [d.labels for d in dets])
        return dets, masks, self.semantic_logits(x)

    def fusion_inputs(self, dets: Sequence[InstanceData], mask_logits: Sequence[Tensor],
                      sem_logits: Tensor, metas: Sequence[dict], rescale: bool = True) -> Dict:
        """:class:`HeuristicFusion`'s inputs: ``instances`` (masks pasted) and
        per image ``sem_logits``, at ``ori_shape`` with ``rescale``."""
        instances = [self.paste_instances(m, d, meta, rescale=rescale)
                     for d, m, meta in zip(dets, mask_logits, metas)]
        return dict(instances=instances, sem_logits=resize_semantic(sem_logits, metas, rescale))

    def predict_output_options(self, rescale: bool) -> dict:
        """The pasted masks and semantic logits are made at the output size."""
        return dict(rescale=rescale)

    def predict_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                        rescale: bool = True) -> Dict:
        """The fusion's inputs: :meth:`network_outputs` then :meth:`fusion_inputs`."""
        metas = [s.metainfo for s in batch_data_samples]
        return self.fusion_inputs(*self.network_outputs(batch_inputs, batch_data_samples),
                                  metas, rescale)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Tuple:
        """Raw outputs (features, RPN outputs, semantic logits) for tracing."""
        x = self.extract_feat(batch_inputs)
        return x, self.rpn_head.forward(x), self.semantic_logits(x)
