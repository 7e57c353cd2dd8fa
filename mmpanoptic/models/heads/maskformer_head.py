"""MaskFormer's query head: a DETR decoder with global cross-attention (forward only)."""
import copy
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import Conv2d
from mmdet.models.layers import PixelDecoder
from mmengine.model import BaseModule, caffe2_xavier_init
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..builder import build_part
from ..classifiers.text_classifier import build_class_layer


def padding_mask(batch_img_metas: Sequence[dict], size: Tuple[int, int],
                 device: torch.device) -> Tensor:
    """(B, h, w) bool, True on batch padding, at feature size ``size``."""
    pad_h, pad_w = batch_img_metas[0]['batch_input_shape']
    mask = torch.ones((len(batch_img_metas), pad_h, pad_w), device=device)
    for i, meta in enumerate(batch_img_metas):
        h, w = meta['img_shape'][:2]
        mask[i, :h, :w] = 0
    return F.interpolate(mask[:, None], size=size, mode='nearest')[:, 0].bool()


@MODELS.register_module()
class MaskFormerQueryHead(BaseModule):
    """Queries decoded with global cross-attention on the lowest-resolution
    features; mask logits are mask embeddings dotted with per-pixel
    embeddings from an FPN-style pixel decoder.

    Why ours: mmdet's ``MaskFormerHead`` also owns matching, losses and
    inference.  This one is forward only; sub-module names are mmdet's, so
    mmdet's MaskFormer checkpoints load unchanged.

    Args:
        in_channels: backbone level channels, highest resolution first.
        num_classes: C (class logits have C + 1 columns).
        feat_channels, out_channels: pixel decoder and mask embedding widths.
        num_queries: number of queries.
        pixel_decoder: ``mmdet.TransformerEncoderPixelDecoder`` or ``mmdet.PixelDecoder``.
        transformer_decoder: ``DetrTransformerDecoder`` config.
        positional_encoding: ``SinePositionalEncoding`` arguments.
        enforce_decoder_input_project: project the memory even if widths match.
        classifier: a class layer replacing the ``nn.Linear``, e.g.
            :class:`TextEmbeddingClassifier` (``in_channels`` filled in).
    """

    def __init__(self,
                 *,
                 in_channels: Sequence[int],
                 num_classes: int,
                 feat_channels: int = 256,
                 out_channels: int = 256,
                 num_queries: int = 100,
                 pixel_decoder: dict,
                 transformer_decoder: dict,
                 positional_encoding: dict = dict(num_feats=128, normalize=True),
                 enforce_decoder_input_project: bool = False,
                 classifier: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.num_queries = num_queries
        pixel_decoder = copy.deepcopy(pixel_decoder)
        pixel_decoder.update(in_channels=in_channels, feat_channels=feat_channels,
                             out_channels=out_channels)
        self.pixel_decoder = MODELS.build(pixel_decoder)
        self.transformer_decoder = build_part(
            transformer_decoder, default_type='DetrTransformerDecoder')
        embed_dims = self.transformer_decoder.embed_dims
        # Only the plain PixelDecoder hands the raw last backbone level over
        # as memory; the transformer-encoder one already projects it.
        if type(self.pixel_decoder) is PixelDecoder and (
                embed_dims != in_channels[-1] or enforce_decoder_input_project):
            self.decoder_input_proj = Conv2d(in_channels[-1], embed_dims, kernel_size=1)
        else:
            self.decoder_input_proj = nn.Identity()
        self.decoder_pe = build_part(
            positional_encoding, default_type='SinePositionalEncoding')
        # The query-side layers are as wide as the decoder (mmdet's configs
        # have feat_channels = out_channels = embed_dims; transformers'
        # MaskFormer checkpoints may not).
        self.query_embed = nn.Embedding(num_queries, embed_dims)
        self.cls_embed = build_class_layer(classifier, embed_dims, num_classes)
        self.mask_embed = nn.Sequential(
            nn.Linear(embed_dims, embed_dims), nn.ReLU(inplace=True),
            nn.Linear(embed_dims, embed_dims), nn.ReLU(inplace=True),
            nn.Linear(embed_dims, out_channels))

    def init_weights(self) -> None:
        """Xavier-uniform decoder weights (MaskFormer's scheme)."""
        if isinstance(self.decoder_input_proj, Conv2d):
            caffe2_xavier_init(self.decoder_input_proj, bias=0)
        self.pixel_decoder.init_weights()
        for p in self.transformer_decoder.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, feats: Sequence[Tensor],
                batch_img_metas: Sequence[dict]) -> Tuple[List[Tensor], List[Tensor]]:
        """Predictions of every decoder layer.

        Args:
            feats: backbone levels, highest resolution first.
            batch_img_metas: ``batch_input_shape`` and ``img_shape`` per image
                (the padding is masked out of the attention); empty: no padding.

        Returns:
            ``cls_logits`` and ``mask_logits``: lists over the L layers of
            (B, Q, C + 1) and (B, Q, H/4, W/4).
        """
        if not batch_img_metas:  # tracing / _forward(x): the input is all image
            shape = tuple(4 * n for n in feats[0].shape[-2:])  # the first level is 1/4
            batch_img_metas = [dict(batch_input_shape=shape, img_shape=shape)] * len(feats[0])
        pad = padding_mask(batch_img_metas, feats[-1].shape[-2:], feats[-1].device)
        mask_features, memory = self.pixel_decoder(feats, batch_img_metas)
        pos = self.decoder_pe(pad).flatten(2).permute(0, 2, 1)
        memory = self.decoder_input_proj(memory).flatten(2).permute(0, 2, 1)
        query_pos = self.query_embed.weight.unsqueeze(0).repeat(len(feats[0]), 1, 1)
        out = self.transformer_decoder(query=torch.zeros_like(query_pos), key=memory,
                                       value=memory, query_pos=query_pos, key_pos=pos,
                                       key_padding_mask=pad.flatten(1))
        cls = self.cls_embed(out)
        masks = torch.einsum('lbqc,bchw->lbqhw', self.mask_embed(out), mask_features)
        return list(cls), list(masks)
