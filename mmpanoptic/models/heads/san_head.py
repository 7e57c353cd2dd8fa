"""SAN's side adapter network: a small ViT beside the frozen CLIP that
predicts mask proposals and CLIP attention biases."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..classifiers.text_classifier import build_class_layer


class _MLP(nn.Module):
    """ReLU MLP of ``num_layers`` linear (or 1x1 conv) layers."""

    def __init__(self, in_dims: int, hidden: int, out_dims: int, num_layers: int,
                 conv: bool = False) -> None:
        super().__init__()
        dims = [in_dims] + [hidden] * (num_layers - 1) + [out_dims]
        make = (lambda i, o: nn.Conv2d(i, o, 1)) if conv else nn.Linear
        self.layers = nn.ModuleList(make(i, o) for i, o in zip(dims[:-1], dims[1:]))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class _AddFusion(nn.Module):
    """A CLIP feature map, channel-LayerNorm'ed and projected (1x1), resized
    to the adapter's grid and added to its patch tokens."""

    def __init__(self, in_dims: int, out_dims: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(in_dims, eps=1e-6)  # over the channels of each pixel
        self.proj = nn.Conv2d(in_dims, out_dims, 1)
        nn.init.xavier_uniform_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, tokens: Tensor, clip: Tensor, shape: Tuple[int, int]) -> Tensor:
        y = self.norm(clip.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        y = F.interpolate(self.proj(y), size=shape, mode='bilinear', align_corners=False)
        return tokens + y.flatten(2).transpose(1, 2)


@MODELS.register_module()
class SideAdapterHead(nn.Module):
    """SAN's side adapter network (``RegionwiseSideAdapterNetwork`` with the
    ``vit_w240n6d8_patch16`` ViT and ``MLPMaskDecoder``) and its class
    layer.

    A plain ViT (pre-norm blocks, patch 16) runs on the full-resolution
    image with ``num_queries`` query tokens in front of its patch tokens;
    CLIP's feature maps are added to the patch tokens before its blocks
    ``fusion_map`` names (``{clip layer: adapter block}``; 0 = before the
    first block); the positional embeddings are added again before each
    block.  After the blocks in ``deep_supervision`` (the last one only at
    inference), an MLP decoder gives each query a mask (query MLP . pixel
    MLP) and, per CLIP recognition layer and head, an attention bias (query
    MLP . attention MLP, rescaled by a learned affine map).  The masks are
    the proposals; the biases steer CLIP's [SOS] tokens
    (:meth:`CLIPViT.recognize`), whose embeddings the ``classifier`` (a
    :class:`TextEmbeddingClassifier` without projection) names.

    Args:
        clip_dims, clip_heads, clip_embed_dim: the CLIP ViT's width, heads
            and joint-space size (filled in by :class:`SAN`).
        num_classes: filled in by the segmentor.
        classifier: the class layer config.
        embed_dims, num_heads, depth, patch_size, img_size: the adapter ViT
            (SAN: 240, 6, 8, 16, 640).
        fusion_map: ``{clip layer: adapter block}`` (SAN: 0->0, 3->1, 6->2,
            9->3).
        deep_supervision: adapter blocks whose outputs are decoded (SAN: 7, 8).
        bias_layers: CLIP layers given their own bias (SAN: 1, shared).
        decoder_dims, decoder_layers: the MLPs' width and depth (256, 3).
    """

    def __init__(self, *, clip_dims: int, clip_heads: int, clip_embed_dim: int,
                 num_classes: int, classifier: dict, num_queries: int = 100,
                 embed_dims: int = 240, num_heads: int = 6, depth: int = 8,
                 patch_size: int = 16, img_size: int = 640,
                 fusion_map: Optional[Dict[int, int]] = None,
                 deep_supervision: Sequence[int] = (7, 8), bias_layers: int = 1,
                 decoder_dims: int = 256, decoder_layers: int = 3) -> None:
        super().__init__()
        fusion_map = {0: 0, 3: 1, 6: 2, 9: 3} if fusion_map is None else \
            {int(k): int(v) for k, v in fusion_map.items()}
        if max(deep_supervision) != depth:
            raise ValueError(f'deep_supervision {tuple(deep_supervision)} must end with the '
                             f'last block ({depth})')
        self.num_queries, self.num_classes = num_queries, num_classes
        self.patch_embed = nn.Conv2d(3, embed_dims, patch_size, stride=patch_size)
        self.grid = img_size // patch_size
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid ** 2, embed_dims))
        self.query_embed = nn.Parameter(torch.zeros(1, num_queries, embed_dims))
        self.query_pos_embed = nn.Parameter(torch.zeros(1, num_queries, embed_dims))
        for p in (self.pos_embed, self.query_embed, self.query_pos_embed):
            nn.init.normal_(p, std=0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(embed_dims, num_heads, 4 * embed_dims, dropout=0.0,
                                       activation='gelu', batch_first=True, norm_first=True,
                                       layer_norm_eps=1e-6)
            for _ in range(depth))
        self.fusion_map = {block: layer for layer, block in fusion_map.items()}
        self.fusions = nn.ModuleDict({str(block): _AddFusion(clip_dims, embed_dims)
                                      for block in self.fusion_map})
        self.deep_supervision = tuple(deep_supervision)
        self.clip_heads, self.bias_layers = clip_heads, bias_layers
        self.query_mlp = _MLP(embed_dims, decoder_dims, decoder_dims, decoder_layers)
        self.pix_mlp = _MLP(embed_dims, decoder_dims, decoder_dims, decoder_layers, conv=True)
        self.attn_mlp = _MLP(embed_dims, decoder_dims,
                             decoder_dims * clip_heads * bias_layers, decoder_layers, conv=True)
        self.bias_scaling = nn.Linear(1, 1)
        self.classifier = build_class_layer(classifier, clip_embed_dim, num_classes)

    @property
    def cls_embed(self) -> nn.Module:
        """The class layer (the name the other query heads use)."""
        return self.classifier

    def _fuse(self, block: int, x: Tensor, clip: Dict, shape: Tuple[int, int]) -> Tensor:
        if block not in self.fusion_map:
            return x
        q = self.num_queries
        patches = self.fusions[str(block)](x[:, q:], clip[self.fusion_map[block]], shape)
        return torch.cat([x[:, :q], patches], 1)

    def forward(self, x: Tensor, clip: Dict) -> Tuple[List[Tensor], List[List[Tensor]]]:
        """(B, 3, H, W) image (CLIP-normalised) and :meth:`CLIPViT.forward`'s
        features -> mask logits (B, Q, H / 16, W / 16) and attention biases
        (per CLIP layer: (B, clip_heads, Q, H / 16, W / 16)) of every
        decoded block (the last only at inference)."""
        patches = self.patch_embed(x)
        b, c, h, w = patches.shape
        pos = self.pos_embed
        if (h, w) != (self.grid, self.grid):
            pos = F.interpolate(pos.transpose(1, 2).reshape(1, c, self.grid, self.grid),
                                size=(h, w), mode='bicubic', align_corners=False)
            pos = pos.flatten(2).transpose(1, 2)
        pos = torch.cat([self.query_pos_embed, pos], 1)
        tokens = torch.cat([self.query_embed.expand(b, -1, -1),
                            patches.flatten(2).transpose(1, 2)], 1) + pos
        tokens = self._fuse(0, tokens, clip, (h, w))
        decoded = self.deep_supervision if self.training else self.deep_supervision[-1:]
        masks, biases = [], []
        for i, block in enumerate(self.blocks, start=1):
            tokens = self._fuse(i, block(tokens), clip, (h, w))
            if i in decoded:
                m, bias = self.decode(tokens, (h, w))
                masks.append(m)
                biases.append(bias)
            if i < len(self.blocks):
                tokens = tokens + pos
        return masks, biases

    def decode(self, tokens: Tensor, shape: Tuple[int, int]) -> Tuple[Tensor, List[Tensor]]:
        """SAN's ``MLPMaskDecoder`` on one block's tokens."""
        q = self.num_queries
        b = tokens.shape[0]
        query = self.query_mlp(tokens[:, :q])
        feat = tokens[:, q:].transpose(1, 2).reshape(b, -1, *shape)
        pix = self.pix_mlp(feat)
        masks = torch.einsum('bqc,bchw->bqhw', query, pix)
        attn = self.attn_mlp(feat).view(b, self.bias_layers, self.clip_heads, -1, *shape)
        bias = torch.einsum('bqc,blnchw->blnqhw', query, attn)
        bias = self.bias_scaling(bias[..., None])[..., 0]
        return masks, list(bias.unbind(1))
