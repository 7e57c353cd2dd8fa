"""A light semantic head for Panoptic FPN, registered from outside mmpanoptic."""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpanoptic.registry import MODELS


@MODELS.register_module()
class LightSemanticHead(BaseModule):
    """One 3x3 conv per FPN level, upsampled to 1/4 and summed, then logits.

    Same contract as ``mmdet.PanopticFPNHead``: ``num_stuff_classes + 1``
    output channels, channel ``num_stuff_classes`` standing for every thing.

    Args:
        num_things_classes: thing labels are ``[0, num_things_classes)``.
        num_stuff_classes: stuff labels follow the things.
        in_channels: FPN width.
        channels: width of the head.
        num_levels: how many FPN levels (from the finest) to use.
        ignore_index: label ignored by the loss.
        loss_weight: weight of the cross-entropy loss.

    >>> head = LightSemanticHead(num_things_classes=2, num_stuff_classes=3, in_channels=8)
    >>> feats = [torch.rand(1, 8, 16 // 2**i, 16 // 2**i) for i in range(4)]
    >>> head(feats)['seg_preds'].shape
    torch.Size([1, 4, 16, 16])
    """

    def __init__(self,
                 *,
                 num_things_classes: int,
                 num_stuff_classes: int,
                 in_channels: int,
                 channels: int = 32,
                 num_levels: int = 4,
                 ignore_index: int = 255,
                 loss_weight: float = 0.5) -> None:
        super().__init__()
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.num_levels = num_levels
        self.convs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(inplace=True))
            for _ in range(num_levels))
        self.logits = nn.Conv2d(channels, num_stuff_classes + 1, 1)

    def forward(self, x: Sequence[Tensor]) -> Dict[str, Tensor]:
        size = x[0].shape[-2:]
        out = 0
        for conv, feat in zip(self.convs, x[:self.num_levels]):
            y = conv(feat)
            if y.shape[-2:] != size:
                y = F.interpolate(y, size=size, mode='bilinear', align_corners=False)
            out = out + y
        return dict(seg_preds=self.logits(out))

    def _targets(self, data_samples) -> Tensor:
        """Thing labels -> channel S, stuff label T + s -> s, VOID stays."""
        gt = torch.stack([s.gt_sem_seg.sem_seg[0] for s in data_samples]).long()
        t = self.num_things_classes
        out = gt.clone()
        out[gt < t] = self.num_stuff_classes
        stuff = (gt >= t) & (gt < t + self.num_stuff_classes)
        out[stuff] = gt[stuff] - t
        return out

    def loss(self, x: Sequence[Tensor], data_samples) -> Dict[str, Tensor]:
        logits = self(x)['seg_preds']
        target = self._targets(data_samples)
        logits = F.interpolate(logits, size=target.shape[-2:], mode='bilinear', align_corners=False)
        loss = F.cross_entropy(logits, target, ignore_index=self.ignore_index)
        return dict(loss_seg=self.loss_weight * loss)

    def predict(self,
                x: Sequence[Tensor],
                img_metas: List[dict],
                rescale: bool = True) -> List[Tensor]:
        logits = self(x)['seg_preds']
        logits = F.interpolate(logits,
                               size=img_metas[0]['batch_input_shape'],
                               mode='bilinear',
                               align_corners=False)
        out = []
        for i, meta in enumerate(img_metas):
            h, w = meta['img_shape']
            seg = logits[i, :, :h, :w]
            if rescale:
                seg = F.interpolate(seg[None],
                                    size=meta['ori_shape'],
                                    mode='bilinear',
                                    align_corners=False)[0]
            out.append(seg)
        return out
