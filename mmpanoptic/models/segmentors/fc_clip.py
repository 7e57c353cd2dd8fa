"""FC-CLIP: open-vocabulary Mask2Former on a frozen CLIP image encoder."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures import SampleList
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..fusion.open_vocab_ensemble import geometric_ensemble, mask_pool
from .mask_classification import ConfigOrModule, Mask2Former


def _synonym_set(vocabulary) -> set:
    return {s.strip().lower() for synonyms in vocabulary for s in synonyms}


@MODELS.register_module()
class FCCLIP(Mask2Former):
    """FC-CLIP (Yu et al., NeurIPS 2023): a Mask2Former whose backbone is a
    frozen CLIP image encoder and whose class layer is a
    :class:`TextEmbeddingClassifier` on the same CLIP's text encoder.  At test
    time each mask is also classified by pooling the frozen CLIP res5 features
    inside it (out-of-vocabulary score) and the two scores are combined by
    :func:`geometric_ensemble` (``alpha`` for classes seen in training,
    ``beta`` for the others).

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
        Other arguments: as :class:`MaskClassificationSegmentor`.
    """

    def __init__(self,
                 *,
                 backbone: ConfigOrModule,
                 panoptic_head: ConfigOrModule,
                 criterion: ConfigOrModule,
                 fusion: ConfigOrModule,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 alpha: float = 0.4,
                 beta: float = 0.8,
                 clip_logit_scale: float = 100.0,
                 neck: Optional[ConfigOrModule] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, panoptic_head=panoptic_head, criterion=criterion,
                         fusion=fusion, num_things_classes=num_things_classes,
                         num_stuff_classes=num_stuff_classes, neck=neck,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not hasattr(self.backbone, 'embed'):
            raise TypeError(f'FCCLIP needs a CLIP image backbone with embed() (CLIPResNet), '
                            f'got {type(self.backbone).__name__}')
        layers = self.text_classifiers()
        if len(layers) != 1:
            raise TypeError('FCCLIP needs panoptic_head.classifier=dict(type='
                            '"TextEmbeddingClassifier", text_encoder=dict(type='
                            '"CLIPTextEncoder", ...))')
        text_dim = int(layers[0].text_encoder.embed_dim)
        if text_dim != self.backbone.embed_dim:
            raise ValueError(f'the CLIP image tower embeds in {self.backbone.embed_dim} dims, '
                             f'the text encoder in {text_dim}: they must be one CLIP model')
        self.alpha, self.beta = float(alpha), float(beta)
        self.clip_logit_scale = float(clip_logit_scale)
        self.seen_names = _synonym_set(self.classifier.vocabulary)

    @property
    def classifier(self):
        """The head's text classifier (a property: registering it again as a
        sub-module would store its weights twice in checkpoints)."""
        return self.panoptic_head.cls_embed

    def seen_mask(self) -> Tensor:
        """(C,) bool: classes of the current vocabulary seen in training."""
        return torch.tensor([bool(_synonym_set([c]) & self.seen_names)
                             for c in self.classifier.vocabulary])

    def inference_logits(self, batch_inputs: Tensor,
                         batch_data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """Ensembled (B, Q, C + 1) log-probabilities and (B, Q, h, w) masks."""
        feats = self.backbone(batch_inputs)
        metas = [s.metainfo for s in batch_data_samples]
        cls, masks = self.panoptic_head(self.neck(feats) if self.with_neck else feats, metas)
        pooled = mask_pool(feats[-1], masks[-1])  # (B, Q, C_res5)
        image_emb = F.normalize(self.backbone.embed(pooled), dim=-1)
        text_emb = self.classifier.text_embeddings().to(image_emb)
        out_vocab = self.clip_logit_scale * image_emb @ text_emb.t()
        return geometric_ensemble(cls[-1], out_vocab, self.seen_mask(), alpha=self.alpha,
                                  beta=self.beta), masks[-1]
