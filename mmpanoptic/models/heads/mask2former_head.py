"""Mask2Former's query head: masked-attention transformer decoder (forward only)."""
import copy
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import Conv2d
from mmengine.model import BaseModule, caffe2_xavier_init
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..builder import build_part
from ..classifiers.open_vocab_ensemble import mask_pool
from ..classifiers.text_classifier import build_class_layer


class PooledMaskEmbed(nn.Module):
    """ODISE's class embedding of a query (``PooledMaskEmbed``, Xu et al.,
    CVPR 2023): the mask features averaged inside the query's own binary
    mask (logit > 0, no gradient through the mask), normed and projected,
    added to the decoder output, then a norm and a 3-layer MLP to
    ``projection_dim``, which the class layer reads.

    Args:
        embed_dims: query width (also the pooled features' width after the
            projection; ODISE: 256 both).
        mask_dims: mask feature width.
        projection_dim: output width (ODISE: the mask width, 256).
    """

    def __init__(self, embed_dims: int, mask_dims: int, projection_dim: int = 256) -> None:
        super().__init__()
        self.pool_proj = nn.Sequential(nn.LayerNorm(mask_dims), nn.Linear(mask_dims, embed_dims))
        self.mask_embed = nn.Sequential(
            nn.LayerNorm(embed_dims), nn.Linear(embed_dims, embed_dims), nn.ReLU(inplace=True),
            nn.Linear(embed_dims, embed_dims), nn.ReLU(inplace=True),
            nn.Linear(embed_dims, projection_dim))
        self.out_channels = projection_dim

    def forward(self, queries: Tensor, masks: Tensor, mask_features: Tensor) -> Tensor:
        """(B, Q, C) normed queries, (B, Q, *S) mask logits and (B, D, *S)
        mask features (S: (h, w), or (T, h, w) for a clip) -> (B, Q, P)."""
        if masks.dim() == 5:  # a clip: its frames stacked into one map
            masks = masks.flatten(2, 3)
            mask_features = mask_features.flatten(2, 3)
        pooled = mask_pool(mask_features, masks.detach())
        return self.mask_embed(self.pool_proj(pooled) + queries)


@MODELS.register_module()
class Mask2FormerQueryHead(BaseModule):
    """Queries refined by masked attention over a multi-scale pixel decoder.

    Each decoder layer cross-attends to one feature level (1/32, 1/16, 1/8 in
    turn) and only where the query's mask from the previous layer is
    foreground (sigmoid >= 0.5); a query whose mask is empty everywhere attends
    everywhere.  After every layer (and before the first) the queries predict
    class logits and mask logits (dot product of the mask embedding with the
    1/4-scale mask features), so losses supervise every layer.

    Why ours and not mmdet's ``Mask2FormerHead``: that class also owns the
    matcher, losses and post-processing, and skips its parents' initializers.
    This one is forward only; losses are :class:`MaskSetCriterion`, inference
    :class:`MaskClassificationFusion`.  Sub-module names and shapes are
    mmdet's, so mmdet's released checkpoints load without conversion.

    Args:
        in_channels: channels of the backbone levels fed to the pixel decoder.
        num_classes: C; class logits have C + 1 columns ("no object" last).
        feat_channels: width of the pixel decoder and the queries.
        out_channels: width of the mask features and mask embeddings.
        num_queries: number of queries.
        num_transformer_feat_level: feature levels used round robin.
        pixel_decoder: e.g. ``mmdet.MSDeformAttnPixelDecoder`` (on mmcv's
            compiled ``MultiScaleDeformableAttention``).
        transformer_decoder: ``Mask2FormerTransformerDecoder`` config.
        positional_encoding: ``SinePositionalEncoding`` arguments.
        enforce_decoder_input_project: 1x1 projections even when widths match.
        classifier: a class layer replacing the ``nn.Linear`` (its
            ``in_channels`` is filled in), e.g. :class:`TextEmbeddingClassifier`
            for classes named in text; it must have ``num_classes`` classes.
        last_layer_only_at_inference: in eval mode without gradients, return
            only the last layer's logits (lists of one) and build the
            intermediate attention masks at key resolution (:meth:`_infer`;
            the same last layer to float precision).  False returns every
            layer at inference too (layer-by-layer parity checks).
        pooled_mask_embed: :class:`PooledMaskEmbed` arguments
            (``projection_dim``): classify each query from its mask-pooled
            embedding, as ODISE; None: from the query (Mask2Former).
    """

    def __init__(self,
                 *,
                 in_channels: Sequence[int],
                 num_classes: int,
                 feat_channels: int = 256,
                 out_channels: int = 256,
                 num_queries: int = 100,
                 num_transformer_feat_level: int = 3,
                 pixel_decoder: dict,
                 transformer_decoder: dict,
                 positional_encoding: dict = dict(num_feats=128, normalize=True),
                 enforce_decoder_input_project: bool = False,
                 classifier: Optional[dict] = None,
                 last_layer_only_at_inference: bool = True,
                 pooled_mask_embed: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.num_queries = num_queries
        self.last_layer_only_at_inference = last_layer_only_at_inference
        self.num_transformer_feat_level = num_transformer_feat_level
        pixel_decoder = copy.deepcopy(pixel_decoder)
        pixel_decoder.update(in_channels=in_channels, feat_channels=feat_channels,
                             out_channels=out_channels)
        self.pixel_decoder = MODELS.build(pixel_decoder)
        self.transformer_decoder = build_part(
            transformer_decoder, default_type='Mask2FormerTransformerDecoder')
        self.num_heads = self.transformer_decoder.layers[0].cross_attn.num_heads
        embed_dims = self.transformer_decoder.embed_dims
        self.decoder_input_projs = nn.ModuleList([
            Conv2d(feat_channels, embed_dims, kernel_size=1)
            if embed_dims != feat_channels or enforce_decoder_input_project else nn.Identity()
            for _ in range(num_transformer_feat_level)
        ])
        self.decoder_positional_encoding = build_part(
            positional_encoding, default_type='SinePositionalEncoding')
        self.query_embed = nn.Embedding(num_queries, feat_channels)
        self.query_feat = nn.Embedding(num_queries, feat_channels)
        self.level_embed = nn.Embedding(num_transformer_feat_level, feat_channels)
        self.pooled_embed = PooledMaskEmbed(feat_channels, out_channels, **pooled_mask_embed) \
            if pooled_mask_embed is not None else None
        class_input = self.pooled_embed.out_channels if self.pooled_embed else feat_channels
        self.cls_embed = build_class_layer(classifier, class_input, num_classes)
        self.mask_embed = nn.Sequential(
            nn.Linear(feat_channels, feat_channels), nn.ReLU(inplace=True),
            nn.Linear(feat_channels, feat_channels), nn.ReLU(inplace=True),
            nn.Linear(feat_channels, out_channels))

    def init_weights(self) -> None:
        """Xavier for the decoder and projections (Mask2Former's scheme)."""
        for m in self.decoder_input_projs:
            if isinstance(m, Conv2d):
                caffe2_xavier_init(m, bias=0)
        self.pixel_decoder.init_weights()
        for p in self.transformer_decoder.parameters():
            if p.dim() > 1:
                nn.init.xavier_normal_(p)

    def predict_layer(self, queries: Tensor, mask_features: Tensor,
                      attn_size: Optional[Tuple[int, int]]
                      ) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        """Class logits, mask logits and the next layer's attention mask.

        Args:
            queries: (B, Q, C) decoder output.
            mask_features: (B, D, H/4, W/4).
            attn_size: (h, w) of the next layer's key features (None: no
                attention mask, the last layer at inference).

        Returns:
            ``cls`` (B, Q, K + 1), ``masks`` (B, Q, H/4, W/4) and ``attn_mask``
            (B * heads, Q, h * w) bool, True where attention is blocked.
        """
        queries = self.transformer_decoder.post_norm(queries)
        masks = torch.einsum('bqc,bchw->bqhw', self.mask_embed(queries), mask_features)
        cls = self.classify(queries, masks, mask_features)
        if attn_size is None:
            return cls, masks, None
        attn = F.interpolate(masks, attn_size, mode='bilinear', align_corners=False)
        attn = attn.flatten(2).unsqueeze(1).repeat(1, self.num_heads, 1, 1).flatten(0, 1)
        return cls, masks, (attn.sigmoid() < 0.5).detach()

    def classify(self, normed: Tensor, masks: Tensor, mask_features: Tensor) -> Tensor:
        """Class logits of normed queries: the class layer on the query, or
        on ODISE's pooled mask embedding (``pooled_mask_embed``)."""
        if self.pooled_embed is None:
            return self.cls_embed(normed)
        return self.cls_embed(self.pooled_embed(normed, masks, mask_features))

    def attention_mask(self, queries: Tensor, small_features: Tensor) -> Tensor:
        """The next layer's attention mask from mask features already at the
        key resolution: the logits there equal the full-resolution logits
        resized (bilinear resizing and the per-pixel dot product are both
        linear), without computing the full-resolution map."""
        queries = self.transformer_decoder.post_norm(queries)
        attn = torch.einsum('bqc,bchw->bqhw', self.mask_embed(queries), small_features)
        attn = attn.flatten(2).unsqueeze(1).repeat(1, self.num_heads, 1, 1).flatten(0, 1)
        return (attn.sigmoid() < 0.5).detach()

    def forward(self, feats: Sequence[Tensor],
                batch_img_metas: Sequence[dict] = ()) -> Tuple[List[Tensor], List[Tensor]]:
        """Predictions of every layer.

        Args:
            feats: backbone levels, highest resolution first.
            batch_img_metas: unused (the deformable pixel decoder attends to
                the padding too, as in Mask2Former); kept for one signature.

        Returns:
            ``cls_logits`` and ``mask_logits``: lists over the 1 + L layers of
            (B, Q, K + 1) and (B, Q, H/4, W/4) tensors.
        """
        cls, masks, _ = self.forward_with_queries(feats, batch_img_metas)
        return cls, masks

    def forward_with_queries(self, feats: Sequence[Tensor], batch_img_metas: Sequence[dict] = (),
                             init_queries: Optional[Tensor] = None,
                             with_mask_features: bool = False):
        """:meth:`forward` that also returns the last layer's queries and can
        start from given query features (query propagation in video: the
        queries of frame t initialise frame t + 1).

        Args:
            init_queries: (B, Q, C) query features replacing the learned
                ``query_feat``; None for a fresh detection.
            with_mask_features: also return the (B, D, H/4, W/4) mask
                features (a learned tracker predicts masks from them).

        Returns:
            ``(cls_logits, mask_logits, queries)``, queries (B, Q, C) after
            the last layer (before the output norm), and ``mask_features``
            last with ``with_mask_features``.
        """
        out = self._forward_with_queries(feats, init_queries)
        return out if with_mask_features else out[:3]

    def _forward_with_queries(self, feats: Sequence[Tensor], init_queries: Optional[Tensor]):
        b = feats[0].shape[0]
        mask_features, memories = self.pixel_decoder(feats)
        keys, key_pos = [], []
        for i in range(self.num_transformer_feat_level):
            key = self.decoder_input_projs[i](memories[i]).flatten(2).permute(0, 2, 1)
            keys.append(key + self.level_embed.weight[i].view(1, 1, -1))
            no_pad = key.new_zeros((b, ) + memories[i].shape[-2:], dtype=torch.bool)
            key_pos.append(self.decoder_positional_encoding(no_pad).flatten(2).permute(0, 2, 1))
        if init_queries is None:
            queries = self.query_feat.weight.unsqueeze(0).repeat(b, 1, 1)
        elif init_queries.shape != (b, self.num_queries, self.query_feat.embedding_dim):
            raise ValueError(f'init_queries must be {(b, self.num_queries)} x channels, got '
                             f'{tuple(init_queries.shape)}')
        else:
            queries = init_queries
        query_pos = self.query_embed.weight.unsqueeze(0).repeat(b, 1, 1)

        if (self.last_layer_only_at_inference and not self.training
                and not torch.is_grad_enabled()):
            return (*self._infer(queries, query_pos, keys, key_pos, mask_features, memories),
                    mask_features)
        cls, masks, attn_mask = self.predict_layer(queries, mask_features,
                                                   memories[0].shape[-2:])
        all_cls, all_masks = [cls], [masks]
        for i in range(len(self.transformer_decoder.layers)):
            queries = self._decode(i, queries, query_pos, keys, key_pos, attn_mask)
            next_level = (i + 1) % self.num_transformer_feat_level
            cls, masks, attn_mask = self.predict_layer(queries, mask_features,
                                                       memories[next_level].shape[-2:])
            all_cls.append(cls)
            all_masks.append(masks)
        return all_cls, all_masks, queries, mask_features

    def forward_clip(self, feats: Sequence[Tensor], clip_length: int,
                     batch_img_metas: Sequence[dict] = ()) -> Tuple[List[Tensor], List[Tensor],
                                                                     Tensor]:
        """Tube queries over clips (near-online video, Tube-Link / Video
        K-Net style): the batch holds N clips of ``clip_length`` frames;
        each query cross-attends to the tokens of all T frames of its clip
        at once (masked by its tube mask over the T frames) and predicts one
        class for the clip and one mask per frame.  No new weights: with
        T = 1 this is :meth:`forward`.

        Returns:
            per layer ``cls`` (N, Q, K + 1) and ``masks`` (N, Q, T, H/4, W/4),
            and the last layer's ``queries`` (N, Q, C).
        """
        t = clip_length
        if feats[0].shape[0] % t:
            raise ValueError(f'a batch of {feats[0].shape[0]} frames is not made of clips of '
                             f'{t}')
        n = feats[0].shape[0] // t
        mask_features, memories = self.pixel_decoder(feats)
        mask_features = mask_features.unflatten(0, (n, t))  # (N, T, D, H, W)
        keys, key_pos, sizes = [], [], []
        for i in range(self.num_transformer_feat_level):
            key = self.decoder_input_projs[i](memories[i]).flatten(2).permute(0, 2, 1)
            key = key + self.level_embed.weight[i].view(1, 1, -1)
            keys.append(key.reshape(n, -1, key.shape[-1]))  # (N, T h w, C)
            no_pad = key.new_zeros((n * t, ) + memories[i].shape[-2:], dtype=torch.bool)
            pos = self.decoder_positional_encoding(no_pad).flatten(2).permute(0, 2, 1)
            key_pos.append(pos.reshape(n, -1, pos.shape[-1]))
            sizes.append(memories[i].shape[-2:])
        queries = self.query_feat.weight.unsqueeze(0).repeat(n, 1, 1)
        query_pos = self.query_embed.weight.unsqueeze(0).repeat(n, 1, 1)

        def predict(q, size):
            normed = self.transformer_decoder.post_norm(q)
            masks = torch.einsum('nqc,ntchw->nqthw', self.mask_embed(normed), mask_features)
            attn = F.interpolate(masks.flatten(1, 2), size, mode='bilinear',
                                 align_corners=False).view(n, masks.shape[1], -1)
            attn = attn.unsqueeze(1).repeat(1, self.num_heads, 1, 1).flatten(0, 1)
            cls = self.classify(normed, masks, mask_features.transpose(1, 2))
            return cls, masks, (attn.sigmoid() < 0.5).detach()

        cls, masks, attn_mask = predict(queries, sizes[0])
        all_cls, all_masks = [cls], [masks]
        for i in range(len(self.transformer_decoder.layers)):
            queries = self._decode(i, queries, query_pos, keys, key_pos, attn_mask)
            cls, masks, attn_mask = predict(queries,
                                            sizes[(i + 1) % self.num_transformer_feat_level])
            all_cls.append(cls)
            all_masks.append(masks)
        return all_cls, all_masks, queries

    def _decode(self, i: int, queries: Tensor, query_pos: Tensor, keys: Sequence[Tensor],
                key_pos: Sequence[Tensor], attn_mask: Tensor) -> Tensor:
        """Decoder layer ``i`` on its feature level (round robin)."""
        level = i % self.num_transformer_feat_level
        # A query masked everywhere would get NaNs: let it see everything.
        attn_mask = attn_mask & (attn_mask.sum(-1) != attn_mask.shape[-1]).unsqueeze(-1)
        return self.transformer_decoder.layers[i](
            query=queries, key=keys[level], value=keys[level], query_pos=query_pos,
            key_pos=key_pos[level], cross_attn_mask=attn_mask, query_key_padding_mask=None,
            key_padding_mask=None)

    def _infer(self, queries, query_pos, keys, key_pos, mask_features, memories):
        """Inference: only the last layer's class and full-resolution mask
        logits are returned (what the fusion reads); the intermediate layers'
        attention masks come from the mask features resized once per key
        level (:meth:`attention_mask`) instead of resizing nine
        full-resolution mask maps (2.5x less work in the decoder at
        1024 px).  Lists of one element, as the fusion takes the last."""
        levels = self.num_transformer_feat_level
        small = [F.interpolate(mask_features, memories[lvl].shape[-2:], mode='bilinear',
                               align_corners=False) for lvl in range(levels)]
        attn_mask = self.attention_mask(queries, small[0])
        for i in range(len(self.transformer_decoder.layers)):
            queries = self._decode(i, queries, query_pos, keys, key_pos, attn_mask)
            if i + 1 < len(self.transformer_decoder.layers):
                attn_mask = self.attention_mask(queries, small[(i + 1) % levels])
        cls, masks, _ = self.predict_layer(queries, mask_features, None)
        return [cls], [masks], queries
