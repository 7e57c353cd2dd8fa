"""Panoptic-DeepLab (Cheng et al., CVPR 2020): box-free, bottom-up."""
from typing import Dict, Optional, Tuple

from mmdet.models.detectors import BaseDetector
from mmdet.structures import SampleList
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part
from ..fusion.center_grouping import upsample_predictions
from ..tta import CenterTTA
from .base import PanopticPredictMixin


@MODELS.register_module()
class PanopticDeepLab(PanopticPredictMixin, BaseDetector):
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
        fusion: :class:`CenterGroupingFusion` (``center_threshold`` 0.1,
            ``nms_kernel`` 7, ``top_k`` 200, ``stuff_area`` 2048: the
            paper's Cityscapes values; class counts filled in).
        neck, data_preprocessor, init_cfg: as in mmdet.
    """

    tta_step = CenterTTA()

    def __init__(self,
                 *,
                 backbone: ConfigOrModule,
                 decode_head: ConfigOrModule,
                 criterion: ConfigOrModule,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 neck: Optional[ConfigOrModule] = None,
                 fusion: ConfigOrModule = dict(type='CenterGroupingFusion'),
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
        self.fusion = build_part(fusion, counts=dict(num_things=num_things_classes,
                                                     num_stuff=num_stuff_classes), name='fusion')

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

    def predict_outputs(self, batch_inputs: Tensor,
                        batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """``sem`` / ``center`` / ``offset`` at the padded input size."""
        return upsample_predictions(self._forward(batch_inputs), tuple(batch_inputs.shape[-2:]))
