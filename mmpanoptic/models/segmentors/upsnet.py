"""UPSNet (Xiong et al., CVPR 2019): a learnable merge of instances and stuff."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmdet.structures import SampleList
from mmdet.structures.bbox import get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part, with_counts
from ..criteria.targets import instance_masks
from ..criteria.upsnet_panoptic_loss import upsnet_panoptic_targets
from ..fusion.upsnet_panoptic import compose_panoptic_logits, paste_mask_logits
from ..tta import UPSNetTTA
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

    tta_step = UPSNetTTA()

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
        mask_logits = self.roi_mask_logits(x, kept_boxes, kept_labels)
        composed = [compose_panoptic_logits(
            sem_logits[i], paste_mask_logits(mask_logits[i], kept_boxes[i] / stride, size),
            kept_boxes[i] / stride, kept_labels[i], num_things=self.num_things_classes)
            for i in range(len(batch_data_samples))]
        losses['loss_panoptic'] = head(composed, targets)
        return losses

    def mask_keep(self, scores: Tensor) -> Tensor:
        """Only detections above the fusion's score threshold get a mask
        (the rest never reach the panoptic head)."""
        return scores >= self.fusion.score_thr

    def semantic_logits(self, x: Sequence[Tensor]) -> Tensor:
        """(B, C, h, w) logits of the deformable semantic head."""
        return self.semantic_head(x)

    def fusion_inputs(self, dets: Sequence[InstanceData], mask_logits: Sequence[Tensor],
                      sem_logits: Tensor, metas: Sequence[dict], rescale: bool = True) -> Dict:
        """:class:`UPSNetFusion`'s inputs: the detections (input pixels), their
        RoI mask logits and the semantic logits at the padded input size (the
        fusion crops and resizes)."""
        sem = F.interpolate(sem_logits, size=tuple(metas[0]['batch_input_shape'][:2]),
                            mode='bilinear', align_corners=False)
        return dict(sem_logits=sem, detections=list(dets), mask_logits=list(mask_logits))

    def predict_output_options(self, rescale: bool) -> dict:
        """UPSNet's outputs stay at the input size; the fusion resizes."""
        return {}

    def predict_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict:
        """The fusion's inputs: :meth:`network_outputs` then :meth:`fusion_inputs`."""
        metas = [s.metainfo for s in batch_data_samples]
        return self.fusion_inputs(*self.network_outputs(batch_inputs, batch_data_samples),
                                  metas)
