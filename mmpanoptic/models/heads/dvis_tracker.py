"""DVIS++-style decoupled tracking: a learned referring tracker and an
offline temporal refiner on top of a frozen query segmenter.

These are the *learned* trackers of the toolbox: networks trained on clips
(the segmenter frozen), used by :class:`DVIS`; they live with the heads
(``models/trackers`` holds the id logic, which has no weights).  They
extend the :class:`BaseTracker` interface rather than implement it: instead
of relabelling finished segments they re-predict every query's class and
mask so that query ``i`` is the same object in every frame; a
:class:`QueryPropagationTracker` ``(refresh_interval=None)`` then turns the
query index into track ids, exactly as for VidEoMT.

Written from the DVIS / DVIS++ papers and a reading of the official code
(zhang-tao-whu/DVIS_Plus); what differs on purpose is said at each class.
"""
import random
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..classifiers.text_classifier import build_class_layer


def match_to_previous(previous: Tensor, current: Tensor) -> Tensor:
    """Reorder ``current`` (Q, C) so that row i is the query most similar
    (cosine, one-to-one Hungarian) to ``previous`` row i; returns the (Q,)
    index into ``current``.  NaN similarities count as 0."""
    a = F.normalize(previous.detach().float(), dim=-1)
    b = F.normalize(current.detach().float(), dim=-1)
    cost = torch.nan_to_num(1 - a @ b.t(), nan=1.0).cpu().numpy()
    rows, cols = linear_sum_assignment(cost)
    order = torch.empty(len(rows), dtype=torch.long)
    order[torch.as_tensor(rows)] = torch.as_tensor(cols, dtype=torch.long)
    return order.to(current.device)


def zero_(layer: nn.Module) -> None:
    """Zero a residual branch's last layer: the block starts as the identity
    (up to its norm), so a warm-started tracker reproduces its segmenter."""
    nn.init.zeros_(layer.weight)
    if getattr(layer, 'bias', None) is not None:
        nn.init.zeros_(layer.bias)


def _class_linear(layer: nn.Module) -> Optional[nn.Linear]:
    """The linear map of a class layer: the ``nn.Linear`` itself or a text
    classifier's projection (None otherwise)."""
    if isinstance(layer, nn.Linear):
        return layer
    proj = getattr(layer, 'proj', None)
    return proj if isinstance(proj, nn.Linear) else None


def _copy_heads(dst_norm: nn.LayerNorm, dst_mask: nn.Module, dst_cls: nn.Module,
                src_norm: nn.LayerNorm, src_mask: nn.Module, src_cls: Optional[nn.Module],
                src_columns: Optional[int] = None) -> bool:
    """Copy the output norm, the mask MLP and the class layer's linear map
    (``src_columns``: only its last columns) into the last columns of
    ``dst_cls``'s (zeros for the others).  Two text classifiers
    (:class:`TextEmbeddingClassifier`, OV-DVIS++) also get the same void
    embedding and temperature, so they give the same logits.  False when the
    class layers are not of one kind with a linear map (or ``src_cls`` is
    None)."""
    dst_norm.load_state_dict(src_norm.state_dict())
    dst_mask.load_state_dict(src_mask.state_dict())
    if src_cls is None:
        return False
    dst_lin, src_lin = _class_linear(dst_cls), _class_linear(src_cls)
    if dst_lin is None or src_lin is None or type(dst_cls) is not type(src_cls):
        return False
    weight = src_lin.weight if src_columns is None else src_lin.weight[:, -src_columns:]
    c = weight.shape[1]
    with torch.no_grad():
        dst_lin.weight.zero_()
        dst_lin.weight[:, -c:] = weight
        dst_lin.bias.copy_(src_lin.bias)
        if dst_cls is not dst_lin:
            dst_cls.void_embedding.copy_(src_cls.void_embedding)
            dst_cls.logit_scale.copy_(src_cls.logit_scale)
    return True


class _MLP(nn.Sequential):
    """``layers`` linear layers with ReLU between them."""

    def __init__(self, dims: int, out_dims: int, layers: int = 3) -> None:
        mods: List[nn.Module] = []
        for i in range(layers):
            mods.append(nn.Linear(dims, out_dims if i == layers - 1 else dims))
            if i < layers - 1:
                mods.append(nn.ReLU(inplace=True))
        super().__init__(*mods)


class _AttentionBlock(nn.Module):
    """Post-norm attention: ``norm(identity + attn(query, key, value))``;
    with ``identity = query`` an ordinary residual attention layer, with
    another identity DVIS's *referring* cross-attention."""

    def __init__(self, dims: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dims, heads, batch_first=True)
        self.norm = nn.LayerNorm(dims)
        zero_(self.attn.out_proj)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                identity: Optional[Tensor] = None) -> Tensor:
        out = self.attn(query, key, value, need_weights=False)[0]
        return self.norm((query if identity is None else identity) + out)


class _FFN(nn.Module):
    def __init__(self, dims: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dims, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, dims))
        self.norm = nn.LayerNorm(dims)
        zero_(self.net[-1])

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x + self.net(x))


@MODELS.register_module()
class ReferringTracker(BaseModule):
    """DVIS's referring tracker (with DVIS++'s denoising), one frame at a time.

    Per frame ``t`` it takes the segmenter's Q output queries ``S_t`` (raw
    and after the decoder's output norm) and its mask features, and keeps
    the previous frame's tracked queries ``T_{t-1}``:

    1. *re-identification*: ``S_t`` is reordered by Hungarian matching of
       cosine similarity to the previous frame's reordered queries, so row
       i is the segmenter query most like track i (``A_t``);
    2. ``num_layers`` blocks of *referring cross-attention* -- identity
       ``A_t`` (then the previous block's output), query
       ``R_t = ref_proj(T_{t-1})`` (the reference), keys and values
       ``S_t`` -- self-attention and an FFN give ``T_t``;
    3. class logits from ``[R_t, norm(T_t)]`` and masks from
       ``mask_embed(norm(T_t))`` with the (1x1-projected) mask features.

    On the first frame ``A_0 = S_0`` and the reference is
    ``ref_proj(S_0)``.  Query i is the same object in every frame: its index
    is the track.

    Denoising (DVIS++): in training, with probability ``noise_ratio`` per
    frame after the first, ``A_t`` is corrupted before it enters the
    blocks -- ``'wa'``: each row becomes a random-weight average of itself
    and another row; ``'rs'``: rows shuffled -- so the tracker learns to
    find its object from the reference rather than trust the matching.
    (Official: the noise mixes the *unmatched* current order; ours mixes the
    matched rows, which is the noise the matching makes at test time.)

    Args:
        num_classes: K; class logits have K + 1 columns.
        embed_dims: query width (the segmenter's).
        mask_dims: mask feature width.
        num_heads, num_layers, feedforward_channels: the blocks.
        classifier: a class layer config (e.g. a text classifier) replacing
            the ``nn.Linear`` on the 2 x ``embed_dims`` class input.
        noise: ``'wa'``, ``'rs'`` or None.
        noise_ratio: probability of noise per frame in training.
    """

    NOISE = (None, 'wa', 'rs')

    def __init__(self, *, num_classes: int, embed_dims: int = 256, mask_dims: int = 256,
                 num_heads: int = 8, num_layers: int = 6, feedforward_channels: int = 2048,
                 classifier: Optional[dict] = None, noise: Optional[str] = 'wa',
                 noise_ratio: float = 0.5, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if noise not in self.NOISE:
            raise ValueError(f'noise must be one of {self.NOISE}, got {noise!r}')
        self.num_classes = num_classes
        self.noise, self.noise_ratio = noise, noise_ratio
        self.cross = nn.ModuleList(_AttentionBlock(embed_dims, num_heads)
                                   for _ in range(num_layers))
        self.self_attn = nn.ModuleList(_AttentionBlock(embed_dims, num_heads)
                                       for _ in range(num_layers))
        self.ffn = nn.ModuleList(_FFN(embed_dims, feedforward_channels)
                                 for _ in range(num_layers))
        self.ref_proj = _MLP(embed_dims, embed_dims)
        self.decoder_norm = nn.LayerNorm(embed_dims)
        self.class_embed = build_class_layer(classifier, 2 * embed_dims, num_classes)
        self.mask_embed = _MLP(embed_dims, mask_dims)
        self.mask_feature_proj = nn.Conv2d(mask_dims, mask_dims, 1)
        with torch.no_grad():  # the identity (see warm_start)
            self.mask_feature_proj.weight.copy_(torch.eye(mask_dims)[..., None, None])
            self.mask_feature_proj.bias.zero_()
        self.reset()

    def warm_start(self, head: nn.Module) -> bool:
        """Start from the segmenter's predictions: copy its output norm,
        mask MLP and class layer (onto the tracked-query half of the class
        input; the reference half starts at 0).  With the residual branches
        starting at 0 and the identity mask-feature projection, the tracker
        then predicts exactly the segmenter's classes and masks, in track
        order; training only has to learn the tracking.  (DVIS trains its
        tracker from a random start for 20k iterations; on the toy videos
        this start is what lets 600 steps suffice.)  Text classifiers
        (OV-DVIS++) are copied the same way (projection, void embedding,
        temperature).  Returns False, copying the norm and mask MLP only,
        when the class layers are of other kinds."""
        # a head classifying pooled mask embeddings (ODISE) reads another input
        cls = head.cls_embed if getattr(head, 'pooled_embed', None) is None else None
        return _copy_heads(self.decoder_norm, self.mask_embed, self.class_embed,
                           head.transformer_decoder.post_norm, head.mask_embed, cls)

    def reset(self) -> None:
        """Forget the previous frame (a new video)."""
        self.previous: Optional[Dict[str, Tensor]] = None

    def _noised(self, aligned: Tensor) -> Tensor:
        if not (self.training and self.noise and random.random() < self.noise_ratio):
            return aligned
        q = aligned.shape[0]
        perm = torch.randperm(q, device=aligned.device)
        if self.noise == 'rs':
            return aligned[perm]
        w = torch.rand(q, 1, device=aligned.device, dtype=aligned.dtype)
        return w * aligned + (1 - w) * aligned[perm]

    def forward(self, queries: Tensor, normed: Tensor,
                mask_features: Tensor) -> Dict[str, Tensor]:
        """Track one frame of a batch of videos.

        Args:
            queries: (B, Q, C) the segmenter's raw output queries.
            normed: (B, Q, C) the same after its output norm (matched).
            mask_features: (B, D, h, w).

        Returns:
            ``cls`` (L, B, Q, K + 1) and ``masks`` (L, B, Q, h, w) of every
            block, ``tracked`` (B, Q, C) the last block's queries,
            ``reference`` (B, Q, C) and ``aligned`` (B, Q, C): the
            segmenter queries in track order.
        """
        prev = self.previous
        if prev is None:
            order = torch.arange(queries.shape[1], device=queries.device).expand(
                queries.shape[0], -1)
        else:
            order = torch.stack([match_to_previous(p, n)
                                 for p, n in zip(prev['aligned_normed'], normed)])
        pick = order[..., None].expand(-1, -1, queries.shape[-1])
        aligned = queries.gather(1, pick)
        aligned_normed = normed.gather(1, pick)
        if prev is None:
            reference = self.ref_proj(queries)
            init = aligned
        else:
            reference = self.ref_proj(prev['tracked'])
            init = torch.stack([self._noised(a) for a in aligned])
        x, outs = init, []
        for i, (cross, self_attn, ffn) in enumerate(zip(self.cross, self.self_attn, self.ffn)):
            query = reference if (prev is not None or i == 0) else self.ref_proj(x)
            x = cross(query, queries, queries, identity=x)
            x = ffn(self_attn(x, x, x))
            outs.append(x)
        cls, masks = self.predict(torch.stack(outs), reference, mask_features)
        self.previous = dict(tracked=x, aligned_normed=aligned_normed)
        return dict(cls=cls, masks=masks, tracked=x, reference=reference, aligned=aligned,
                    order=order)

    def predict(self, outs: Tensor, reference: Tensor,
                mask_features: Tensor) -> Tuple[Tensor, Tensor]:
        """(L, B, Q, K + 1) class and (L, B, Q, h, w) mask logits of the
        blocks' outputs ``outs`` (L, B, Q, C)."""
        normed = self.decoder_norm(outs)
        cls = self.class_embed(torch.cat([reference.expand_as(normed), normed], -1))
        feats = self.mask_feature_proj(mask_features)
        masks = torch.einsum('lbqc,bchw->lbqhw', self.mask_embed(normed), feats)
        return cls, masks


@MODELS.register_module()
class TemporalRefiner(BaseModule):
    """DVIS's temporal refiner: the offline half, over a whole video.

    Input: the referring tracker's queries of every frame (B, T, Q, C) and
    the segmenter queries in track order (the cross-attention memory).
    ``num_layers`` blocks of long-term temporal self-attention (each track
    over the T frames), a short-term depthwise temporal convolution
    (``kernel_size`` frames, residual + norm), object self-attention (the
    Q tracks of a frame), cross-attention to that frame's aligned segmenter
    queries, and an FFN.  A track's class comes from its temporally
    weighted mean query (softmax over frames of a learned score) and is the
    same in every frame; its mask in frame t from the refined query of t.

    Args:
        num_classes, embed_dims, mask_dims, num_heads, num_layers,
        feedforward_channels, classifier: as :class:`ReferringTracker`.
        kernel_size: frames of the short-term convolution (odd).
    """

    def __init__(self, *, num_classes: int, embed_dims: int = 256, mask_dims: int = 256,
                 num_heads: int = 8, num_layers: int = 6, feedforward_channels: int = 2048,
                 kernel_size: int = 5, classifier: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.num_classes = num_classes
        self.time_attn = nn.ModuleList(_AttentionBlock(embed_dims, num_heads)
                                       for _ in range(num_layers))
        self.conv = nn.ModuleList(
            nn.Conv1d(embed_dims, embed_dims, kernel_size, padding=kernel_size // 2,
                      groups=embed_dims) for _ in range(num_layers))
        self.conv_norm = nn.ModuleList(nn.LayerNorm(embed_dims) for _ in range(num_layers))
        self.object_attn = nn.ModuleList(_AttentionBlock(embed_dims, num_heads)
                                         for _ in range(num_layers))
        self.cross = nn.ModuleList(_AttentionBlock(embed_dims, num_heads)
                                   for _ in range(num_layers))
        self.ffn = nn.ModuleList(_FFN(embed_dims, feedforward_channels)
                                 for _ in range(num_layers))
        for conv in self.conv:
            zero_(conv)
        self.decoder_norm = nn.LayerNorm(embed_dims)
        self.activation_proj = nn.Linear(embed_dims, 1)
        zero_(self.activation_proj)  # uniform over frames at the start
        self.class_embed = build_class_layer(classifier, embed_dims, num_classes)
        self.mask_embed = _MLP(embed_dims, mask_dims)
        self.mask_feature_proj = nn.Conv2d(mask_dims, mask_dims, 1)

    def warm_start(self, tracker: ReferringTracker) -> bool:
        """Start from the referring tracker's predictions (its norm, mask
        MLP and mask-feature projection; its class layer's tracked-query
        half): the refiner then gives each track the tracker's masks and
        its class logits averaged over the frames.  As
        :meth:`ReferringTracker.warm_start`."""
        self.mask_feature_proj.load_state_dict(tracker.mask_feature_proj.state_dict())
        own = _class_linear(self.class_embed)
        return _copy_heads(self.decoder_norm, self.mask_embed, self.class_embed,
                           tracker.decoder_norm, tracker.mask_embed, tracker.class_embed,
                           src_columns=own.in_features if own is not None else None)

    def forward(self, tracked: Tensor, aligned: Tensor,
                mask_features: Tensor) -> Tuple[Tensor, Tensor]:
        """Refine B videos of T frames.

        Args:
            tracked: (B, T, Q, C) the referring tracker's queries.
            aligned: (B, T, Q, C) the segmenter's queries in track order.
            mask_features: (B, T, D, h, w).

        Returns:
            ``cls`` (L, B, T, Q, K + 1) (the same in every frame) and
            ``masks`` (L, B, T, Q, h, w), per block.
        """
        b, t, q, c = tracked.shape
        x, outs = tracked, []
        memory = aligned.flatten(0, 1)  # (B T, Q, C)
        for time_attn, conv, conv_norm, object_attn, cross, ffn in zip(
                self.time_attn, self.conv, self.conv_norm, self.object_attn, self.cross,
                self.ffn):
            x = x.permute(0, 2, 1, 3).reshape(b * q, t, c)  # tracks over time
            x = time_attn(x, x, x)
            x = conv_norm(x + conv(x.transpose(1, 2)).transpose(1, 2))
            x = x.reshape(b, q, t, c).permute(0, 2, 1, 3).reshape(b * t, q, c)  # frames
            x = object_attn(x, x, x)
            x = ffn(cross(x, memory, memory))
            x = x.reshape(b, t, q, c)
            outs.append(x)
        normed = self.decoder_norm(torch.stack(outs))  # (L, B, T, Q, C)
        weight = self.activation_proj(normed).softmax(dim=2)
        pooled = (normed * weight).sum(2, keepdim=True)
        cls = self.class_embed(pooled).expand(-1, -1, t, -1, -1)
        feats = self.mask_feature_proj(mask_features.flatten(0, 1)).unflatten(0, (b, t))
        masks = torch.einsum('lbtqc,btchw->lbtqhw', self.mask_embed(normed), feats)
        return cls, masks
