"""Panoptic-DeepLab's dual decoders and prediction heads (forward only).

Cheng et al., "Panoptic-DeepLab", CVPR 2020.  Losses live in
:mod:`mmpanoptic.models.criteria.panoptic_deeplab_criterion`, grouping in
:mod:`mmpanoptic.models.fusion.center_grouping`.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.model import BaseModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from torch import Tensor, nn

from mmpanoptic.registry import MODELS


@MODELS.register_module()
class DeepLabV3PlusDecoder(BaseModule):
    """ASPP on the coarsest level, then fused with finer levels one by one.

    One branch of Panoptic-DeepLab (the model has two, semantic and
    instance, with different widths).  The ASPP is mmsegmentation's
    ``ASPPModule`` plus an image-pooling branch; every fusion step projects
    the finer level with a 1x1 conv, concatenates the upsampled coarse
    feature and mixes with one 5x5 depthwise separable conv (mmcv's
    ``DepthwiseSeparableConvModule``), as in the paper.

    Args:
        in_channels: channels of every backbone level, finest first.
        aspp_channels: width of each ASPP branch and of its output.
        aspp_dilations: dilations of the ASPP branches (the first is a 1x1
            branch when it is 1, as in DeepLab).
        low_level_indices: levels fused after the ASPP, coarse to fine
            (e.g. ``(1, 0)`` = stride 8 then stride 4).
        low_level_channels: 1x1 projection width of each of those levels.
        decoder_channels: output width of every fusion step.
        norm_cfg, act_cfg: of every conv.
        aspp_separable: the dilated ASPP branches are 3x3 depthwise
            separable convs (detectron2's ``USE_DEPTHWISE_SEPARABLE_CONV``).
        image_pool_norm: the image-pooling branch has a norm layer (False:
            a biased 1x1 conv, as detectron2's ASPP).
        aspp_dropout: dropout after the ASPP projection (detectron2: 0.1).
        channel_order: ``'ours'`` concatenates [pooled, ASPP branches] and
            [upsampled, low-level]; ``'detectron2'`` [ASPP branches, pooled]
            and [low-level, upsampled], so detectron2's weights apply as
            they are.

    >>> dec = DeepLabV3PlusDecoder(in_channels=[8, 16, 32], aspp_channels=16,
    ...                            aspp_dilations=(1, 2), low_level_indices=(1, 0),
    ...                            low_level_channels=(8, 4), decoder_channels=16)
    >>> feats = [torch.randn(2, 8, 32, 32), torch.randn(2, 16, 16, 16),
    ...          torch.randn(2, 32, 8, 8)]
    >>> dec(feats).shape
    torch.Size([2, 16, 32, 32])
    """

    def __init__(self,
                 *,
                 in_channels: Sequence[int],
                 aspp_channels: int = 256,
                 aspp_dilations: Sequence[int] = (1, 6, 12, 18),
                 low_level_indices: Sequence[int] = (1, 0),
                 low_level_channels: Sequence[int] = (64, 32),
                 decoder_channels: int = 256,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 aspp_separable: bool = False,
                 image_pool_norm: bool = True,
                 aspp_dropout: float = 0.0,
                 channel_order: str = 'ours',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        act_cfg = act_cfg or dict(type='ReLU')
        if channel_order not in ('ours', 'detectron2'):
            raise ValueError(f"channel_order must be 'ours' or 'detectron2', got "
                             f'{channel_order!r}')
        self.channel_order = channel_order
        if len(low_level_indices) != len(low_level_channels):
            raise ValueError(f'low_level_indices {tuple(low_level_indices)} and '
                             f'low_level_channels {tuple(low_level_channels)} differ in length')
        top = in_channels[-1]
        self.low_level_indices = tuple(low_level_indices)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(top, aspp_channels, 1, norm_cfg=norm_cfg if image_pool_norm else None,
                       act_cfg=act_cfg))
        if aspp_separable:  # 1x1 branch, then 3x3 depthwise separable dilated ones
            self.aspp = nn.ModuleList([
                ConvModule(top, aspp_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
                if d == 1 else DepthwiseSeparableConvModule(
                    top, aspp_channels, 3, padding=d, dilation=d, norm_cfg=norm_cfg,
                    act_cfg=act_cfg) for d in aspp_dilations])
        else:
            self.aspp = ASPPModule(tuple(aspp_dilations), top, aspp_channels, None, norm_cfg,
                                   act_cfg)
        self.aspp_bottleneck = ConvModule((len(aspp_dilations) + 1) * aspp_channels,
                                          aspp_channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.aspp_dropout = nn.Dropout(aspp_dropout) if aspp_dropout > 0 else nn.Identity()
        self.projections = nn.ModuleList()
        self.fusions = nn.ModuleList()
        width = aspp_channels
        for idx, proj in zip(self.low_level_indices, low_level_channels):
            self.projections.append(
                ConvModule(in_channels[idx], proj, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
            self.fusions.append(DepthwiseSeparableConvModule(
                width + proj, decoder_channels, 5, padding=2, norm_cfg=norm_cfg,
                act_cfg=act_cfg))
            width = decoder_channels
        self.out_channels = width

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """(B, decoder_channels, h, w) at the finest fused level."""
        top = feats[-1]
        pooled = self.image_pool(top).expand(-1, -1, *top.shape[-2:])
        branches = [branch(top) for branch in self.aspp]
        d2 = self.channel_order == 'detectron2'
        x = self.aspp_bottleneck(torch.cat(branches + [pooled] if d2 else [pooled] + branches, 1))
        x = self.aspp_dropout(x)
        for idx, proj, fuse in zip(self.low_level_indices, self.projections, self.fusions):
            low = proj(feats[idx])
            x = F.interpolate(x, size=low.shape[-2:], mode='bilinear', align_corners=False)
            x = fuse(torch.cat([low, x] if d2 else [x, low], 1))
        return x


class _Predictor(nn.Sequential):
    """5x5 depthwise separable conv then a 1x1 conv to ``out_channels``."""

    def __init__(self, in_channels: int, head_channels: int, out_channels: int,
                 norm_cfg: dict, act_cfg: dict) -> None:
        super().__init__(
            DepthwiseSeparableConvModule(in_channels, head_channels, 5, padding=2,
                                         norm_cfg=norm_cfg, act_cfg=act_cfg),
            nn.Conv2d(head_channels, out_channels, 1))


@MODELS.register_module()
class PanopticDeepLabHead(BaseModule):
    """Semantic decoder + instance decoder, three predictions.

    Returns, at the resolution of the finest fused level (stride 4 with the
    default ``low_level_indices``):

    - ``sem``: (B, C, h, w) semantic logits over things + stuff;
    - ``center``: (B, 1, h, w) center heatmap (regressed to a Gaussian);
    - ``offset``: (B, 2, h, w) (dy, dx) from each pixel to its instance
      center, in pixels of this (h, w) grid; the segmentor multiplies them
      by the upsampling factor when it resizes them to the input.

    Args:
        num_classes: C (things first, then stuff).
        semantic_decoder, instance_decoder: :class:`DeepLabV3PlusDecoder`
            configs (any registered module returning one feature map and
            exposing ``out_channels`` works).
        semantic_head_channels, instance_head_channels: widths of the
            prediction heads' 5x5 convs (paper: 256 and 32).
        norm_cfg, act_cfg: of the prediction heads.
        center_head: ``'separable'`` (one 5x5 depthwise separable conv, as
            the other heads) or ``'conv3x3'`` (two 3x3 convs, the first
            keeping the decoder width: detectron2's center head).
    """

    def __init__(self,
                 *,
                 num_classes: int,
                 semantic_decoder: dict,
                 instance_decoder: dict,
                 semantic_head_channels: int = 256,
                 instance_head_channels: int = 32,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 center_head: str = 'separable',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        act_cfg = act_cfg or dict(type='ReLU')
        if center_head not in ('separable', 'conv3x3'):
            raise ValueError(f"center_head must be 'separable' or 'conv3x3', got {center_head!r}")
        self.num_classes = num_classes
        self.semantic_decoder = MODELS.build(semantic_decoder)
        self.instance_decoder = MODELS.build(instance_decoder)
        sem_c = self.semantic_decoder.out_channels
        inst_c = self.instance_decoder.out_channels
        self.semantic_predictor = _Predictor(sem_c, semantic_head_channels, num_classes,
                                             norm_cfg, act_cfg)
        if center_head == 'separable':
            self.center_predictor = _Predictor(inst_c, instance_head_channels, 1, norm_cfg,
                                               act_cfg)
        else:
            self.center_predictor = nn.Sequential(
                ConvModule(inst_c, inst_c, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg),
                ConvModule(inst_c, instance_head_channels, 3, padding=1, norm_cfg=norm_cfg,
                           act_cfg=act_cfg),
                nn.Conv2d(instance_head_channels, 1, 1))
        self.offset_predictor = _Predictor(inst_c, instance_head_channels, 2, norm_cfg,
                                           act_cfg)

    def forward(self, feats: Sequence[Tensor]) -> Dict[str, Tensor]:
        sem_feat = self.semantic_decoder(feats)
        inst_feat = self.instance_decoder(feats)
        return dict(sem=self.semantic_predictor(sem_feat),
                    center=self.center_predictor(inst_feat),
                    offset=self.offset_predictor(inst_feat))


__all__: List[str] = ['DeepLabV3PlusDecoder', 'PanopticDeepLabHead']
