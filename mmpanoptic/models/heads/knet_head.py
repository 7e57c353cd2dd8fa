"""K-Net's kernel head for panoptic segmentation (forward only)."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..classifiers.text_classifier import build_class_layer
from .layers import build_with_default


def coord_features(x: Tensor) -> Tensor:
    """(B, 2, H, W) normalized x / y coordinates in [-1, 1] (CoordConv)."""
    b, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([xx, yy])[None].expand(b, -1, -1, -1)


@MODELS.register_module()
class KNetKernelHead(BaseModule):
    """K-Net (Zhang et al., NeurIPS 2021): kernels that segment and get updated.

    1. Semantic-FPN fusion of the neck levels into one 1/4-scale feature.
    2. Kernel initialization: ``num_proposals`` learned thing kernels act on a
       localization branch (with coordinate channels), one stuff kernel per
       stuff class acts on a semantic branch; both give initial masks.
    3. ``num_stages`` kernel-update stages (mmsegmentation's
       ``KernelUpdateHead``: group features under each mask, adaptive kernel
       update, kernel self-attention, FFN, new masks).  After every stage a
       classifier predicts C + 1 logits per kernel.

    Differences from the published model, made so K-Net shares the
    mask-classification criterion and inference with (Mask)Former: kernels
    are classified with a softmax over C classes + "no object" (K-Net uses
    sigmoid focal scores), all kernels (thing and stuff) are matched by the
    Hungarian matcher, and the update heads gather features with the softmax
    over kernels of mmseg's head (a panoptic partition) instead of K-Net's
    thresholded sigmoid.

    Args:
        in_channels: channels of every neck level (e.g. FPN's 256).
        num_classes: C, things first.
        num_things: thing classes; the rest are stuff (one kernel each).
        num_proposals: thing kernels.
        feat_channels: fused feature width (= kernel width).
        num_levels: neck levels fused (highest resolution first).
        num_stages: kernel-update stages.
        kernel_update_head: ``mmseg.KernelUpdateHead`` config (its
            ``in_channels`` / ``out_channels`` default to ``feat_channels``).
        norm_cfg: norm of the fusion convs.
        num_stuff_kernels: stuff kernels (default: one per stuff class).  With
            a text classifier the stuff kernels' classes come from the
            classifier, so their count need not follow the vocabulary.
        classifier: the last layer of every stage's class head, e.g.
            :class:`TextEmbeddingClassifier`; all stages share one text encoder.
    """

    def __init__(self,
                 *,
                 in_channels: int,
                 num_classes: int,
                 num_things: int,
                 num_proposals: int = 100,
                 feat_channels: int = 256,
                 num_levels: int = 4,
                 num_stages: int = 3,
                 kernel_update_head: dict,
                 norm_cfg: dict = dict(type='GN', num_groups=32, requires_grad=True),
                 num_stuff_kernels: Optional[int] = None,
                 classifier: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.num_things = num_things
        self.num_proposals = num_proposals
        self.num_levels = num_levels
        self.lateral_convs = nn.ModuleList([
            ConvModule(in_channels, feat_channels, 3, padding=1, norm_cfg=norm_cfg)
            for _ in range(num_levels)
        ])
        self.loc_convs = ConvModule(feat_channels + 2, feat_channels, 1, norm_cfg=norm_cfg)
        self.sem_convs = ConvModule(feat_channels, feat_channels, 3, padding=1,
                                    norm_cfg=norm_cfg)
        self.init_kernels = nn.Conv2d(feat_channels, num_proposals, 1, bias=False)
        if num_stuff_kernels is None:
            num_stuff_kernels = num_classes - num_things
        self.conv_seg = nn.Conv2d(feat_channels, num_stuff_kernels, 1, bias=False)
        update = dict(kernel_update_head)
        update.setdefault('in_channels', feat_channels)
        update.setdefault('out_channels', feat_channels)
        update.setdefault('num_classes', num_classes)
        self.update_heads = nn.ModuleList([
            build_with_default(update, 'mmseg.KernelUpdateHead') for _ in range(num_stages)
        ])
        self.cls_heads = nn.ModuleList()
        shared_encoder = None
        for _ in range(num_stages):  # layers created in order (same initialization)
            first, norm = nn.Linear(feat_channels, feat_channels), nn.LayerNorm(feat_channels)
            last = build_class_layer(classifier, feat_channels, num_classes, shared_encoder)
            shared_encoder = getattr(last, 'text_encoder', None)
            self.cls_heads.append(nn.Sequential(first, norm, nn.ReLU(inplace=True), last))

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.init_kernels.weight, std=0.01)
        nn.init.normal_(self.conv_seg.weight, std=0.01)
        for head in self.update_heads:
            head.init_weights()

    def fuse(self, feats: Sequence[Tensor]) -> Tensor:
        """Sum of the lateral-convolved levels, upsampled to the first level."""
        size = feats[0].shape[-2:]
        fused = self.lateral_convs[0](feats[0])
        for conv, x in zip(self.lateral_convs[1:], feats[1:self.num_levels]):
            fused = fused + F.interpolate(conv(x), size=size, mode='bilinear',
                                          align_corners=False)
        return fused

    def forward(self, feats: Sequence[Tensor],
                batch_img_metas: Sequence[dict] = ()) -> Tuple[List[Tensor], List[Tensor]]:
        """Predictions of every update stage.

        Args:
            feats: neck levels, highest resolution (1/4) first.
            batch_img_metas: unused; one signature with the other query heads.

        Returns:
            ``cls_logits`` and ``mask_logits``: lists over the stages of
            (B, P + S, C + 1) and (B, P + S, H/4, W/4), P thing kernels then
            S stuff kernels.
        """
        cls, masks, _ = self.forward_with_queries(feats, batch_img_metas)
        return cls, masks

    def forward_with_queries(self, feats: Sequence[Tensor], batch_img_metas: Sequence[dict] = (),
                             init_queries: Optional[Tensor] = None):
        """:meth:`forward` that also returns the last stage's kernels and can
        start from given kernels (Video K-Net's kernel propagation: the
        kernels of frame t initialise frame t + 1).

        Args:
            init_queries: (B, P + S, C) kernels replacing the learned initial
                ones (thing kernels act on the localization feature, stuff
                kernels on the semantic feature, as the learned ones do);
                None for a fresh detection.

        Returns:
            ``(cls_logits, mask_logits, kernels)``, kernels (B, P + S, C)
            after the last update stage.
        """
        x = self.fuse(feats)
        b = x.shape[0]
        loc = self.loc_convs(torch.cat([x, coord_features(x)], 1))
        sem = self.sem_convs(x)
        p = self.num_proposals
        if init_queries is None:
            masks = torch.cat([self.init_kernels(loc), self.conv_seg(sem)], 1)
            kernels = torch.cat([self.init_kernels.weight, self.conv_seg.weight])  # (K, C, 1, 1)
            kernels = kernels[None].expand(b, -1, -1, -1, -1)
        else:
            k = p + self.conv_seg.out_channels
            if init_queries.shape != (b, k, x.shape[1]):
                raise ValueError(f'init_queries must be {(b, k, x.shape[1])}, got '
                                 f'{tuple(init_queries.shape)}')
            masks = torch.cat([torch.einsum('bkc,bchw->bkhw', init_queries[:, :p], loc),
                               torch.einsum('bkc,bchw->bkhw', init_queries[:, p:], sem)], 1)
            kernels = init_queries[..., None, None]
        all_cls, all_masks = [], []
        for update, classify in zip(self.update_heads, self.cls_heads):
            masks, kernels = update(x, kernels, masks)
            all_cls.append(classify(kernels.flatten(2)))
            all_masks.append(masks)
        return all_cls, all_masks, kernels.flatten(2)
