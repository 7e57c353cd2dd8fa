"""K-Net's kernel head for panoptic segmentation (forward only)."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, bias_init_with_prob
from mmseg.models.decode_heads.knet_head import KernelUpdateHead
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..builder import build_part
from ..classifiers.text_classifier import build_class_layer


def coord_features(x: Tensor) -> Tensor:
    """(B, 2, H, W) normalized x / y coordinates in [-1, 1] (CoordConv)."""
    b, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([xx, yy])[None].expand(b, -1, -1, -1)


@MODELS.register_module()
class KNetUpdateHead(KernelUpdateHead):
    """mmseg's ``KernelUpdateHead`` with K-Net's panoptic feature gathering.

    mmseg's head (semantic K-Net) gathers each kernel's features with the
    softmax of the masks over kernels; the official panoptic K-Net
    (``knet/det/kernel_update_head.py``) gathers them under its binary mask
    ``sigmoid(mask) > hard_mask_thr``, so overlapping things each get their
    whole region.  ``mask_gather='sigmoid_hard'`` does that and
    ``'softmax'`` keeps mmseg's behaviour; the parameters are mmseg's, so
    weights load either way.

    Args:
        mask_gather: ``'sigmoid_hard'`` (K-Net panoptic) or ``'softmax'``.
        hard_mask_thr: the binary mask's threshold (0.5).
        Other arguments: ``mmseg.KernelUpdateHead``'s.
    """

    def __init__(self, *, mask_gather: str = 'sigmoid_hard', hard_mask_thr: float = 0.5,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if mask_gather not in ('sigmoid_hard', 'softmax'):
            raise ValueError(f"mask_gather must be 'sigmoid_hard' or 'softmax', "
                             f'got {mask_gather!r}')
        if mask_gather == 'sigmoid_hard' and (self.mask_transform_stride != 1
                                              or self.feat_gather_stride != 1):
            raise ValueError('mask_gather="sigmoid_hard" supports mask_transform_stride=1 '
                             'and feat_gather_stride=1 only')
        self.mask_gather = mask_gather
        self.hard_mask_thr = hard_mask_thr

    def forward(self, x: Tensor, proposal_feat: Tensor, mask_preds: Tensor,
                mask_shape=None) -> Tuple[Tensor, Tensor]:
        """New masks (B, N, H, W) and kernels (B, N, C, k, k), as mmseg's."""
        if self.mask_gather == 'softmax':
            return super().forward(x, proposal_feat, mask_preds, mask_shape)
        b, n = proposal_feat.shape[:2]
        if self.feat_transform is not None:
            x = self.feat_transform(x)
        c, h, w = x.shape[-3:]
        if mask_preds.shape[-2:] != (h, w):
            mask_preds = F.interpolate(mask_preds, (h, w), mode='bilinear',
                                       align_corners=False)
        gather = (mask_preds.sigmoid() > self.hard_mask_thr).to(x.dtype)
        x_feat = torch.einsum('bnhw,bchw->bnc', gather, x)
        proposal_feat = proposal_feat.reshape(b, n, self.in_channels, -1).permute(0, 1, 3, 2)
        obj_feat = self.kernel_update_conv(x_feat, proposal_feat)
        obj_feat = obj_feat.reshape(b, n, -1).permute(1, 0, 2)
        obj_feat = self.attention_norm(self.attention(obj_feat)).permute(1, 0, 2)
        obj_feat = obj_feat.reshape(b, n, -1, self.in_channels)
        if self.with_ffn:
            obj_feat = self.ffn_norm(self.ffn(obj_feat))
        mask_feat = obj_feat
        for layer in self.mask_fcs:
            mask_feat = layer(mask_feat)
        mask_feat = self.fc_mask(mask_feat).permute(0, 1, 3, 2).reshape(
            b, n, c, self.conv_kernel_size, self.conv_kernel_size)
        pad = self.conv_kernel_size // 2
        new_masks = torch.cat([F.conv2d(x[i:i + 1], mask_feat[i], padding=pad)
                               for i in range(b)]).reshape(b, n, h, w)
        if mask_shape is not None and mask_shape[0] != h:
            new_masks = F.interpolate(new_masks, mask_shape, mode='bilinear',
                                      align_corners=False)
        kernels = obj_feat.permute(0, 1, 3, 2).reshape(
            b, n, self.in_channels, self.conv_kernel_size, self.conv_kernel_size)
        return new_masks, kernels


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

    By default (``cls_activation='sigmoid'`` with :class:`KNetUpdateHead`'s
    ``mask_gather='sigmoid_hard'``) this is the official panoptic K-Net:
    sigmoid class scores over C classes (no "no object" column), features
    gathered under each kernel's binary mask; it trains with
    :class:`KNetCriterion` (thing kernels matched, stuff kernel j = stuff
    class j) and predicts with :class:`KNetFusion`.  ``cls_activation=
    'softmax'`` + ``mask_gather='softmax'`` is our earlier variant, which
    shares Mask2Former's criterion and inference (C + 1 softmax, every
    kernel Hungarian-matched); ``docs/query_models.md`` compares the two.

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
        cls_activation: ``'sigmoid'`` (official: C logits, focal-loss prior
            bias) or ``'softmax'`` (C + 1 logits, "no object" last).
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
                 cls_activation: str = 'sigmoid',
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if cls_activation not in ('sigmoid', 'softmax'):
            raise ValueError(f"cls_activation must be 'sigmoid' or 'softmax', "
                             f'got {cls_activation!r}')
        self.cls_activation = cls_activation
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
            build_part(update, default_type='KNetUpdateHead') for _ in range(num_stages)
        ])
        self.cls_heads = nn.ModuleList()
        shared_encoder = None
        for _ in range(num_stages):  # layers created in order (same initialization)
            first, norm = nn.Linear(feat_channels, feat_channels), nn.LayerNorm(feat_channels)
            if classifier is None and cls_activation == 'sigmoid':
                last = nn.Linear(feat_channels, num_classes)
            else:  # a text classifier's void column is dropped under sigmoid
                last = build_class_layer(classifier, feat_channels, num_classes, shared_encoder)
            shared_encoder = getattr(last, 'text_encoder', None)
            self.cls_heads.append(nn.Sequential(first, norm, nn.ReLU(inplace=True), last))

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.init_kernels.weight, std=0.01)
        nn.init.normal_(self.conv_seg.weight, std=0.01)
        for head in self.update_heads:
            head.init_weights()
        if self.cls_activation == 'sigmoid':  # focal-loss prior: p = 0.01 (K-Net)
            for cls_head in self.cls_heads:
                if isinstance(cls_head[-1], nn.Linear):
                    nn.init.constant_(cls_head[-1].bias, bias_init_with_prob(0.01))

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
            (B, P + S, C) sigmoid logits (``'softmax'``: C + 1, "no object"
            last) and (B, P + S, H/4, W/4), P thing kernels then S stuff
            kernels.
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
            logits = classify(kernels.flatten(2))
            if self.cls_activation == 'sigmoid' and not isinstance(classify[-1], nn.Linear):
                logits = logits[..., :-1]  # a text classifier's void column
            all_cls.append(logits)
            all_masks.append(masks)
        return all_cls, all_masks, kernels.flatten(2)
