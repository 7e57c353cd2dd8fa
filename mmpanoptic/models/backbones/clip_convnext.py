"""CLIP's ConvNeXt image tower (open_clip's ``convnext_*`` models, e.g.
FC-CLIP's ``convnext_large_d_320``) as a frozen multi-scale backbone."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from .clip_tower import FrozenCLIPTower

# (depths, widths, CLIP embed dim, projection head) as open_clip's model configs
# (timm's convnext_base / convnext_large trunks, ``timm_pool: ''``).
CLIP_CONVNEXT_ARCHS: Dict[str, tuple] = {
    'convnext_base': ((3, 3, 27, 3), (128, 256, 512, 1024), 512, 'linear'),
    'convnext_base_w': ((3, 3, 27, 3), (128, 256, 512, 1024), 640, 'linear'),
    'convnext_base_w_320': ((3, 3, 27, 3), (128, 256, 512, 1024), 640, 'linear'),
    'convnext_large_d': ((3, 3, 27, 3), (192, 384, 768, 1536), 768, 'mlp'),
    'convnext_large_d_320': ((3, 3, 27, 3), (192, 384, 768, 1536), 768, 'mlp'),
}


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an (B, C, H, W) map (eps 1e-6)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight,
                            self.bias, self.eps).permute(0, 3, 1, 2)


class _Mlp(nn.Module):
    def __init__(self, dims: int, hidden: int, out: int, bias: bool = True) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden)
        self.fc2 = nn.Linear(hidden, out, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class _Block(nn.Module):
    """ConvNeXt block: 7x7 depth-wise conv, channels-last LayerNorm, MLP
    (4x), layer scale ``gamma``, residual."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(dims, dims, 7, padding=3, groups=dims)
        self.norm = nn.LayerNorm(dims, eps=1e-6)
        self.mlp = _Mlp(dims, 4 * dims, dims)
        self.gamma = nn.Parameter(torch.full((dims,), 1e-6))

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv_dw(x).permute(0, 2, 3, 1)
        y = self.mlp(self.norm(y)) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class _Stage(nn.Module):
    def __init__(self, in_dims: int, dims: int, depth: int, first: bool) -> None:
        super().__init__()
        self.downsample = nn.Identity() if first else nn.Sequential(
            LayerNorm2d(in_dims, eps=1e-6), nn.Conv2d(in_dims, dims, 2, stride=2))
        self.blocks = nn.Sequential(*[_Block(dims) for _ in range(depth)])

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(self.downsample(x))


class _Trunk(nn.Module):
    def __init__(self, depths: Sequence[int], widths: Sequence[int]) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 4, stride=4),
                                  LayerNorm2d(widths[0], eps=1e-6))
        self.stages = nn.Sequential(*[
            _Stage(widths[max(i - 1, 0)], widths[i], depths[i], i == 0) for i in range(4)])
        self.head = nn.Module()
        self.head.norm = LayerNorm2d(widths[-1], eps=1e-6)


@MODELS.register_module()
class CLIPConvNeXt(FrozenCLIPTower):
    """Frozen CLIP ConvNeXt image tower returning the four stage outputs
    (strides 4, 8, 16, 32), as FC-CLIP uses ``convnext_large_d_320``.

    FC-CLIP's ConvNeXt path pools the last stage's features under each
    binary mask (a plain average, no attention: ConvNeXt has no attention
    pool) and maps the pooled vector into CLIP's space with the tower's
    head: timm's head norm (LayerNorm over channels) and open_clip's
    projection (``mlp``: fc1, GELU, fc2 without bias; or ``linear``).
    :meth:`embed` is that map; :meth:`mask_embed` pools and embeds.

    Why ours: open_clip builds this tower through timm, and timm does not
    import here (its torchvision dependency links CUDA libraries the CPU
    torch lacks); the tower is a plain ConvNeXt, so we build it with
    open_clip's parameter names (``trunk.stem``, ``trunk.stages.*``,
    ``trunk.head.norm``, ``head.mlp`` / ``head.proj``) and load open_clip
    checkpoints directly and strictly (:func:`load_clip_part`).  mmpretrain's
    ConvNeXt has other names and adds a norm after each stage output, which
    CLIP's tower does not have.  Tested against open_clip's own model.

    Args:
        model_name: a key of :data:`CLIP_CONVNEXT_ARCHS`; or give ``arch``.
        checkpoint: whole-CLIP checkpoint (open_clip ``.bin`` / ``.pt`` /
            ``.safetensors``).
        prefix: key prefix of the image tower (``'visual.'``).
        frozen: keep all weights fixed (FC-CLIP).
        arch: ``(depths, widths, embed_dim, proj)`` overriding the name.

    >>> m = CLIPConvNeXt(arch=((1, 1, 1, 1), (8, 16, 32, 64), 24, 'mlp'))
    >>> [tuple(f.shape) for f in m(torch.zeros(1, 3, 64, 64))]
    [(1, 8, 16, 16), (1, 16, 8, 8), (1, 32, 4, 4), (1, 64, 2, 2)]
    >>> m.embed(torch.zeros(5, 64)).shape
    torch.Size([5, 24])
    """

    ARCHS = CLIP_CONVNEXT_ARCHS
    KIND = 'CLIP ConvNeXt'

    def __init__(self, *, model_name: str = 'convnext_large_d_320',
                 checkpoint: Optional[str] = None, prefix: str = 'visual.',
                 frozen: bool = True, arch: Optional[Sequence] = None) -> None:
        super().__init__()
        depths, widths, embed_dim, proj = self.architecture(model_name, arch)
        if proj not in ('mlp', 'linear'):
            raise ValueError(f"proj must be 'mlp' or 'linear', got {proj!r}")
        self.embed_dim = embed_dim
        self.out_channels = list(widths)
        self.trunk = _Trunk(depths, widths)
        self.head = nn.Module()
        if proj == 'mlp':
            self.head.mlp = _Mlp(widths[-1], 2 * embed_dim, embed_dim, bias=False)
        else:
            self.head.proj = nn.Linear(widths[-1], embed_dim, bias=False)
        self.finish(checkpoint, prefix, frozen)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, 3, H, W) normalised with CLIP's mean / std -> 4 stage outputs."""
        x = self.trunk.stem(x)
        outs = []
        for stage in self.trunk.stages:
            x = stage(x)
            outs.append(x)
        return tuple(outs)

    def embed(self, res5: Tensor) -> Tensor:
        """(..., C) last-stage features (pooled per mask, or per pixel) ->
        (..., embed_dim) CLIP image embeddings (head norm, projection)."""
        norm = self.trunk.head.norm
        x = F.layer_norm(res5, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
        return self.head.mlp(x) if hasattr(self.head, 'mlp') else self.head.proj(x)

    def image_embed(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, embed_dim): CLIP's image embedding (global
        average pool of the last stage, then :meth:`embed`), what open_clip's
        ``encode_image`` returns before normalisation."""
        return self.embed(self(x)[-1].mean((2, 3)))
