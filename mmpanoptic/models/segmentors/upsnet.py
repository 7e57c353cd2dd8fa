"""UPSNet (Xiong et al., CVPR 2019): a learnable merge of instances and stuff."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part, with_counts
from ..criteria.targets import instance_masks
from ..criteria.upsnet_panoptic_loss import upsnet_panoptic_targets
from ..fusion.upsnet_panoptic import compose_panoptic_logits, paste_mask_logits
from .panoptic_fpn import PanopticFPN


def _subsample(x: Tensor, stride: int) -> Tensor:
    """Nearest downsampling of (..., H, W) label maps by an integer stride
    (the center pixel of every stride x stride block)."""
    return x[..., stride // 2::stride, stride // 2::stride]


@MODELS.register_module()
class UPSNet(PanopticFPN):
    """FPN backbone, Mask R-CNN instance branch (mmdet's RPN / RoI heads on
    mmcv's compiled RoIAlign), deformable semantic head
    (:class:`UPSNetSemanticHead`) and the parameter-free panoptic head
    (:mod:`..fusion.upsnet_panoptic`): at test time :class:`UPSNetFusion`,
    in the slot where Panoptic FPN has its heuristic merge, and in training
    :class:`UPSNetPanopticLoss`.

    Training adds to the RPN / box / mask losses the semantic cross entropy
    and the panoptic cross entropy over logits composed at stride 4 from the
    ground-truth boxes (a random ``box_keep_fraction`` of them; the pixels
    of the rest are the unknown class).  Inference composes the logits of
    the detections (after score threshold and mask removal) at the output
    resolution and takes the argmax; unknown pixels stay VOID.

    Args:
        backbone, neck, rpn_head, roi_head: as in mmdet's Mask R-CNN.
        semantic_head: :class:`UPSNetSemanticHead` (``num_classes`` filled in).
        fusion: :class:`UPSNetFusion` (class counts filled in).
        panoptic_loss: :class:`UPSNetPanopticLoss`.
        num_things_classes, num_stuff_classes: the label split (things first).
        train_cfg, test_cfg, data_preprocessor, init_cfg: as in mmdet.
    """

    def __init__(self,
                 *,
                 backbone: ConfigOrModule,
                 neck: ConfigOrModule,
                 rpn_head: ConfigOrModule,
                 roi_head: ConfigOrModule,
                 semantic_head: ConfigOrModule,
                 fusion: ConfigOrModule,
                 num_things_classes: int,
                 panoptic_loss: ConfigOrModule = dict(type='UPSNetPanopticLoss'),
                 num_stuff_classes: int,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone, neck=neck, rpn_head=rpn_head, roi_head=roi_head,
            semantic_head=with_counts(
                semantic_head, dict(num_classes=num_things_classes + num_stuff_classes),
                'semantic_head'),
            fusion=with_counts(fusion, dict(num_things=num_things_classes,
                                            num_stuff=num_stuff_classes), 'fusion'),
            train_cfg=train_cfg, test_cfg=test_cfg,
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.panoptic_loss = build_part(panoptic_loss, name='panoptic_loss')

    def _mask_logits(self, x: Tuple[Tensor], boxes: List[Tensor],
                     labels: List[Tensor]) -> List[Tensor]:
        """(N_i, M, M) mask logits of each image's boxes for their class."""
        if sum(len(b) for b in boxes) == 0:
            return [x[0].new_zeros((0, 1, 1)) for _ in boxes]
        preds = self.roi_head._mask_forward(x, bbox2roi(boxes))['mask_preds']
        label = torch.cat(labels).long()
        if preds.shape[1] > 1:  # class-specific masks
            preds = preds[torch.arange(len(label), device=preds.device), label]
        else:
            preds = preds[:, 0]
        return list(preds.split([len(b) for b in boxes]))

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict:
        """RPN, box, mask, semantic and panoptic losses for a (B, 3, H, W) batch."""
        x = self.extract_feat(batch_inputs)
        losses = self._instance_losses(x, batch_data_samples)
        sem_logits = self.semantic_head(x)
        sem_gt = torch.stack([s.gt_sem_seg.sem_seg[0] for s in batch_data_samples]).long()
        losses['loss_sem_seg'] = self.semantic_head.loss(sem_logits, sem_gt)

        stride = batch_inputs.shape[-1] // sem_logits.shape[-1]
        size = tuple(sem_logits.shape[-2:])
        head = self.panoptic_loss
        kept_boxes, kept_labels, targets = [], [], []
        for i, sample in enumerate(batch_data_samples):
            inst = sample.gt_instances
            kept, dropped = head.split_kept(len(inst), device=sem_gt.device)
            masks = _subsample(instance_masks(inst, sem_gt.shape[-2:], sem_gt.device), stride)
            if len(inst):
                kept_boxes.append(get_box_tensor(inst.bboxes)[kept].float())
                kept_labels.append(inst.labels[kept])
            else:
                kept_boxes.append(sem_logits.new_zeros((0, 4)))
                kept_labels.append(sem_gt.new_zeros((0,)))
            targets.append(upsnet_panoptic_targets(
                _subsample(sem_gt[i], stride), masks[kept], masks[dropped],
                num_things=self.num_things_classes, num_stuff=self.num_stuff_classes))
        mask_logits = self._mask_logits(x, kept_boxes, kept_labels)
        composed = [compose_panoptic_logits(
            sem_logits[i], paste_mask_logits(mask_logits[i], kept_boxes[i] / stride, size),
            kept_boxes[i] / stride, kept_labels[i], num_things=self.num_things_classes)
            for i in range(len(batch_data_samples))]
        losses['loss_panoptic'] = head(composed, targets)
        return losses

    def predict_output_options(self, rescale: bool) -> dict:
        """UPSNet's outputs stay at the input size; the fusion resizes."""
        return {}

    def predict_outputs(self, batch_inputs: Tensor,
                        batch_data_samples: SampleList) -> Dict:
        """Detections above the fusion's score threshold (input pixels), their
        RoI mask logits and the semantic logits at the padded input size."""
        x = self.extract_feat(batch_inputs)
        metas = [s.metainfo for s in batch_data_samples]
        proposals = self.rpn_head.predict(x, batch_data_samples, rescale=False)
        dets = self.roi_head.predict_bbox(x, metas, proposals, self.roi_head.test_cfg,
                                          rescale=False)
        dets = [d[d.scores >= self.fusion.score_thr] for d in dets]
        mask_logits = self._mask_logits(x, [d.bboxes for d in dets], [d.labels for d in dets])
        sem = F.interpolate(self.semantic_head(x), size=batch_inputs.shape[-2:],
                            mode='bilinear', align_corners=False)
        return dict(sem_logits=sem, detections=dets, mask_logits=mask_logits)

    def tta_view_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict:
        """Test-time augmentation, one view: FPN features, box detections
        (input pixels) and the semantic logits of each image's region."""
        x, metas, dets = self._tta_detections(batch_inputs, batch_data_samples)
        sem = F.interpolate(self.semantic_head(x), size=batch_inputs.shape[-2:],
                            mode='bilinear', align_corners=False)
        regions = [sem[i, :, :m['img_shape'][0], :m['img_shape'][1]]
                   for i, m in enumerate(metas)]
        return dict(feats=x, detections=dets, sem_logits=regions)

    def merge_tta_outputs(self, views, b: int):
        """Image ``b`` of every view -> :class:`UPSNetFusion`'s inputs on the
        reference view: boxes merged by class-wise NMS and cut at the
        fusion's score threshold, RoI mask logits averaged over the views
        (UPSNet pastes logits), semantic logits averaged
        (:mod:`mmpanoptic.models.tta`)."""
        from ..tta import boxes_to_view, merge_dense_maps, merge_roi_masks
        metas, boxes, scores, labels = self._merged_tta_detections(views, b)
        ref = metas[0]
        keep = scores >= self.fusion.score_thr
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        if len(boxes):
            feats = [[f[b:b + 1] for f in out['feats']] for out, _, _ in views]
            masks = merge_roi_masks(self.roi_head, feats, metas, boxes, labels,
                                    probabilities=False)
        else:
            masks = boxes.new_zeros((0, 1, 1))
        size = tuple(ref['img_shape'][:2])
        sem = merge_dense_maps([out['sem_logits'][b] for out, _, _ in views], metas, size)
        dets = InstanceData(bboxes=boxes_to_view(boxes, ref), scores=scores, labels=labels)
        meta = dict(ref, pad_shape=size, batch_input_shape=size, flip=False)
        return dict(sem_logits=sem[None], detections=[dets], mask_logits=[masks]), meta

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Tuple:
        """Raw outputs (features, RPN outputs, semantic logits) for tracing."""
        x = self.extract_feat(batch_inputs)
        return x, self.rpn_head.forward(x), self.semantic_head(x)
