"""FC-CLIP: open-vocabulary Mask2Former on a frozen CLIP image encoder."""
from typing import Dict, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..classifiers.open_vocab_ensemble import (
    geometric_ensemble,
    mask_pool,
    resize_mask_logits,
    seen_classes,
    synonym_set,
)
from .mask_classification_segmentor import Mask2Former


class CLIPEnsembleMixin:
    """What FC-CLIP and ODISE share: one text classifier (the head's) in a
    CLIP text space, a frozen CLIP image tower in the same space, the
    classes seen in training, and the ensemble's weights."""

    def _init_ensemble(self, clip_tower, *, alpha: float, beta: float,
                       clip_logit_scale: float) -> None:
        name = type(self).__name__
        layers = self.text_classifiers()
        if len(layers) != 1:
            raise TypeError(f'{name} needs panoptic_head.classifier=dict(type='
                            '"TextEmbeddingClassifier", text_encoder=dict(type='
                            '"CLIPTextEncoder", ...))')
        text_dim = int(layers[0].text_encoder.embed_dim)
        if clip_tower is not None and text_dim != clip_tower.embed_dim:
            raise ValueError(f'the CLIP image tower embeds in {clip_tower.embed_dim} dims, '
                             f'the text encoder in {text_dim}: they must be one CLIP model')
        self.alpha, self.beta = float(alpha), float(beta)
        self.clip_logit_scale = float(clip_logit_scale)
        self.seen_names = synonym_set(layers[0].vocabulary)

    @property
    def classifier(self):
        """The head's text classifier (a property: registering it again as a
        sub-module would store its weights twice in checkpoints)."""
        return self.panoptic_head.cls_embed

    def seen_mask(self) -> Tensor:
        """(C,) bool: classes of the current vocabulary seen in training."""
        return seen_classes(self.classifier.vocabulary, self.seen_names)


@MODELS.register_module()
class FCCLIP(CLIPEnsembleMixin, Mask2Former):
    """FC-CLIP (Yu et al., NeurIPS 2023): a Mask2Former whose backbone is a
    frozen CLIP image encoder and whose class layer is a
    :class:`TextEmbeddingClassifier` on the same CLIP's text encoder.  At test
    time each mask is also classified by pooling the frozen CLIP res5 features
    inside it (out-of-vocabulary score) and the two scores are combined by
    :func:`geometric_ensemble` (``alpha`` for classes seen in training,
    ``beta`` for the others).

    The defaults follow the official code: the in-vocabulary probabilities
    are the softmax over the C class logits (void left out), a class scores
    as its best synonym (the classifier's ``synonym_reduce='max'``), and a
    ResNet CLIP pools each binary mask with its attention pool restricted to
    the mask (:meth:`CLIPResNet.mask_embed`).

    Training is plain Mask2Former training with the text classifier.  The
    classes seen in training are those of the classifier's vocabulary when
    the model is built; a later :meth:`set_vocabulary` (a zero-shot dataset)
    marks every class sharing a synonym with them as seen.

    Args:
        backbone: a frozen CLIP image tower with ``embed(res5_features)``
            (:class:`CLIPResNet`).
        alpha, beta: CLIP's weight for seen / unseen classes (FC-CLIP's COCO
            models: 0.4 / 0.8).
        clip_logit_scale: CLIP's logit scale for the out-of-vocabulary
            cosine similarities (CLIP's trained value is 100).
        void: ``'separate'`` (official) or ``'joint'``, see
            :func:`geometric_ensemble`.
        clip_pooling: ``'attention'`` (official for ResNet CLIPs: masked
            attention pool), ``'mean'`` (binary-mask average of res5, then
            the pool's value / output projections) or ``'sigmoid'`` (our
            earlier sigmoid-weighted average).
        ensemble_on_valid_mask: give CLIP no weight for masks with no pixel
            at the CLIP feature resolution.  An official option, off by
            default there and needed by its ResNet CLIPs ("important to
            obtain reasonable AP/mIoU with ResNet CLIP models"); on here by
            default because the CLIP towers here are ResNets.
        Other arguments: as :class:`MaskClassificationSegmentor`.
    """

    def __init__(self,
                 *,
                 alpha: float = 0.4,
                 beta: float = 0.8,
                 clip_logit_scale: float = 100.0,
                 void: str = 'separate',
                 clip_pooling: str = 'attention',
                 ensemble_on_valid_mask: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not hasattr(self.backbone, 'embed'):
            raise TypeError(f'FCCLIP needs a CLIP image backbone with embed() (CLIPResNet), '
                            f'got {type(self.backbone).__name__}')
        self._init_ensemble(self.backbone, alpha=alpha, beta=beta,
                            clip_logit_scale=clip_logit_scale)
        if clip_pooling not in ('attention', 'mean', 'sigmoid'):
            raise ValueError(f"clip_pooling must be 'attention', 'mean' or 'sigmoid', "
                             f'got {clip_pooling!r}')
        if clip_pooling == 'attention' and not hasattr(self.backbone, 'mask_embed'):
            raise TypeError(f'clip_pooling="attention" needs mask_embed() on the backbone, '
                            f'{type(self.backbone).__name__} has none')
        self.void, self.clip_pooling = void, clip_pooling
        self.ensemble_on_valid_mask = bool(ensemble_on_valid_mask)

    def adjust_outputs(self, outputs: Dict[str, Tensor],
                       backbone_feats: Sequence[Tensor]) -> Dict[str, Tensor]:
        """The ensembled (B, Q, C + 1) log-probabilities replace the class
        logits (in every prediction path, the video query tracker's too)."""
        cls, masks = outputs['cls_logits'], outputs['mask_logits']
        image_emb, valid = self.clip_embeddings(backbone_feats[-1], masks)
        out_vocab = self.classifier.class_logits(F.normalize(image_emb, dim=-1),
                                                 self.clip_logit_scale)
        ensembled = geometric_ensemble(
            cls, out_vocab, self.seen_mask(), alpha=self.alpha, beta=self.beta,
            void=self.void, valid=valid if self.ensemble_on_valid_mask else None)
        return dict(outputs, cls_logits=ensembled)

    def clip_embeddings(self, res5: Tensor, mask_logits: Tensor) -> Tuple[Tensor, Tensor]:
        """(B, Q, D) CLIP image embeddings of the masks and (B, Q) validity
        (the mask has a pixel at res5's resolution)."""
        if self.clip_pooling == 'attention':
            return self.backbone.mask_embed(res5, mask_logits)
        binary = self.clip_pooling == 'mean'
        valid = (resize_mask_logits(mask_logits, res5.shape[-2:]) > 0).flatten(2).any(-1)
        return self.backbone.embed(mask_pool(res5, mask_logits, binary=binary)), valid
