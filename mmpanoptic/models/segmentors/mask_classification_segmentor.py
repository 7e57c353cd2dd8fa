"""Mask-classification segmentors: MaskFormer, Mask2Former and K-Net."""
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet.models.detectors import BaseDetector
from mmdet.structures import SampleList
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import ConfigOrModule, build_part
from ..classifiers import TextEmbeddingClassifier
from ..criteria import batch_targets
from ..tta import QueryTTA
from .base import PanopticPredictMixin


@MODELS.register_module()
class MaskClassificationSegmentor(PanopticPredictMixin, BaseDetector):
    """Backbone -> query head -> (criterion | shared mask-classification inference).

    The query head returns class and mask logits of every decoder layer; the
    criterion matches and supervises all of them; at test time the last layer
    goes through :class:`MaskClassificationFusion`.  The class counts are
    given once here and passed to the head (``num_classes``), the criterion
    (``num_classes``) and the fusion (``num_things`` / ``num_stuff``).

    Attribute names (``backbone``, ``neck``, ``panoptic_head``) are mmdet's,
    so checkpoints of mmdet's MaskFormer / Mask2Former load unchanged.

    Args:
        backbone: e.g. ``mmdet.ResNet`` or ``mmdet.SwinTransformer``.
        panoptic_head: :class:`Mask2FormerQueryHead` or :class:`MaskFormerQueryHead`.
        criterion: :class:`MaskSetCriterion`.
        fusion: :class:`MaskClassificationFusion` (thresholds, which outputs).
        num_things_classes, num_stuff_classes: the label split (things first).
        neck: optional neck between backbone and head.
        data_preprocessor: ``mmdet.DetDataPreprocessor`` padding masks and
            the semantic map (``pad_mask=True, pad_seg=True``).

    Predictions: ``pred_panoptic_seg`` (id map + ``segments_info``, as every
    mmpanoptic model), plus ``pred_sem_seg`` / ``pred_instances`` when the
    fusion has ``semantic_on`` / ``instance_on``.
    """

    tta_step = QueryTTA()

    def __init__(self,
                 *,
                 backbone: ConfigOrModule,
                 panoptic_head: ConfigOrModule,
                 criterion: ConfigOrModule,
                 fusion: ConfigOrModule,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 neck: Optional[ConfigOrModule] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_things_classes + num_stuff_classes
        self.backbone = build_part(backbone, name='backbone')
        if neck is not None:
            self.neck = build_part(neck, name='neck')
        self.panoptic_head = build_part(panoptic_head, counts=self.head_defaults(),
                                        name='panoptic_head')
        self.criterion = build_part(criterion, counts=self.criterion_defaults(criterion),
                                    name='criterion')
        self.fusion = build_part(fusion, counts=self.fusion_defaults(fusion), name='fusion')

    def head_defaults(self) -> dict:
        """Arguments the head config gets from the class counts."""
        return dict(num_classes=self.num_classes)

    def criterion_defaults(self, criterion: ConfigOrModule) -> dict:
        """Arguments the criterion config gets from the class counts."""
        return dict(num_classes=self.num_classes)

    def fusion_defaults(self, fusion: ConfigOrModule) -> dict:
        """Arguments the fusion config gets from the class counts."""
        return dict(num_things=self.num_things_classes, num_stuff=self.num_stuff_classes)

    def text_classifiers(self) -> List[TextEmbeddingClassifier]:
        """The open-vocabulary class layers (empty for a closed model)."""
        return [m for m in self.modules() if isinstance(m, TextEmbeddingClassifier)]

    def set_vocabulary(self, classes: Sequence, num_things: int) -> None:
        """Segment these classes from now on (things first, ``num_things`` of
        them); no retraining, no reload.  Needs a text classifier
        (``panoptic_head.classifier=dict(type='TextEmbeddingClassifier', ...)``).

        Training keeps the vocabulary the criterion was built for; this is
        meant for inference (:class:`TextVocabularyHook` switches to the
        evaluation dataset's classes and back).
        """
        layers = self.text_classifiers()
        if not layers:
            raise TypeError(f'{type(self).__name__} has a fixed class layer; an open vocabulary '
                            f'needs panoptic_head.classifier=dict(type='
                            f'"TextEmbeddingClassifier", ...)')
        if not 0 <= num_things <= len(classes):
            raise ValueError(f'num_things={num_things} for {len(classes)} classes')
        for layer in layers:
            layer.set_vocabulary(classes)
        self.num_things_classes = num_things
        self.num_stuff_classes = len(classes) - num_things
        self.num_classes = len(classes)
        self.fusion.num_things = num_things
        self.fusion.num_stuff = self.num_stuff_classes

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone (and neck) levels, highest resolution first."""
        x = self.backbone(batch_inputs)
        return self.neck(x) if self.with_neck else x

    def head_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                     with_queries: bool = False, init_queries: Optional[Tensor] = None
                     ) -> Tuple[List[Tensor], List[Tensor], Optional[Tensor], Sequence[Tensor]]:
        """Class and mask logits of every layer (the criterion supervises all).

        Args:
            with_queries: also return the last layer's queries (B, Q, C)
                (query-propagation tracking; needs ``forward_with_queries``
                on the head).
            init_queries: start the queries from these instead of the
                learned ones.

        Returns:
            ``(cls_logits per layer, mask_logits per layer, queries or None,
            backbone features)``.
        """
        feats = self.backbone(batch_inputs)
        x = self.neck(feats) if self.with_neck else feats
        metas = [s.metainfo for s in batch_data_samples]
        if with_queries or init_queries is not None:
            if not hasattr(self.panoptic_head, 'forward_with_queries'):
                raise TypeError(f'query propagation needs a head with forward_with_queries '
                                f'(Mask2FormerQueryHead, KNetKernelHead), got '
                                f'{type(self.panoptic_head).__name__}')
            cls, masks, queries = self.panoptic_head.forward_with_queries(
                x, metas, init_queries=init_queries)
            return cls, masks, queries, feats
        cls, masks = self.panoptic_head(x, metas)
        return cls, masks, None, feats

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Matched losses of every decoder layer for a (B, 3, H, W) batch."""
        cls, masks, _, _ = self.head_outputs(batch_inputs, batch_data_samples)
        targets = batch_targets(batch_data_samples, num_things=self.num_things_classes,
                                num_classes=self.num_classes)
        return self.criterion(cls, masks, targets)

    def predict_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                        with_queries: bool = False,
                        init_queries: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """What the fusion reads: the last layer's ``cls_logits`` and
        ``mask_logits`` (after :meth:`adjust_outputs`, e.g. FC-CLIP's
        ensemble), and ``queries`` with ``with_queries`` (see
        :meth:`head_outputs`)."""
        cls, masks, queries, feats = self.head_outputs(
            batch_inputs, batch_data_samples, with_queries=with_queries,
            init_queries=init_queries)
        outputs = dict(cls_logits=cls[-1], mask_logits=masks[-1])
        if queries is not None:
            outputs['queries'] = queries
        return self.adjust_outputs(outputs, feats)

    def adjust_outputs(self, outputs: Dict[str, Tensor],
                       backbone_feats: Sequence[Tensor]) -> Dict[str, Tensor]:
        """A hook between the head and the fusion (identity here; FC-CLIP
        combines the class scores with CLIP's)."""
        return outputs

    def inference_logits(self, batch_inputs: Tensor,
                         batch_data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """(B, Q, C + 1) class and (B, Q, h, w) mask logits the fusion sees."""
        outputs = self.predict_outputs(batch_inputs, batch_data_samples)
        return outputs['cls_logits'], outputs['mask_logits']

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[SampleList] = None) -> Tuple:
        """Raw class and mask logits of every layer (for tracing / FLOPs)."""
        return self.head_outputs(batch_inputs, batch_data_samples or [])[:2]


@MODELS.register_module()
class MaskFormer(MaskClassificationSegmentor):
    """MaskFormer (Cheng et al., NeurIPS 2021): :class:`MaskFormerQueryHead`,
    focal + dice losses on full masks.  Same arguments as the base class."""


@MODELS.register_module()
class Mask2Former(MaskClassificationSegmentor):
    """Mask2Former (Cheng et al., CVPR 2022): :class:`Mask2FormerQueryHead`
    with masked attention over an MSDeformAttn pixel decoder, point-sampled
    BCE + dice losses.  Same arguments as the base class."""


@MODELS.register_module()
class KNet(MaskClassificationSegmentor):
    """K-Net (Zhang et al., NeurIPS 2021) for panoptic segmentation: backbone,
    FPN neck and :class:`KNetKernelHead`; the official sigmoid variant trains
    with :class:`KNetCriterion` and predicts with :class:`KNetFusion`, the
    softmax variant with the shared criterion and fusion.  Same arguments as
    the base class."""

    def head_defaults(self) -> dict:
        """The head also needs the thing count: one stuff kernel per stuff class."""
        return dict(num_classes=self.num_classes, num_things=self.num_things_classes)

    def criterion_defaults(self, criterion: ConfigOrModule) -> dict:
        """:class:`KNetCriterion` also needs the thing count."""
        defaults = dict(num_classes=self.num_classes)
        if isinstance(criterion, dict) and criterion.get('type') == 'KNetCriterion':
            defaults['num_things'] = self.num_things_classes
        return defaults

    def fusion_defaults(self, fusion: ConfigOrModule) -> dict:
        """:class:`KNetFusion` also needs the head's stuff-kernel count."""
        defaults = super().fusion_defaults(fusion)
        if isinstance(fusion, dict) and fusion.get('type') == 'KNetFusion':
            defaults['num_stuff_kernels'] = self.panoptic_head.conv_seg.out_channels
        return defaults
