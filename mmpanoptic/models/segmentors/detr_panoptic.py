"""DETR panoptic (Carion et al., ECCV 2020): the set-prediction baseline."""
from typing import Dict, Optional, Tuple

from mmdet.structures import SampleList
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..criteria import batch_targets
from .mask_classification_segmentor import MaskClassificationSegmentor

DETECTOR_PARTS = ('backbone', 'panoptic_head.input_proj', 'panoptic_head.encoder',
                  'panoptic_head.decoder', 'panoptic_head.query_embedding',
                  'panoptic_head.cls_embed', 'panoptic_head.reg_ffn', 'panoptic_head.fc_reg')


@MODELS.register_module()
class DETRPanoptic(MaskClassificationSegmentor):
    """DETR's detector (every thing and stuff segment is an object with a
    class and a box) plus its mask head on the decoder's attention maps
    (:class:`DETRPanopticHead`), trained by :class:`DETRSetCriterion`.

    At test time the last layer's class logits and masks go through a fusion
    like every query model: :class:`DETRPanopticFusion` (DETR's own
    post-processing) or :class:`MaskClassificationFusion` with transformers'
    settings (what ``hf_to_mmpanoptic.py`` writes for ``DetrForSegmentation``).

    Args:
        frozen_detector: train only the mask head (DETR's second stage: the
            detector trained first, then frozen while the masks learn).
        others: as :class:`MaskClassificationSegmentor`.
    """

    def __init__(self, *, frozen_detector: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frozen_detector = frozen_detector
        if frozen_detector:
            for name in DETECTOR_PARTS:
                for p in self.get_submodule(name).parameters():
                    p.requires_grad_(False)

    def train(self, mode: bool = True):
        """A frozen detector stays in eval mode (no dropout, fixed norms)."""
        super().train(mode)
        if self.frozen_detector:
            for name in DETECTOR_PARTS:
                self.get_submodule(name).eval()
        return self

    def head_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                     with_queries: bool = False, init_queries: Optional[Tensor] = None
                     ) -> Tuple[Dict, None, Optional[Tensor], Tuple[Tensor, ...]]:
        """The head's dict (class logits and boxes per layer, the last
        layer's masks and queries) and the backbone levels."""
        if init_queries is not None:
            raise TypeError('DETRPanoptic starts its queries from zero; init_queries is not '
                            'supported')
        feats = self.backbone(batch_inputs)
        out = self.panoptic_head(feats, [s.metainfo for s in batch_data_samples])
        return out, None, out['queries'] if with_queries else None, feats

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Box and class losses of every decoder layer, mask losses of the last."""
        out, _, _, _ = self.head_outputs(batch_inputs, batch_data_samples)
        targets = batch_targets(batch_data_samples, num_things=self.num_things_classes,
                                num_classes=self.num_classes)
        shapes = [s.metainfo['img_shape'][:2] for s in batch_data_samples]
        return self.criterion(out, targets, shapes)

    def predict_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                        with_queries: bool = False,
                        init_queries: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The last layer's ``cls_logits``, ``mask_logits`` and ``boxes``
        (normalised cx, cy, w, h), and ``queries`` with ``with_queries``."""
        out, _, queries, feats = self.head_outputs(batch_inputs, batch_data_samples,
                                                   with_queries=with_queries)
        outputs = dict(cls_logits=out['cls_logits'][-1], mask_logits=out['mask_logits'][-1],
                       boxes=out['boxes'][-1])
        if queries is not None:
            outputs['queries'] = queries
        return self.adjust_outputs(outputs, feats)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Tuple:
        """Class logits, boxes and masks of the last layer (for tracing)."""
        out = self.head_outputs(batch_inputs, batch_data_samples or [])[0]
        return out['cls_logits'][-1], out['boxes'][-1], out['mask_logits'][-1]
