"""EoMT's head: the queries and what reads them inside the encoder.

EoMT (Kerssies et al., CVPR 2025, "Your ViT is Secretly an Image
Segmentation Model") has no pixel decoder and no transformer decoder: the
learned queries join the ViT's tokens before its last ``num_blocks`` blocks,
and before each of those blocks (and after the last) the normalised tokens
are read by this head:

* class logits: ``cls_embed`` on the query tokens;
* mask logits: an MLP on the query tokens dotted with the patch tokens
  upscaled by ``num_upscale`` :class:`ScaleBlock` (x2 each: stride 4 for
  16-pixel patches);
* the next block's attention mask: a query attends to the patches where its
  mask logit (resized to the patch grid) is positive; with probability
  ``1 - p`` per query it attends everywhere, ``p = attn_mask_probs[block]``
  (mask annealing: :class:`~mmpanoptic.engine.hooks.MaskAnnealingHook` decays
  ``p`` to 0 during training, so inference needs no mask).

The segmentor (:class:`~mmpanoptic.models.segmentors.EoMT`) runs the blocks;
this module is forward-only, the losses are :class:`MaskSetCriterion`'s.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..classifiers.text_classifier import build_class_layer


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (B, C, H, W) map."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ScaleBlock(nn.Module):
    """x2 upscaling: transposed conv 2x2 / 2, GELU, depthwise 3x3 conv,
    LayerNorm (EoMT's ``ScaleBlock``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(dim, dim, kernel_size=2, stride=2)
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim, bias=False)
        self.norm = LayerNorm2d(dim, eps=1e-6)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.conv2(self.act(self.conv1(x))))


@MODELS.register_module()
class EoMTHead(BaseModule):
    """Queries, class layer, mask MLP and upscaler of EoMT (see the module doc).

    Args:
        embed_dims: the ViT's token width (filled in by the segmentor).
        num_classes: C; class logits have C + 1 columns ("no object" last).
        num_queries: number of queries.
        num_blocks: the last blocks that take the queries.
        num_upscale: x2 upscale blocks of the patch tokens for the masks.
        classifier: a class layer replacing the ``nn.Linear``, e.g.
            :class:`TextEmbeddingClassifier` (its ``in_channels`` filled in).
    """

    def __init__(self,
                 *,
                 embed_dims: int,
                 num_classes: int,
                 num_queries: int = 200,
                 num_blocks: int = 4,
                 num_upscale: int = 2,
                 classifier: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_classes = num_classes
        self.num_queries = num_queries
        self.num_blocks = num_blocks
        self.query_embed = nn.Embedding(num_queries, embed_dims)
        self.cls_embed = build_class_layer(classifier, embed_dims, num_classes)
        self.mask_embed = nn.Sequential(
            nn.Linear(embed_dims, embed_dims), nn.GELU(),
            nn.Linear(embed_dims, embed_dims), nn.GELU(),
            nn.Linear(embed_dims, embed_dims))
        self.upscale = nn.Sequential(*[ScaleBlock(embed_dims) for _ in range(num_upscale)])
        # Probability that a query's attention is masked in each of the last
        # blocks (1 at the start of training, annealed to 0).
        self.register_buffer('attn_mask_probs', torch.ones(num_blocks))

    def predict(self, tokens: Tensor, grid: Tuple[int, int],
                num_prefix: int) -> Tuple[Tensor, Tensor]:
        """Class and mask logits from normalised tokens.

        Args:
            tokens: (B, Q + prefix + h * w, C), queries first.
            grid: the patch grid (h, w).
            num_prefix: class + register tokens between queries and patches.

        Returns:
            ``cls`` (B, Q, C + 1) and ``masks`` (B, Q, h * 2^u, w * 2^u).
        """
        q = tokens[:, :self.num_queries]
        patches = tokens[:, self.num_queries + num_prefix:]
        patches = patches.transpose(1, 2).reshape(tokens.shape[0], -1, *grid)
        masks = torch.einsum('bqc,bchw->bqhw', self.mask_embed(q), self.upscale(patches))
        return self.cls_embed(q), masks

    def attention_mask(self, mask_logits: Tensor, grid: Tuple[int, int], num_tokens: int,
                       num_prefix: int, prob: Tensor) -> Tensor:
        """(B, T, T) bool attention mask of the next block (True: attend).

        Only query -> patch entries are masked: where the query's mask logit,
        resized to the patch grid, is not positive; a query escapes the mask
        with probability ``1 - prob``.
        """
        b, q = mask_logits.shape[:2]
        mask = torch.ones(b, num_tokens, num_tokens, dtype=torch.bool,
                          device=mask_logits.device)
        small = F.interpolate(mask_logits, size=tuple(grid), mode='bilinear',
                              align_corners=False).flatten(2)
        allowed = small > 0
        if float(prob) < 1:
            escaped = torch.rand(b, q, device=mask_logits.device) > prob
            allowed = allowed | escaped[..., None]
        mask[:, :q, q + num_prefix:] = allowed
        return mask
