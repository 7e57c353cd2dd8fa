"""ODISE: open-vocabulary panoptic segmentation on a frozen diffusion
model's features."""
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..backbones.diffusion_backbone import CLIP_MEAN, CLIP_STD
from ..classifiers.open_vocab_ensemble import geometric_ensemble
from .fc_clip import CLIPEnsembleMixin
from .mask_classification_segmentor import Mask2Former


@MODELS.register_module()
class ODISE(CLIPEnsembleMixin, Mask2Former):
    """ODISE (Xu et al., CVPR 2023) with label supervision: a Mask2Former on
    :class:`DiffusionBackbone` whose queries are classified from their
    mask-pooled embeddings (``Mask2FormerQueryHead(pooled_mask_embed=...)``)
    by a text classifier (CLIP's text tower), and, at test time, ODISE's
    CLIP head: each predicted mask is also embedded by MaskCLIP on a frozen
    CLIP ViT (:meth:`CLIPViT.mask_embed`, ODISE's ``PoolingCLIPHead``) and
    classified against the same text embeddings; the two are combined by
    :func:`geometric_ensemble` (``alpha`` for classes sharing a name with the
    training vocabulary, ``beta`` for the others; the in-vocabulary softmax
    over the C classes, the void probability kept).

    Args:
        clip_head: a :class:`CLIPViT` config or module (ODISE: CLIP
            ViT-L/14-336, the captioner's CLIP), frozen; None: the text
            classifier alone.
        alpha, beta: CLIP's weight for seen / unseen classes (ODISE: 0.3 /
            0.7).
        clip_logit_scale: CLIP's logit scale for the MaskCLIP similarities
            (CLIP's trained 100, ODISE's ``MaskCLIP.logit_scale``).
        Other arguments: as :class:`MaskClassificationSegmentor`.
    """

    def __init__(self, *, clip_head: Optional[Union[dict, nn.Module]] = None,
                 alpha: float = 0.3, beta: float = 0.7, clip_logit_scale: float = 100.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.clip_head = MODELS.build(clip_head) if isinstance(clip_head, dict) else clip_head
        if self.clip_head is not None:
            self.clip_head.requires_grad_(False)
        self._init_ensemble(self.clip_head, alpha=alpha, beta=beta,
                            clip_logit_scale=clip_logit_scale)

    def clip_input(self, batch_inputs: Tensor) -> Tensor:
        """The batch (normalised by the data preprocessor) normalised for CLIP."""
        pre = self.data_preprocessor
        pixels = batch_inputs * pre.std.to(batch_inputs) + pre.mean.to(batch_inputs)
        mean = batch_inputs.new_tensor(CLIP_MEAN)[:, None, None]
        std = batch_inputs.new_tensor(CLIP_STD)[:, None, None]
        return (pixels / 255.0 - mean) / std

    def predict_outputs(self, batch_inputs: Tensor, batch_data_samples, **kwargs
                        ) -> Dict[str, Tensor]:
        """The head's outputs, the class scores ensembled with MaskCLIP's."""
        outputs = super().predict_outputs(batch_inputs, batch_data_samples, **kwargs)
        if self.clip_head is None:
            return outputs
        with torch.no_grad():
            emb = self.clip_head.mask_embed(self.clip_input(batch_inputs),
                                            outputs['mask_logits'])
        out_vocab = self.classifier.class_logits(F.normalize(emb, dim=-1),
                                                 self.clip_logit_scale)
        cls = geometric_ensemble(outputs['cls_logits'], out_vocab, self.seen_mask(),
                                 alpha=self.alpha, beta=self.beta, void='separate')
        return dict(outputs, cls_logits=cls)
