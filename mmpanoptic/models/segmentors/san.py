"""SAN: side adapter network for open-vocabulary segmentation."""
from typing import List, Optional, Sequence, Tuple

from mmdet.structures import SampleList
from torch import Tensor

from mmpanoptic.registry import MODELS

from .mask_classification_segmentor import MaskClassificationSegmentor


@MODELS.register_module()
class SAN(MaskClassificationSegmentor):
    """SAN (Xu et al., CVPR 2023): a frozen CLIP ViT (:class:`CLIPViT`,
    at half resolution) and a small side adapter network
    (:class:`SideAdapterHead`) fed with CLIP's intermediate features, which
    predicts mask proposals and attention biases; CLIP's last layers then
    embed each mask through its biased [SOS] token, and a text classifier
    names it.  Training, the losses (every decoded adapter block) and the
    panoptic / semantic / instance fusion are the shared
    mask-classification path (:class:`MaskSetCriterion`,
    :class:`MaskClassificationFusion`).

    Differences from the official code (MendelXu/SAN) on purpose: the class
    layer is :class:`TextEmbeddingClassifier` (learned temperature and void
    embedding, initialised to CLIP's 100 and a random vector; SAN: CLIP's
    fixed scale and a learned background embedding); panoptic and instance
    results come from our fusion (SAN itself evaluates semantic
    segmentation).

    Args:
        backbone: :class:`CLIPViT`.
        panoptic_head: :class:`SideAdapterHead` (CLIP sizes filled in).
        others: as :class:`MaskClassificationSegmentor`.
    """

    def head_defaults(self) -> dict:
        return dict(num_classes=self.num_classes, clip_dims=self.backbone.width,
                    clip_heads=self.backbone.num_heads,
                    clip_embed_dim=self.backbone.embed_dim)

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        feats = self.backbone(batch_inputs)
        return tuple(feats[i] for i in range(self.backbone.last_layer + 1))

    def head_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                     with_queries: bool = False, init_queries: Optional[Tensor] = None
                     ) -> Tuple[List[Tensor], List[Tensor], Optional[Tensor], Sequence[Tensor]]:
        """Mask proposals of every decoded adapter block, each classified
        through CLIP with that block's attention biases."""
        if with_queries or init_queries is not None:
            raise TypeError('SAN has no query propagation (use a mask tracker for video)')
        clip = self.backbone(batch_inputs)
        masks, biases = self.panoptic_head(batch_inputs, clip)
        cls = [self.panoptic_head.classifier(self.backbone.recognize(clip, bias))
               for bias in biases]
        return cls, masks, None, ()
