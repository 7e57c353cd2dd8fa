"""DETR's detector and its panoptic mask head (Carion et al., ECCV 2020), forward only."""
import copy
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import FFN
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..builder import build_part
from ..classifiers.text_classifier import build_class_layer
from .maskformer_head import padding_mask


class AttentionMaps(nn.Module):
    """Multi-head attention *weights* of the queries over the encoder's map
    (DETR's ``MHAttentionMap``): the softmax runs over heads and pixels
    together, and no values are read.

    Args:
        embed_dims: query and key width.
        num_heads: heads.
    """

    def __init__(self, embed_dims: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_linear = nn.Linear(embed_dims, embed_dims)
        self.k_linear = nn.Linear(embed_dims, embed_dims)
        self.scale = (embed_dims / num_heads)**-0.5

    def forward(self, queries: Tensor, memory: Tensor, pad: Tensor) -> Tensor:
        """``queries`` (B, Q, C), ``memory`` (B, C, h, w), ``pad`` (B, h, w)
        True on padding -> (B, Q, heads, h, w)."""
        q = self.q_linear(queries)
        k = F.conv2d(memory, self.k_linear.weight[:, :, None, None], self.k_linear.bias)
        b, n, c = q.shape
        qh = q.view(b, n, self.num_heads, c // self.num_heads)
        kh = k.view(b, self.num_heads, c // self.num_heads, *k.shape[-2:])
        weights = torch.einsum('bqnc,bnchw->bqnhw', qh * self.scale, kh)
        weights = weights.masked_fill(pad[:, None, None], float('-inf'))
        return weights.flatten(2).softmax(-1).view(weights.shape)


class MaskHeadSmallConv(nn.Module):
    """DETR's mask head: the attention maps joined to the projected backbone
    map, then an FPN-style upsampling over the backbone's 1/16, 1/8 and 1/4
    levels to one mask logit map per query at 1/4 of the input.

    Why ours: neither mmdet nor mmseg has it.  DETR's names (``lay1`` ..
    ``lay5``, ``gn1`` .. ``gn5``, ``adapter1`` .. ``adapter3``,
    ``out_lay``); the backbone levels are adapted once per image and then
    repeated over the queries (transformers repeats them first and runs the
    adapters once per query).

    Args:
        in_channels: projected-map channels + attention heads.
        fpn_channels: channels of the 1/16, 1/8 and 1/4 backbone levels.
        context_dim: the transformer width (the widths halve from it).
    """

    def __init__(self, in_channels: int, fpn_channels: Sequence[int], context_dim: int) -> None:
        super().__init__()
        dims = [in_channels, context_dim // 2, context_dim // 4, context_dim // 8,
                context_dim // 16]
        self.lay1 = nn.Conv2d(in_channels, in_channels, 3, padding=1)
        self.gn1 = nn.GroupNorm(min(8, in_channels), in_channels)
        for i in range(2, 6):
            setattr(self, f'lay{i}', nn.Conv2d(dims[i - 2], dims[i - 1], 3, padding=1))
            setattr(self, f'gn{i}', nn.GroupNorm(min(8, dims[i - 1]), dims[i - 1]))
        self.out_lay = nn.Conv2d(dims[4], 1, 3, padding=1)
        for i, c in enumerate(fpn_channels):
            setattr(self, f'adapter{i + 1}', nn.Conv2d(c, dims[i + 1], 1))

    def init_weights(self) -> None:
        """DETR's initialisation: Kaiming-uniform (a = 1) convolutions, zero biases."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor, attention: Tensor, fpns: Sequence[Tensor]) -> Tensor:
        """``x`` (B, C, h, w), ``attention`` (B, Q, heads, h, w), ``fpns``
        the 1/16, 1/8, 1/4 levels -> (B, Q, H/4, W/4) mask logits."""
        b, q = attention.shape[:2]
        x = torch.cat([x[:, None].expand(-1, q, -1, -1, -1), attention], 2).flatten(0, 1)
        x = F.relu(self.gn1(self.lay1(x)))
        x = F.relu(self.gn2(self.lay2(x)))
        for i, feat in enumerate(fpns):
            adapted = getattr(self, f'adapter{i + 1}')(feat)  # once per image
            adapted = adapted[:, None].expand(-1, q, -1, -1, -1).flatten(0, 1)
            x = adapted + F.interpolate(x, size=adapted.shape[-2:], mode='nearest')
            x = F.relu(getattr(self, f'gn{i + 3}')(getattr(self, f'lay{i + 3}')(x)))
        x = self.out_lay(x)
        return x.view(b, q, *x.shape[-2:])


@MODELS.register_module()
class DETRPanopticHead(nn.Module):
    """DETR on the last backbone level, and its panoptic mask head.

    A 1x1 projection, mmdet's ``DetrTransformerEncoder`` /
    ``DetrTransformerDecoder`` with sine position encodings and learned query
    positions (the queries start at zero), a class layer and a 3-layer box
    MLP on every decoder layer; the mask head reads the last layer's
    attention maps over the encoder's output.

    Args:
        in_channels: backbone level channels, highest resolution first
            (the last four: 1/4 .. 1/32).
        num_classes: C (class logits have C + 1 columns).
        num_queries: queries.
        encoder, decoder: mmdet DETR transformer configs
            (``return_intermediate=True`` on the decoder).
        positional_encoding: ``SinePositionalEncoding`` arguments.
        classifier: a class layer replacing the ``nn.Linear`` (e.g. a
            :class:`TextEmbeddingClassifier`).
    """

    def __init__(self,
                 *,
                 in_channels: Sequence[int],
                 num_classes: int,
                 num_queries: int = 100,
                 encoder: dict,
                 decoder: dict,
                 positional_encoding: dict = dict(num_feats=128, normalize=True),
                 classifier=None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_queries = num_queries
        self.encoder = build_part(copy.deepcopy(encoder), default_type='DetrTransformerEncoder')
        self.decoder = build_part(copy.deepcopy(decoder), default_type='DetrTransformerDecoder')
        dims = self.decoder.embed_dims
        heads = self.decoder.layers[0].cross_attn.num_heads
        self.embed_dims = dims
        self.input_proj = nn.Conv2d(in_channels[-1], dims, kernel_size=1)
        self.positional_encoding = build_part(positional_encoding,
                                              default_type='SinePositionalEncoding')
        self.query_embedding = nn.Embedding(num_queries, dims)
        self.cls_embed = build_class_layer(classifier, dims, num_classes)
        # mmdet DETRHead's box branch: FFN (2 fcs, no residual) -> ReLU -> fc
        self.reg_ffn = FFN(dims, dims, num_fcs=2, act_cfg=dict(type='ReLU', inplace=True),
                           ffn_drop=0.0, add_identity=False)
        self.fc_reg = nn.Linear(dims, 4)
        if (dims + heads) % 8:
            raise ValueError(f'DETRPanopticHead: the mask head groups width + heads = '
                             f'{dims} + {heads} channels in 8 GroupNorm groups; choose a '
                             f'multiple of 8')
        self.bbox_attention = AttentionMaps(dims, heads)
        self.mask_head = MaskHeadSmallConv(dims + heads, list(in_channels[-2::-1][:3]), dims)

    def init_weights(self) -> None:
        """Xavier-uniform transformer and attention-map weights, zero
        attention-map biases, DETR's mask-head init."""
        for part in (self.encoder, self.decoder):
            for p in part.parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
        for layer in (self.bbox_attention.q_linear, self.bbox_attention.k_linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.mask_head.init_weights()

    def forward(self, feats: Sequence[Tensor], batch_img_metas: Sequence[dict],
                with_masks: bool = True) -> Dict[str, List[Tensor]]:
        """Predictions of every decoder layer (masks for the last one).

        Args:
            feats: backbone levels, highest resolution first (1/4 .. 1/32).
            batch_img_metas: ``batch_input_shape`` and ``img_shape`` per
                image (padding is masked out); empty: no padding.
            with_masks: run the mask head.

        Returns:
            ``cls_logits`` (per layer (B, Q, C + 1)), ``boxes`` (per layer
            (B, Q, 4) normalised cx, cy, w, h), ``mask_logits`` ([(B, Q,
            H/4, W/4)] for the last layer) and ``queries`` (B, Q, C).
        """
        if not batch_img_metas:
            shape = tuple(4 * n for n in feats[0].shape[-2:])
            batch_img_metas = [dict(batch_input_shape=shape, img_shape=shape)] * len(feats[0])
        last = feats[-1]
        pad = padding_mask(batch_img_metas, last.shape[-2:], last.device)
        src = self.input_proj(last)
        b, c, h, w = src.shape
        pos = self.positional_encoding(pad).flatten(2).transpose(1, 2)
        key_pad = pad.flatten(1)
        memory = self.encoder(query=src.flatten(2).transpose(1, 2), query_pos=pos,
                              key_padding_mask=key_pad)
        query_pos = self.query_embedding.weight[None].expand(b, -1, -1)
        hidden = self.decoder(query=torch.zeros_like(query_pos), key=memory, value=memory,
                              query_pos=query_pos, key_pos=pos, key_padding_mask=key_pad)
        cls = self.cls_embed(hidden)
        boxes = self.fc_reg(F.relu(self.reg_ffn(hidden))).sigmoid()
        out = dict(cls_logits=list(cls), boxes=list(boxes), queries=hidden[-1])
        if with_masks:
            memory_map = memory.transpose(1, 2).reshape(b, c, h, w)
            attention = self.bbox_attention(hidden[-1], memory_map, pad)
            out['mask_logits'] = [self.mask_head(src, attention, feats[-2::-1][:3])]
        return out
