"""A frozen CLIP ViT (transformers' ``CLIPVisionModelWithProjection``) split
the way SAN uses it: the first layers give features, the last ones
recognise masks through attention biases."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS


@MODELS.register_module()
class CLIPViT(nn.Module):
    """SAN's CLIP ViT (Xu et al., CVPR 2023): ``forward`` runs the image (at
    ``resolution`` times its size: SAN's asymmetric input) through the
    patch embedding and the first ``last_layer`` layers and returns the
    patch maps and class tokens of layers 0 (after the pre-norm) ..
    ``last_layer``; :meth:`recognize` runs the remaining layers with
    per-query [SOS] tokens (copies of the class token) that attend to
    themselves and to the patches through given attention biases, while
    the class and patch tokens run as in CLIP (they never see the [SOS]
    tokens), and returns the [SOS] tokens in CLIP's joint space.  With zero
    biases each [SOS] token is CLIP's class token, so its embedding is
    CLIP's image embedding (tested against transformers).

    Why ours: transformers' layers take one additive mask per attention; we
    apply their own weights (norms, q / k / v / out projections, MLP) with
    the [SOS] mask built here, as SAN does inside open_clip's blocks.  The
    positional embedding is resized bicubically to the patch grid (SAN's
    ``resize_pos_embed2d``) and is the one trainable part (SAN's
    ``CLIP_FROZEN_EXCLUDE``).

    Args:
        pretrained: a transformers CLIP folder (``CLIPModel`` or
            ``CLIPVisionModelWithProjection``), e.g. ``openai/clip-vit-base-patch16``
            saved locally.
        config: a ``CLIPVisionConfig`` dict instead (random weights; tests).
        last_layer: layers run for the features (SAN: 9 for ViT-B/16, 18
            for ViT-L/14); the others recognise.
        resolution: input scale for CLIP (SAN: 0.5).
        train_pos_embed: keep the positional embedding trainable.
    """

    def __init__(self, *, pretrained: Optional[str] = None, config: Optional[dict] = None,
                 last_layer: int = 9, resolution: float = 0.5,
                 train_pos_embed: bool = True) -> None:
        super().__init__()
        from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
        if (pretrained is None) == (config is None):
            raise ValueError('CLIPViT needs pretrained=<a transformers CLIP folder> or config')
        model = CLIPVisionModelWithProjection.from_pretrained(pretrained) if pretrained \
            else CLIPVisionModelWithProjection(CLIPVisionConfig(**config))
        vision = model.vision_model
        self.embeddings = vision.embeddings
        self.pre_layrnorm = vision.pre_layrnorm
        self.layers = vision.encoder.layers
        self.post_layernorm = vision.post_layernorm
        self.visual_projection = model.visual_projection
        if not 0 < last_layer < len(self.layers):
            raise ValueError(f'last_layer={last_layer}: the CLIP ViT has {len(self.layers)} '
                             f'layers; some must be left to recognise')
        self.last_layer = last_layer
        self.resolution = resolution
        cfg = model.config
        self.width, self.num_heads = cfg.hidden_size, cfg.num_attention_heads
        self.patch_size, self.embed_dim = cfg.patch_size, cfg.projection_dim
        self.grid = cfg.image_size // cfg.patch_size
        for name, p in self.named_parameters():
            p.requires_grad_(train_pos_embed and name == 'embeddings.position_embedding.weight')

    def train(self, mode: bool = True) -> 'CLIPViT':
        return super().train(False)  # frozen (no dropout anyway)

    def positions(self, h: int, w: int) -> Tensor:
        """(1 + h * w, C) positional embeddings for an h x w patch grid."""
        pos = self.embeddings.position_embedding.weight
        if (h, w) == (self.grid, self.grid):
            return pos
        grid = pos[1:].t().reshape(1, -1, self.grid, self.grid)
        grid = F.interpolate(grid, size=(h, w), mode='bicubic', align_corners=False)
        return torch.cat([pos[:1], grid.flatten(2)[0].t()])

    def forward(self, x: Tensor) -> Dict:
        """(B, 3, H, W) normalised with CLIP's mean / std ->
        ``{i: (B, C, h, w) patch map, 'cls_i': (B, C) class token}`` for
        layers 0 .. ``last_layer``, plus ``shape`` (h, w)."""
        if self.resolution != 1:
            x = F.interpolate(x, scale_factor=self.resolution, mode='bilinear',
                              align_corners=False)
        patches = self.embeddings.patch_embedding(x)  # (B, C, h, w)
        b, c, h, w = patches.shape
        cls = self.embeddings.class_embedding.expand(b, 1, -1)
        tokens = torch.cat([cls, patches.flatten(2).transpose(1, 2)], 1) + self.positions(h, w)
        tokens = self.pre_layrnorm(tokens)
        out = dict(shape=(h, w))

        def save(i, t):
            out[i] = t[:, 1:].transpose(1, 2).reshape(b, c, h, w)
            out[f'cls_{i}'] = t[:, 0]
        save(0, tokens)
        for i, layer in enumerate(self.layers[:self.last_layer], start=1):
            tokens = self._layer(layer, tokens)
            save(i, tokens)
        return out

    @staticmethod
    def _layer(layer: nn.Module, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """One transformers ``CLIPEncoderLayer`` with an additive attention
        mask (B or 1, heads or 1, N, N)."""
        attn = layer.self_attn
        h = layer.layer_norm1(x)
        b, n, c = h.shape
        heads = attn.num_heads

        def split(t):
            return t.view(b, n, heads, c // heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(split(attn.q_proj(h)), split(attn.k_proj(h)),
                                           split(attn.v_proj(h)), attn_mask=mask,
                                           scale=attn.scale)
        x = x + attn.out_proj(y.transpose(1, 2).reshape(b, n, c))
        return x + layer.mlp(layer.layer_norm2(x))

    def recognize(self, features: Dict, attn_biases: Sequence[Tensor]) -> Tensor:
        """(B, Q, D) CLIP embeddings of Q masks (not normalised).

        Args:
            features: :meth:`forward`'s output.
            attn_biases: per remaining layer (or one for all), (B, heads or 1,
                Q, h, w) biases of each [SOS] token on the patches at any
                resolution (max-pooled to the patch grid, as SAN).
        """
        h, w = features['shape']
        first = self.last_layer
        patches = features[first].flatten(2).transpose(1, 2)  # (B, L, C)
        cls = features[f'cls_{first}'][:, None]
        b, length = patches.shape[:2]
        q = attn_biases[0].shape[2]
        sos = cls.expand(b, q, -1)
        x = torch.cat([sos, cls, patches], 1)
        layers = self.layers[first:]
        if len(attn_biases) == 1:
            attn_biases = list(attn_biases) * len(layers)
        if len(attn_biases) != len(layers):
            raise ValueError(f'{len(attn_biases)} attention biases for {len(layers)} layers')
        for layer, bias in zip(layers, attn_biases):
            x = self._layer(layer, x, self._sos_mask(bias, q, (h, w)))
        sos = self.post_layernorm(x[:, :q])
        return self.visual_projection(sos)

    def _sos_mask(self, bias: Tensor, q: int, shape) -> Tensor:
        """SAN's mask over [SOS x Q, class, patches]: an [SOS] token sees
        itself and the patches (with ``bias``), not the class token nor the
        other [SOS] tokens; class and patches never see [SOS] tokens."""
        b, heads = bias.shape[:2]
        bias = F.adaptive_max_pool2d(bias.flatten(1, 2), shape).view(b, heads, q, -1)
        n = q + 1 + bias.shape[-1]
        mask = bias.new_zeros(b, heads, n, n)
        mask[..., :q] = -100.0
        idx = torch.arange(q, device=bias.device)
        mask[..., idx, idx] = 0.0
        mask[..., :q, q] = -100.0
        mask[..., :q, q + 1:] = bias
        return mask

    def mask_embed(self, x: Tensor, mask_logits: Tensor) -> Tensor:
        """(B, Q, D) CLIP embeddings of Q masks by MaskCLIP, as ODISE's test
        head uses it (``MaskCLIP.get_mask_embed``; not normalised): the image
        resized to CLIP's square input (e.g. 336 px), each mask resized to it,
        max-pooled over each patch and kept where sigmoid >= 0.5; one copy of
        the class token per mask (after the pre-norm) runs through *every*
        layer seeing the class token and its mask's patches only (no mask
        token sees a mask token, itself included), while the class and
        patch tokens run as in CLIP.  A mask that covers the image gives
        CLIP's image embedding; an empty one sees the class token alone.

        Args:
            x: (B, 3, H, W) normalised with CLIP's mean / std.
            mask_logits: (B, Q, h, w) at any resolution.
        """
        size = (self.grid * self.patch_size, ) * 2
        x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
        masks = F.interpolate(mask_logits, size=size, mode='bilinear',
                              align_corners=False).sigmoid()
        hidden = F.max_pool2d(masks, self.patch_size, self.patch_size).flatten(2) < 0.5
        b, q = hidden.shape[:2]
        patches = self.embeddings.patch_embedding(x).flatten(2).transpose(1, 2)
        cls = self.embeddings.class_embedding.expand(b, 1, -1)
        tokens = self.pre_layrnorm(torch.cat([cls, patches], 1) + self.positions(self.grid,
                                                                                   self.grid))
        tokens = torch.cat([tokens[:, :1].expand(b, q, -1), tokens], 1)
        n = tokens.shape[1]
        blocked = torch.zeros(b, 1, n, n, dtype=torch.bool, device=x.device)
        blocked[..., :q] = True  # nobody sees a mask token
        blocked[:, 0, :q, q + 1:] = hidden  # a mask token sees its patches only
        mask = torch.zeros(blocked.shape, dtype=tokens.dtype, device=x.device)
        mask = mask.masked_fill(blocked, float('-inf'))
        for layer in self.layers:
            tokens = self._layer(layer, tokens, mask)
        return self.visual_projection(self.post_layernorm(tokens[:, :q]))

    def image_embed(self, x: Tensor) -> Tensor:
        """(B, D) CLIP's image embedding through the same code (all layers,
        the class token): what ``CLIPVisionModelWithProjection`` returns."""
        feats = self.forward(x)
        tokens = torch.cat([feats[f'cls_{self.last_layer}'][:, None],
                            feats[self.last_layer].flatten(2).transpose(1, 2)], 1)
        for layer in self.layers[self.last_layer:]:
            tokens = self._layer(layer, tokens)
        return self.visual_projection(self.post_layernorm(tokens[:, 0]))


__all__: List[str] = ['CLIPViT']
