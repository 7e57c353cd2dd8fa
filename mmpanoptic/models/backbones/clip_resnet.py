"""CLIP's image tower (the "modified ResNet" of RN50 / RN101 / RN50x4 ...) as a
frozen multi-scale backbone for FC-CLIP-style open-vocabulary models."""
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from .clip_tower import FrozenCLIPTower

# (blocks per stage, width, output embed dim, attention-pool input resolution)
CLIP_RESNET_ARCHS: Dict[str, tuple] = {
    'RN50': ((3, 4, 6, 3), 64, 1024, 224),
    'RN101': ((3, 4, 23, 3), 64, 512, 224),
    'RN50x4': ((4, 6, 10, 6), 80, 640, 288),
    'RN50x16': ((6, 8, 18, 8), 96, 768, 384),
    'RN50x64': ((3, 15, 36, 10), 128, 1024, 448),
}


class _Bottleneck(nn.Module):
    """CLIP's anti-aliased bottleneck: strided blocks average-pool before
    the last 1x1 conv (and in the shortcut) instead of striding a conv."""

    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(OrderedDict([
                ('-1', nn.AvgPool2d(stride)),
                ('0', nn.Conv2d(inplanes, planes * 4, 1, bias=False)),
                ('1', nn.BatchNorm2d(planes * 4))]))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class _AttentionPoolProjections(nn.Module):
    """The projections of CLIP's attention pool (parameter names kept)."""

    def __init__(self, spatial: int, channels: int, out_dim: int) -> None:
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.zeros(spatial ** 2 + 1, channels))
        self.k_proj = nn.Linear(channels, channels)
        self.q_proj = nn.Linear(channels, channels)
        self.v_proj = nn.Linear(channels, channels)
        self.c_proj = nn.Linear(channels, out_dim)


@MODELS.register_module()
class CLIPResNet(FrozenCLIPTower):
    """Frozen CLIP ResNet image tower returning the four stage outputs.

    FC-CLIP keeps the CLIP image encoder frozen and shares it between the
    mask decoder (through the pixel decoder) and the out-of-vocabulary
    classifier.  ``embed(features)`` maps res5 features (pooled per mask, or
    per pixel) into CLIP's joint space with the attention pool's value and
    output projections: for a single pooled vector the attention pool's
    softmax weight is 1, so this is what the pool computes (positional
    embeddings only steer which pixels the pool attends to).

    Why ours: mmdet's ``ResNet`` has strided convs where CLIP average-pools
    and a one-conv stem; CLIP's weights only fit this layout.  Parameter names
    follow OpenAI CLIP / open_clip (under ``visual.``), so their checkpoints
    load directly.

    Args:
        model_name: a key of :data:`CLIP_RESNET_ARCHS` (``'RN50'``, ...).
        checkpoint: whole-CLIP checkpoint (see
            :func:`~mmpanoptic.models.checkpoints.clip_weights.load_state_dict_file`).
        prefix: key prefix of the image tower (``'visual.'``).
        frozen: keep all weights and BN statistics fixed (FC-CLIP).

    Outputs: channels ``[4w, 8w, 16w, 32w]`` at strides
    4, 8, 16, 32 (RN50: 256, 512, 1024, 2048).

    >>> m = CLIPResNet(model_name='RN50')
    >>> [tuple(f.shape) for f in m(torch.zeros(1, 3, 64, 64))]
    [(1, 256, 16, 16), (1, 512, 8, 8), (1, 1024, 4, 4), (1, 2048, 2, 2)]
    >>> m.embed(torch.zeros(5, 2048)).shape
    torch.Size([5, 1024])
    """

    ARCHS = CLIP_RESNET_ARCHS
    KIND = 'CLIP ResNet'

    def __init__(self, *, model_name: str = 'RN50', checkpoint: Optional[str] = None,
                 prefix: str = 'visual.', frozen: bool = True,
                 arch: Optional[Sequence] = None) -> None:
        super().__init__()
        layers, width, embed_dim, resolution = self.architecture(model_name, arch)
        self.embed_dim = embed_dim
        self.out_channels = [width * 4 * 2 ** i for i in range(4)]
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        inplanes = width
        for i, blocks in enumerate(layers):
            planes = width * 2 ** i
            stage = [_Bottleneck(inplanes, planes, 1 if i == 0 else 2)]
            stage += [_Bottleneck(planes * 4, planes, 1) for _ in range(blocks - 1)]
            inplanes = planes * 4
            self.add_module(f'layer{i + 1}', nn.Sequential(*stage))
        self.attnpool = _AttentionPoolProjections(resolution // 32, width * 32, embed_dim)
        self.finish(checkpoint, prefix, frozen)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, 3, H, W) normalised with CLIP's mean / std -> 4 stage outputs."""
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = self.avgpool(torch.relu(self.bn3(self.conv3(x))))
        outs = []
        for i in range(4):
            x = getattr(self, f'layer{i + 1}')(x)
            outs.append(x)
        return tuple(outs)

    def embed(self, res5: Tensor) -> Tensor:
        """(..., 32w) res5 features -> (..., embed_dim) CLIP image embeddings."""
        return self.attnpool.c_proj(self.attnpool.v_proj(res5))

    def mask_embed(self, res5: Tensor, mask_logits: Tensor) -> Tuple[Tensor, Tensor]:
        """CLIP embeddings of the regions under masks: CLIP's attention pool
        with its keys restricted to the mask (FC-CLIP's ResNet path).

        The query is CLIP's own (the mean feature plus the first positional
        embedding), keys and values are the res5 features plus CLIP's
        positional embeddings resized to the feature map, and pixels outside
        the binary mask (logit > 0 after bilinear resizing) are not attended.

        Args:
            res5: (B, 32w, h, w) features.
            mask_logits: (B, Q, H, W) mask logits.

        Returns:
            ``(embeddings, valid)``: (B, Q, embed_dim) and (B, Q) bool, False
            for a mask with no pixel at res5's resolution (its embedding is
            the pool over the whole image instead of FC-CLIP's NaN).
        """
        b, c, h, w = res5.shape
        pool = self.attnpool
        pos = pool.positional_embedding.to(res5)
        side = int(round((pos.shape[0] - 1) ** 0.5))
        spatial = F.interpolate(pos[1:].t().reshape(1, c, side, side), size=(h, w),
                                mode='bilinear', align_corners=False)
        x = res5.flatten(2).transpose(1, 2)  # (B, hw, C)
        kv = x + spatial.flatten(2).transpose(1, 2)
        query = x.mean(1, keepdim=True) + pos[:1]  # (B, 1, C)
        inside = F.interpolate(mask_logits, size=(h, w), mode='bilinear',
                               align_corners=False).flatten(2) > 0  # (B, Q, hw)
        valid = inside.any(-1)
        inside = inside | ~valid[..., None]
        heads = c // 64  # CLIP ResNets: one head per 64 channels

        def split(t):  # (B, N, C) -> (B, heads, N, C / heads)
            return t.view(b, t.shape[1], heads, c // heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            split(pool.q_proj(query)).expand(-1, -1, inside.shape[1], -1),
            split(pool.k_proj(kv)), split(pool.v_proj(kv)), attn_mask=inside[:, None])
        return pool.c_proj(out.transpose(1, 2).reshape(b, -1, c)), valid
