"""EoMT: the encoder-only mask transformer (Kerssies et al., CVPR 2025)."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmdet.structures import SampleList
from torch import Tensor

from mmpanoptic.registry import MODELS

from .mask_classification_segmentor import MaskClassificationSegmentor


@MODELS.register_module()
class EoMT(MaskClassificationSegmentor):
    """A plain ViT (:class:`~mmpanoptic.models.backbones.ViT`) whose last
    ``num_blocks`` blocks also process learned queries, read by
    :class:`~mmpanoptic.models.heads.EoMTHead` before each of those blocks and
    after the last (deep supervision) and masking the queries' attention
    while ``attn_mask_probs`` > 0 (mask annealing; see the head's doc).

    Everything after the head is the shared mask-classification path: the
    losses are :class:`MaskSetCriterion`'s on every block's predictions, the
    panoptic / semantic / instance results :class:`MaskClassificationFusion`'s,
    the test-time augmentation :class:`QueryTTA`'s, and a
    :class:`TextEmbeddingClassifier` as the head's ``classifier`` makes the
    vocabulary open.

    At inference a block whose probability is 0 runs without a mask and its
    intermediate prediction is skipped (only the last one is used).

    Args:
        backbone: :class:`ViT` config or module.
        panoptic_head: :class:`EoMTHead` (``embed_dims`` and ``num_classes``
            filled in).
        criterion, fusion, num_things_classes, num_stuff_classes,
        data_preprocessor, init_cfg: as :class:`MaskClassificationSegmentor`.
    """

    def __init__(self, **kwargs) -> None:
        if kwargs.get('neck') is not None:
            raise TypeError('EoMT has no neck: its head reads the ViT tokens')
        super().__init__(**kwargs)
        if self.panoptic_head.num_blocks > len(self.backbone.blocks):
            raise ValueError(f'EoMT: the head takes the queries into the last '
                             f'{self.panoptic_head.num_blocks} blocks, the ViT has '
                             f'{len(self.backbone.blocks)}')

    def head_defaults(self) -> dict:
        """The head's width is the ViT's."""
        return dict(num_classes=self.num_classes, embed_dims=self.backbone.embed_dims)

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """The ViT's final patch map (the queries are not part of it)."""
        return tuple(self.backbone(batch_inputs))

    def encode(self, batch_inputs: Tensor, *, init_queries: Optional[Tensor] = None,
               all_layers: bool = True, mask_attention: Optional[bool] = None
               ) -> Tuple[List[Tensor], List[Tensor], Tensor, Tensor]:
        """Run the ViT with the queries joined before its last blocks.

        Args:
            batch_inputs: (B, 3, H, W) normalised images.
            init_queries: (B, Q, C) query tokens to join instead of the
                learned ones (VidEoMT-style propagation).
            all_layers: predict before every query block (training, or
                masked attention at inference); else only where a mask is
                applied, and after the last block.
            mask_attention: False: never mask the queries' attention (VidEoMT
                at inference, whatever ``attn_mask_probs`` holds); None: by
                ``attn_mask_probs`` (always while training).

        Returns:
            ``(cls_logits per prediction, mask_logits per prediction, tokens,
            raw_queries)``, the last prediction after the last block;
            ``tokens`` are the final normalised tokens (queries first),
            ``raw_queries`` the query tokens before that norm (what VidEoMT
            propagates).
        """
        vit, head = self.backbone, self.panoptic_head
        tokens, grid, rope = vit.embed(batch_inputs)
        prefix = vit.num_prefix_tokens
        start = len(vit.blocks) - head.num_blocks
        all_cls, all_masks = [], []
        for i, block in enumerate(vit.blocks):
            mask = None
            if i == start:
                queries = head.query_embed.weight[None].expand(tokens.shape[0], -1, -1) \
                    if init_queries is None else init_queries
                tokens = torch.cat((queries.to(tokens.dtype), tokens), dim=1)
            if i >= start:
                prob = head.attn_mask_probs[i - start]
                masking = mask_attention is not False and (self.training or float(prob) > 0)
                if masking or all_layers:
                    cls, masks = head.predict(vit.norm(tokens), grid, prefix)
                    all_cls.append(cls)
                    all_masks.append(masks)
                    if masking:
                        mask = head.attention_mask(masks, grid, tokens.shape[1], prefix, prob)
            tokens = block(tokens, mask, rope)
        raw_queries = tokens[:, :head.num_queries]
        tokens = vit.norm(tokens)
        cls, masks = head.predict(tokens, grid, prefix)
        return all_cls + [cls], all_masks + [masks], tokens, raw_queries

    def head_outputs(self, batch_inputs: Tensor, batch_data_samples: SampleList, *,
                     with_queries: bool = False, init_queries: Optional[Tensor] = None
                     ) -> Tuple[List[Tensor], List[Tensor], Optional[Tensor], Sequence[Tensor]]:
        """Predictions of every query block (training) or of the last
        (inference); ``queries`` are the final query tokens."""
        cls, masks, tokens, _ = self.encode(batch_inputs, init_queries=init_queries,
                                            all_layers=self.training)
        queries = tokens[:, :self.panoptic_head.num_queries] if with_queries else None
        return cls, masks, queries, ()

    #: query propagation works through ``head_outputs(init_queries=...)``
    supports_query_propagation = True
