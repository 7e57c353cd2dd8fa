"""Panoptic-DeepLab (Cheng et al., CVPR 2020): box-free, bottom-up."""
from typing import Dict, Optional, Tuple

from mmdet.models.detectors import BaseDetector
from mmdet.structures import SampleList
from mmengine.structures import PixelData
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part
from ..fusion.center_grouping import find_centers, group_pixels, merge_semantic_and_instance
from ..heads.panoptic_deeplab_head import upsample_predictions


@MODELS.register_module()
class PanopticDeepLab(BaseDetector):
    """Backbone -> :class:`PanopticDeepLabHead` (semantic, center, offset)
    -> :class:`PanopticDeepLabCriterion` | center grouping.

    Training resizes the stride-4 predictions to the padded input (offsets
    scaled with them) and applies the three losses there.  Inference resizes
    them to the image (cropping the padding, and to the original size with
    ``rescale``), then: semantic argmax, centers by max-pool NMS on the
    heatmap, every predicted-thing pixel to the nearest center after adding
    its offset, majority class per instance, small stuff dropped.

    Args:
        backbone: e.g. ``mmdet.ResNet`` (output stride 16 via ``strides`` /
            ``dilations`` as in the paper).
        decode_head: :class:`PanopticDeepLabHead` (``num_classes`` filled in).
        criterion: :class:`PanopticDeepLabCriterion`.
        num_things_classes, num_stuff_classes: the label split (things first).
        test_cfg: ``center_threshold`` (0.1), ``nms_kernel`` (7), ``top_k``
            (200), ``stuff_area`` (2048): the paper's Cityscapes values.
        neck, data_preprocessor, init_cfg: as in mmdet.
    """

    def __init__(self,
                 *,
                 backbone: ConfigOrModule,
                 decode_head: ConfigOrModule,
                 criterion: ConfigOrModule,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 neck: Optional[ConfigOrModule] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.num_things_classes = num_things_classes
        self.num_classes = num_things_classes + num_stuff_classes
        self.backbone = build_part(backbone, name='backbone')
        if neck is not None:
            self.neck = build_part(neck, name='neck')
        self.decode_head = build_part(decode_head, counts=dict(num_classes=self.num_classes),
                                      name='decode_head')
        self.criterion = build_part(criterion, name='criterion')
        self.test_cfg = dict(center_threshold=0.1, nms_kernel=7, top_k=200, stuff_area=2048)
        self.test_cfg.update(test_cfg or {})

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        x = self.backbone(batch_inputs)
        return self.neck(x) if self.with_neck else x

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Dict[str, Tensor]:
        """Stride-4 ``sem`` / ``center`` / ``offset`` predictions."""
        return self.decode_head(self.extract_feat(batch_inputs))

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        outputs = upsample_predictions(self._forward(batch_inputs),
                                       tuple(batch_inputs.shape[-2:]))
        return self.criterion(outputs, batch_data_samples)

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic id maps + ``segments_info`` (original size with ``rescale``)."""
        outputs = upsample_predictions(self._forward(batch_inputs),
                                       tuple(batch_inputs.shape[-2:]))
        cfg = self.test_cfg
        for i, sample in enumerate(batch_data_samples):
            h, w = sample.metainfo['img_shape'][:2]
            pred = {k: v[i:i + 1, :, :h, :w] for k, v in outputs.items()}
            if rescale:
                pred = upsample_predictions(pred, tuple(sample.metainfo['ori_shape'][:2]))
            sem = pred['sem'][0].argmax(0)
            centers = find_centers(pred['center'][0, 0], threshold=cfg['center_threshold'],
                                   nms_kernel=cfg['nms_kernel'], top_k=cfg['top_k'])
            instances = group_pixels(centers, pred['offset'][0], sem < self.num_things_classes)
            ids, segments = merge_semantic_and_instance(
                sem, instances, num_things=self.num_things_classes,
                stuff_area=cfg['stuff_area'])
            sample.pred_panoptic_seg = PixelData(sem_seg=ids[None],
                                                 metainfo=dict(segments_info=segments))
            sample.pred_sem_seg = PixelData(sem_seg=sem[None])
        return batch_data_samples
