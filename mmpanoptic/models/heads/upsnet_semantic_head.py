"""UPSNet's deformable semantic head (Xiong et al., CVPR 2019)."""
from typing import Optional, Sequence

import mmcv.ops  # noqa: F401  registers DCN / DCNv2 in mmcv's conv registry
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpanoptic.registry import MODELS


@MODELS.register_module()
class UPSNetSemanticHead(BaseModule):
    """One deformable sub-network shared by the FPN levels P2..P5, the four
    outputs upsampled to 1/4 and concatenated, a 1x1 conv to class logits.

    Deformable layers are mmcv's compiled ``DeformConv2dPack`` (``DCN``) or
    ``ModulatedDeformConv2dPack`` (``DCNv2``, the default) through
    ``conv_cfg``; ``conv_cfg=dict(type='Conv2d')`` gives plain convs.  As in UPSNet the
    sub-network keeps the input width until its second-to-last layer, which
    goes to ``channels``.

    Why ours: neither mmdet nor mmseg has it (mmdet's ``PanopticFPNHead`` is
    plain convs and upsampling stages).

    Args:
        num_classes: things + stuff (things first, as every mmpanoptic label).
        in_channels: FPN width.
        channels: width of each level after the sub-network (UPSNet: 128).
        num_convs: deformable layers per level (UPSNet: 2 for Cityscapes).
        num_levels: FPN levels used, from P2.
        conv_cfg, norm_cfg, act_cfg: of the sub-network layers.
        loss_weight: of the cross entropy (UPSNet: 0.2 on COCO, 1 on Cityscapes).

    >>> head = UPSNetSemanticHead(num_classes=5, in_channels=8, channels=4,
    ...                           norm_cfg=dict(type='GN', num_groups=2))
    >>> feats = [torch.randn(1, 8, 32 // 2 ** i, 32 // 2 ** i) for i in range(4)]
    >>> head(feats).shape
    torch.Size([1, 5, 32, 32])
    """

    def __init__(self,
                 *,
                 num_classes: int,
                 in_channels: int = 256,
                 channels: int = 128,
                 num_convs: int = 2,
                 num_levels: int = 4,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_convs < 1:
            raise ValueError(f'num_convs must be >= 1, got {num_convs}')
        conv_cfg = dict(type='DCNv2', deform_groups=1) if conv_cfg is None else conv_cfg
        norm_cfg = norm_cfg or dict(type='GN', num_groups=32, requires_grad=True)
        act_cfg = act_cfg or dict(type='ReLU')
        self.num_classes = num_classes
        self.num_levels = num_levels
        self.loss_weight = loss_weight
        layers, width = [], in_channels
        for i in range(num_convs):
            out = channels if i >= num_convs - 2 else width
            layers.append(ConvModule(width, out, 3, padding=1, conv_cfg=conv_cfg,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg))
            width = out
        self.subnet = nn.Sequential(*layers)
        self.conv_logits = nn.Conv2d(num_levels * channels, num_classes, 1)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.conv_logits.weight, 0, 0.01)
        nn.init.zeros_(self.conv_logits.bias)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """(B, C, H/4, W/4) logits from FPN levels ``feats`` (P2 first)."""
        if len(feats) < self.num_levels:
            raise ValueError(f'expected {self.num_levels} FPN levels, got {len(feats)}')
        size = feats[0].shape[-2:]
        outs = [self.subnet(feats[0])]
        for x in feats[1:self.num_levels]:
            outs.append(F.interpolate(self.subnet(x), size=size, mode='bilinear',
                                      align_corners=False))
        return self.conv_logits(torch.cat(outs, 1))

    def loss(self, logits: Tensor, sem_seg: Tensor, *, ignore_index: int = 255) -> Tensor:
        """Weighted cross entropy at the resolution of ``sem_seg`` ((B, H, W) int64)."""
        logits = F.interpolate(logits, size=sem_seg.shape[-2:], mode='bilinear',
                               align_corners=False)
        return self.loss_weight * F.cross_entropy(logits, sem_seg, ignore_index=ignore_index)
