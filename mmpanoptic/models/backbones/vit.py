"""A plain ViT as DINOv2 (with registers) and DINOv3 build it.

Why ours: timm cannot be imported beside the CPU torch of this environment
(it imports torchvision), mmpretrain is not a dependency, and EoMT needs a
ViT whose blocks it can drive one by one (queries joined before the last
blocks, an attention mask per block).  The layout follows DINOv2 / DINOv3:

* a convolutional patch embedding, a class token and ``num_register_tokens``
  register tokens (the *prefix*, ``1 + R`` tokens before the patches);
* position: learned absolute embeddings of the patch tokens (DINOv2; the
  class token's own position embedding is folded into the class token when
  a checkpoint is converted, so the prefix carries none), interpolated
  bicubically for another grid; or 2-D rotary embeddings of the patch
  tokens (``rope=True``, DINOv3), applied to queries and keys;
* pre-norm blocks: attention (one fused ``qkv`` projection), LayerScale,
  MLP (GELU, or SwiGLU / gated MLP), LayerScale, stochastic depth;
* a final LayerNorm.

``forward(x)`` runs every block and returns the normalised patch tokens as
one (B, C, h, w) map; :class:`~mmpanoptic.models.segmentors.EoMT` uses
:meth:`embed` / :meth:`block` / ``norm`` instead.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..checkpoints.hf_vit import load_hf_vit

Rope = Optional[Tuple[Tensor, Tensor]]  # (cos, sin), each (N, head_dim)


class LayerScale(nn.Module):
    """Per-channel scale of a residual branch (CaiT / DINOv2)."""

    def __init__(self, dim: int, init_value: float = 1.0) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim, ), float(init_value)))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma


class Mlp(nn.Module):
    """``fc2(act(fc1(x)))`` (GELU), or the gated form ``fc2(act(gate(x)) *
    fc1(x))`` (SwiGLU with SiLU; DINOv3's gated MLP with its activation)."""

    def __init__(self, dim: int, hidden: int, *, gated: bool = False, act: str = 'gelu',
                 bias: bool = True) -> None:
        super().__init__()
        self.gated = gated
        self.fc1 = nn.Linear(dim, hidden, bias=bias)
        self.gate = nn.Linear(dim, hidden, bias=bias) if gated else None
        self.fc2 = nn.Linear(hidden, dim, bias=bias)
        self.act = {'gelu': nn.GELU(), 'silu': nn.SiLU()}[act]

    def forward(self, x: Tensor) -> Tensor:
        if self.gated:
            return self.fc2(self.act(self.gate(x)) * self.fc1(x))
        return self.fc2(self.act(self.fc1(x)))


def rotate_half(x: Tensor) -> Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x: Tensor, rope: Rope) -> Tensor:
    """Rotate the last ``N`` tokens of (B, heads, T, d) ``x`` (the patches;
    the tokens before them, prefix and queries, are left as they are)."""
    if rope is None:
        return x
    cos, sin = rope
    n = cos.shape[0]
    head, patches = x[..., :-n, :], x[..., -n:, :]
    return torch.cat((head, patches * cos + rotate_half(patches) * sin), dim=-2)


class Attention(nn.Module):
    """Multi-head self-attention with a fused ``qkv`` projection on
    ``F.scaled_dot_product_attention``; ``attn_mask`` is a boolean (B, T, T)
    (True = attend) or None."""

    def __init__(self, dim: int, num_heads: int, *, qkv_bias: bool = True,
                 proj_bias: bool = True, attn_drop: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'embed_dims {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.attn_drop = attn_drop

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None, rope: Rope = None) -> Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.num_heads, self.head_dim).permute(
            2, 0, 3, 1, 4).unbind(0)
        q, k = apply_rope(q, rope), apply_rope(k, rope)
        if attn_mask is not None:
            attn_mask = attn_mask[:, None]
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                           dropout_p=self.attn_drop if self.training else 0.0)
        return self.proj(x.transpose(1, 2).reshape(b, t, c))


def drop_path(x: Tensor, p: float, training: bool) -> Tensor:
    """Stochastic depth: drop the residual branch of whole samples."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1)).bernoulli_(1 - p)
    return x * keep / (1 - p)


class Block(nn.Module):
    """Pre-norm transformer block with LayerScale (DINOv2 / DINOv3)."""

    def __init__(self, dim: int, num_heads: int, mlp_hidden: int, *, gated_mlp: bool = False,
                 mlp_act: str = 'gelu', qkv_bias: bool = True, proj_bias: bool = True,
                 mlp_bias: bool = True, layer_scale: Optional[float] = 1.0,
                 drop_path_rate: float = 0.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, proj_bias=proj_bias)
        self.ls1 = LayerScale(dim, layer_scale) if layer_scale is not None else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, mlp_hidden, gated=gated_mlp, act=mlp_act, bias=mlp_bias)
        self.ls2 = LayerScale(dim, layer_scale) if layer_scale is not None else nn.Identity()
        self.drop_path_rate = drop_path_rate

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None, rope: Rope = None) -> Tensor:
        x = x + drop_path(self.ls1(self.attn(self.norm1(x), attn_mask, rope)),
                          self.drop_path_rate, self.training)
        return x + drop_path(self.ls2(self.mlp(self.norm2(x))), self.drop_path_rate,
                             self.training)


class RopeEmbedding(nn.Module):
    """DINOv3's 2-D rotary position embedding of the patch tokens.

    Patch centres are normalised to [-1, 1] on each axis; during training
    they may be rescaled by a random factor in ``[1 / rescale, rescale]``
    (DINOv3's ``pos_embed_rescale``).  The angles are ``2 pi * coord *
    theta ** -(4 i / head_dim)``, y then x, repeated twice over the head
    dimension."""

    def __init__(self, head_dim: int, theta: float = 100.0,
                 train_rescale: Optional[float] = None) -> None:
        super().__init__()
        if head_dim % 4:
            raise ValueError(f'RoPE needs a head dimension divisible by 4, got {head_dim}')
        self.train_rescale = train_rescale
        inv_freq = 1 / theta ** torch.arange(0, 1, 4 / head_dim, dtype=torch.float32)
        self.register_buffer('inv_freq', inv_freq, persistent=False)

    def forward(self, grid: Tuple[int, int], dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
        h, w = grid
        device = self.inv_freq.device
        ys = (torch.arange(0.5, h, device=device) / h) * 2 - 1
        xs = (torch.arange(0.5, w, device=device) / w) * 2 - 1
        coords = torch.stack(torch.meshgrid(ys, xs, indexing='ij'), -1).flatten(0, 1)
        if self.training and self.train_rescale is not None:
            log = math.log(self.train_rescale)
            coords = coords * torch.empty(1, device=device).uniform_(-log, log).exp()
        angles = (2 * math.pi * coords[:, :, None] * self.inv_freq[None, None]).flatten(1)
        angles = angles.tile(2)
        return angles.cos().to(dtype), angles.sin().to(dtype)


@MODELS.register_module()
class ViT(BaseModule):
    """A plain ViT (DINOv2 / DINOv3 layout, see the module doc).

    Args:
        embed_dims: token width.
        depth: number of blocks.
        num_heads: attention heads.
        patch_size: square patch size.
        img_size: the (H, W) the learned position table is made for (its grid
            is ``img_size // patch_size``; other inputs interpolate it).
        mlp_ratio: MLP hidden width / ``embed_dims`` (ignored with ``mlp_hidden``).
        mlp_hidden: MLP hidden width.
        gated_mlp: SwiGLU / gated MLP (``fc1`` the linear path, ``gate``).
        mlp_act: ``'gelu'`` or ``'silu'`` (SwiGLU).
        num_register_tokens: register tokens after the class token.
        rope: rotary (DINOv3) instead of learned absolute positions.
        rope_theta, rope_train_rescale: DINOv3's RoPE base and the random
            rescale of the patch coordinates during training.
        qkv_bias, key_bias, proj_bias, mlp_bias: biases (``key_bias=False``
            keeps the key part of the fused ``qkv`` bias at zero: DINOv3).
        layer_scale: LayerScale's initial value (None: no LayerScale).
        drop_path_rate: stochastic depth of the last block (linear in depth).
        eps: LayerNorm epsilon.
        pretrained: a Hugging Face DINOv2 / DINOv3 (or EoMT) ``save_pretrained``
            folder or weights file, loaded strictly by ``init_weights``
            (:func:`~mmpanoptic.models.checkpoints.hf_vit.load_hf_vit`: patch
            kernel and position table resampled to this ViT).

        init_cfg: mmengine init config.

    >>> vit = ViT(embed_dims=32, depth=2, num_heads=2, patch_size=8, img_size=(32, 32),
    ...           num_register_tokens=4)
    >>> [tuple(f.shape) for f in vit(torch.zeros(1, 3, 32, 48))]
    [(1, 32, 4, 6)]
    """

    def __init__(self,
                 *,
                 embed_dims: int = 1024,
                 depth: int = 24,
                 num_heads: int = 16,
                 patch_size: int = 16,
                 img_size: Union[int, Sequence[int]] = 640,
                 mlp_ratio: float = 4.0,
                 mlp_hidden: Optional[int] = None,
                 gated_mlp: bool = False,
                 mlp_act: str = 'gelu',
                 num_register_tokens: int = 4,
                 rope: bool = False,
                 rope_theta: float = 100.0,
                 rope_train_rescale: Optional[float] = None,
                 qkv_bias: bool = True,
                 key_bias: bool = True,
                 proj_bias: bool = True,
                 mlp_bias: bool = True,
                 layer_scale: Optional[float] = 1.0,
                 drop_path_rate: float = 0.0,
                 eps: float = 1e-6,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.embed_dims = embed_dims
        self.depth = depth
        self.num_heads = num_heads
        self.patch_size = patch_size
        self.pos_grid = (img_size[0] // patch_size, img_size[1] // patch_size)
        self.num_register_tokens = num_register_tokens
        self.num_prefix_tokens = 1 + num_register_tokens
        self.patch_embed = nn.Conv2d(3, embed_dims, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.reg_tokens = nn.Parameter(torch.zeros(1, num_register_tokens, embed_dims)) \
            if num_register_tokens else None
        if rope:
            self.pos_embed = None
            self.rope = RopeEmbedding(embed_dims // num_heads, rope_theta, rope_train_rescale)
        else:
            self.pos_embed = nn.Parameter(torch.zeros(1, self.pos_grid[0] * self.pos_grid[1],
                                                      embed_dims))
            self.rope = None
        hidden = mlp_hidden or int(embed_dims * mlp_ratio)
        self.key_bias = key_bias
        self.blocks = nn.ModuleList([
            Block(embed_dims, num_heads, hidden, gated_mlp=gated_mlp, mlp_act=mlp_act,
                  qkv_bias=qkv_bias, proj_bias=proj_bias, mlp_bias=mlp_bias,
                  layer_scale=layer_scale, eps=eps,
                  drop_path_rate=drop_path_rate * i / max(1, depth - 1))
            for i in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dims, eps=eps)
        if not key_bias and qkv_bias:
            for block in self.blocks:
                block.attn.qkv.bias.register_hook(self._no_key_bias_grad)

    def _no_key_bias_grad(self, grad: Tensor) -> Tensor:
        """The key part of the fused bias stays zero (DINOv3 has no key bias)."""
        grad = grad.clone()
        grad[self.embed_dims:2 * self.embed_dims] = 0
        return grad

    def init_weights(self) -> None:
        """The ``pretrained`` weights, or truncated-normal tokens, positions
        and linear layers (std 0.02); then ``init_cfg`` if any."""
        if self.pretrained is not None:
            load_hf_vit(self, self.pretrained)
        elif self.init_cfg is None:
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            if self.pos_embed is not None:
                nn.init.trunc_normal_(self.pos_embed, std=0.02)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
        super().init_weights()

    def grid(self, x: Tensor) -> Tuple[int, int]:
        """The patch grid (h, w) of a (B, 3, H, W) input."""
        return x.shape[-2] // self.patch_size, x.shape[-1] // self.patch_size

    def position_table(self, grid: Tuple[int, int]) -> Tensor:
        """(1, h * w, C) learned positions for ``grid`` (bicubic resampling
        of the table when the grid differs, as DINOv2 does)."""
        if tuple(grid) == self.pos_grid:
            return self.pos_embed
        table = self.pos_embed.reshape(1, *self.pos_grid, -1).permute(0, 3, 1, 2)
        table = F.interpolate(table, size=tuple(grid), mode='bicubic', align_corners=False)
        return table.flatten(2).transpose(1, 2)

    def embed(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int], Rope]:
        """(B, 3, H, W) -> tokens (B, 1 + R + h * w, C), the grid (h, w) and
        the rotary embedding (None without RoPE)."""
        grid = self.grid(x)
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2)
        rope = None
        if self.pos_embed is not None:
            tokens = tokens + self.position_table(grid)
        else:
            rope = self.rope(grid, tokens.dtype)
        prefix = [self.cls_token.expand(x.shape[0], -1, -1)]
        if self.reg_tokens is not None:
            prefix.append(self.reg_tokens.expand(x.shape[0], -1, -1))
        return torch.cat(prefix + [tokens], dim=1), grid, rope

    def patch_map(self, tokens: Tensor, grid: Tuple[int, int]) -> Tensor:
        """The last ``h * w`` tokens of (B, T, C) as a (B, C, h, w) map."""
        patches = tokens[:, -grid[0] * grid[1]:]
        return patches.transpose(1, 2).reshape(tokens.shape[0], -1, *grid)

    def forward(self, x: Tensor) -> List[Tensor]:
        tokens, grid, rope = self.embed(x)
        for block in self.blocks:
            tokens = block(tokens, rope=rope)
        return [self.patch_map(self.norm(tokens), grid)]
