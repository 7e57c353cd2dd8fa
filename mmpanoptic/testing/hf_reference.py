"""transformers' panoptic models as the reference of the hub-checkpoint
converter (``tools/model_converters/hf_to_mmpanoptic.py``).

Random weights give every query a mask over much of the image, so both
post-processings would drop every query and compare two empty results.
:func:`make_decisive` changes only the reference model's weights, on one
input, so that its queries behave like a trained model's: each query's mask
covers its own region of a random partition of the image (logits about
``+-margin``), and its class is one chosen label (things and stuff both),
with "no object" far below.  The conversion then runs on the changed
checkpoint, so the two sides compare the same non-empty segments.

How, without touching what feeds the heads: the final query tokens and the
mask features are measured first (EoMT / VidEoMT: with the attention masks
off, ``attn_mask_probs = 0``, as in a trained checkpoint; Mask2Former: with
the decoder's cross-attention output zeroed, so the queries do not depend on
the masks that steer it; MaskFormer: with its cross-attention sharpened,
since zero queries told apart only by position embeddings leave a random
decoder with near-identical outputs).  Channel 0 of the mask features is made a
constant 1 (it carries each query's mask bias).  Query ``q`` is given a seed
pixel; its wanted mask logit is ``margin * (cos(f(x), f(seed)) - t_q)``
(centred features; ``t_q`` keeps its top ``1 / Q`` of the pixels), which is
linear in the features.  The mask embedding's last layer and the class
layer are then solved by ridge regression (small weights: the result must
not swing with float noise), and the masks rescaled to ``margin``.
"""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn


def ridge(x: Tensor, y: Tensor, rel: float = 1e-2) -> Tensor:
    """``argmin ||x w - y||^2 + lam ||w||^2`` with ``lam = rel * mean
    eigenvalue of x^T x``: small, well-conditioned weights even when the rows
    of ``x`` are nearly collinear (random queries are), so that the result
    does not swing with float noise in the input."""
    x, y = x.double(), y.double()
    gram = x.T @ x
    lam = rel * gram.diagonal().mean().clamp(min=1e-12)
    return torch.linalg.solve(gram + lam * torch.eye(len(gram), dtype=gram.dtype), x.T @ y)


def solve_linear(layer: nn.Linear, inputs: Tensor, targets: Tensor) -> None:
    """Set ``layer`` so that ``layer(inputs) ~ targets`` (ridge regression
    on the centred rows of ``inputs``, the bias from the means: queries that
    differ little from their mean still get their own targets)."""
    x, y = inputs.double(), targets.double()
    mx, my = x.mean(0), y.mean(0)
    w = ridge(x - mx, y - my)  # (D, out)
    with torch.no_grad():
        layer.weight.copy_(w.T.to(layer.weight.dtype))
        layer.bias.copy_((my - mx @ w).to(layer.bias.dtype))


def class_targets(num_queries: int, num_labels: int, margin: float,
                  generator: torch.Generator, num_objects: Optional[int] = None) -> Tensor:
    """(Q, C + 1) logits: a random label per query at ``margin``, every label
    used in turn first, "no object" at ``-margin``; with ``num_objects``, the
    other queries (a random choice) say "no object" instead, as most of a
    trained model's queries do."""
    labels = torch.randperm(num_queries, generator=generator) % num_labels
    t = torch.zeros(num_queries, num_labels + 1)
    t[torch.arange(num_queries), labels] = margin
    t[:, -1] = -margin
    if num_objects is not None and num_objects < num_queries:
        empty = torch.randperm(num_queries, generator=generator)[num_objects:]
        t[empty] = 0.0
        t[empty, -1] = margin
    return t


def _seed_embeddings(feats: Tensor, num_queries: int, margin: float,
                     g: torch.Generator) -> Tensor:
    """(Q, D) mask embeddings over (D, H, W) features whose channel 0 is 1."""
    d = feats.shape[0]
    flat = feats.reshape(d, -1).double()
    mean = flat[1:].mean(1, keepdim=True)
    centred = flat[1:] - mean
    norms = centred.norm(dim=0).clamp(min=1e-9)
    seeds = torch.randperm(flat.shape[1], generator=g)[:num_queries]
    out = torch.zeros(num_queries, d, dtype=torch.float64)
    for q, seed in enumerate(seeds.tolist()):
        direction = centred[:, seed] / norms[seed]
        sims = direction @ (centred / norms)
        t = torch.quantile(sims, 1 - 1 / num_queries)
        # margin * (direction . (f - mean) / |f - mean| - t), the norm taken as its mean
        scale = margin / norms.mean()
        out[q, 1:] = scale * direction
        out[q, 0] = -scale * (direction @ mean[:, 0]) - margin * t
    return out.float()


def spread_queries(first: nn.Linear, queries: Tensor) -> None:
    """Rewrite the mask MLP's first layer as ``s * (first(q) - first(mean q))``
    with ``s`` giving unit spread over the queries: random queries differ by
    little after the output norm, and the mask embeddings must differ."""
    with torch.no_grad():
        out = first(queries)
        centre = out.mean(0)
        scale = 1.0 / (out - centre).std().clamp(min=1e-9)
        first.bias.sub_(centre)
        first.weight.mul_(scale)
        first.bias.mul_(scale)


def _eomt_final(model, pixel_values: Tensor) -> Tuple[Tensor, Tensor]:
    """EoMT's final normalised tokens' queries (Q, D) and upscaled patch
    features (D, h, w), attention masks off."""
    captured = {}
    hook = model.layernorm.register_forward_hook(lambda m, i, o: captured.update(out=o))
    try:
        with torch.no_grad():
            if type(model).__name__.startswith('Videomt'):  # one frame of a video
                model(pixel_values_videos=pixel_values[:1, None])
            else:
                model(pixel_values=pixel_values)
    finally:
        hook.remove()
    tokens = captured['out'][0]
    q = model.config.num_queries
    prefix = q + 1 + model.config.num_register_tokens
    patches = tokens[prefix:].T.reshape(1, tokens.shape[-1], *model.grid_size)
    with torch.no_grad():
        feats = model.upscale_block(patches)[0]
    return tokens[:q], feats


def make_decisive(model, pixel_values: Tensor, *, seed: int = 0, mask_margin: float = 8.0,
                  class_margin: float = 12.0, attention_gain: float = 30.0,
                  num_objects: Optional[int] = None) -> None:
    """Make a random transformers EoMT / EoMT-DINOv3 / Mask2Former / MaskFormer / DETR model
    decisive on ``pixel_values`` (see the module doc); ``num_objects``:
    only that many queries get a class, the others say "no object"."""
    g = torch.Generator().manual_seed(seed)
    name = type(model).__name__
    num_labels = model.config.num_labels
    if name.startswith(('Eomt', 'Videomt')):
        with torch.no_grad():
            model.attn_mask_probs.zero_()
            if hasattr(model, 'query_updater'):  # VidEoMT: later frames stay near frame 0's
                model.query_updater.weight.mul_(0.1)
                model.query_updater.bias.mul_(0.1)
            norm = model.upscale_block.block[-1].layernorm2d
            norm.weight[0], norm.bias[0] = 0.0, 1.0  # a constant mask-feature channel
        queries, feats = _eomt_final(model, pixel_values)
        head = model.mask_head
        spread_queries(head.fc1, queries)
        with torch.no_grad():
            hidden = head.activation(head.fc2(head.activation(head.fc1(queries))))
        _solve_masks(head.fc3, hidden, feats, mask_margin, g)
        solve_linear(model.class_predictor, queries,
                     class_targets(len(queries), num_labels, class_margin, g, num_objects))
        return
    if name == 'Mask2FormerForUniversalSegmentation':
        decoder = model.model.transformer_module.decoder
        proj = model.model.pixel_level_module.decoder.mask_projection
        with torch.no_grad():
            for layer in decoder.layers:
                layer.cross_attn.out_proj.weight.zero_()
                layer.cross_attn.out_proj.bias.zero_()
            proj.weight[0], proj.bias[0] = 0.0, 1.0  # a constant mask-feature channel
        captured = _capture(model, pixel_values, queries=decoder.layernorm, feats=proj)
        _decisive_mlp(decoder.mask_predictor.mask_embedder.layers,
                      captured['queries'][:, 0],  # (Q, B, C) in transformers' decoder
                      captured['feats'][0], model.class_predictor, num_labels, mask_margin,
                      class_margin, g, num_objects)
        return
    if name == 'MaskFormerForInstanceSegmentation':  # no masked attention: nothing to cut
        decoder = model.model.transformer_module.decoder
        proj = model.model.pixel_level_module.decoder.mask_projection
        with torch.no_grad():
            proj.weight[0], proj.bias[0] = 0.0, 1.0  # a constant mask-feature channel
            # Zero queries that differ only by their position embedding leave
            # a random decoder with near-identical outputs (spread ~1e-5):
            # sharpen the cross-attention so each query reads its own pixels.
            for layer in decoder.layers:
                layer.encoder_attn.q_proj.weight.mul_(attention_gain)
                layer.encoder_attn.k_proj.weight.mul_(attention_gain)
        captured = _capture(model, pixel_values, queries=decoder.layernorm, feats=proj)
        _decisive_mlp(model.mask_embedder.layers, captured['queries'][0],  # (B, Q, C)
                      captured['feats'][0], model.class_predictor, num_labels, mask_margin,
                      class_margin, g, num_objects)
        return
    if name == 'DetrForSegmentation':
        _decisive_detr(model, pixel_values, g, mask_margin, class_margin, attention_gain,
                       num_objects)
        return
    raise TypeError(f'make_decisive: {name} is not handled')


def _capture(model: nn.Module, pixel_values: Tensor, **modules: nn.Module) -> dict:
    """``{name: output}`` of each named module in one no-grad forward."""
    captured = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, key=key: captured.update({key: o}))
             for key, m in modules.items()]
    try:
        with torch.no_grad():
            model(pixel_values=pixel_values)
    finally:
        for h in hooks:
            h.remove()
    return captured


def _decisive_mlp(blocks, queries: Tensor, feats: Tensor, class_layer: nn.Linear,
                  num_labels: int, mask_margin: float, class_margin: float,
                  g: torch.Generator, num_objects: int) -> None:
    """MaskFormer / Mask2Former: spread the queries through the mask MLP's
    first layer, solve its last for one region per query and the class layer
    for confident classes."""
    spread_queries(blocks[0].layers[0], queries)
    with torch.no_grad():
        hidden = queries
        for block in blocks[:-1]:
            hidden = block(hidden)
    _solve_masks(blocks[-1].layers[0], hidden, feats, mask_margin, g)
    solve_linear(class_layer, queries,
                 class_targets(len(queries), num_labels, class_margin, g, num_objects))


def _solve_masks(last: nn.Linear, hidden: Tensor, feats: Tensor, margin: float,
                 g: torch.Generator) -> None:
    """The mask embedding's last layer: embedding . feats ~ each query's
    most similar pixels (:func:`_seed_embeddings`), rescaled to ``margin``."""
    embed = _seed_embeddings(feats, len(hidden), margin, g)
    solve_linear(last, hidden, embed)
    with torch.no_grad():
        got = last(hidden) @ feats.reshape(feats.shape[0], -1)
        scale = margin / got.std().clamp(min=1e-9)
        last.weight.mul_(scale)
        last.bias.mul_(scale)


def segment_masks(ids: Tensor, segments, key: str = 'id') -> Dict[int, Tensor]:
    """``{segment id: bool mask}`` of an id map."""
    return {s[key]: ids == s[key] for s in segments}


def compare_segments(ours_ids, ours_segments, ref_ids, ref_segments, *,
                     min_iou: float = 0.99, ref_void: int = -1) -> Optional[str]:
    """None when the two panoptic results have the same segments (matched one
    to one by pixels, the same label, IoU >= ``min_iou`` each); else a line
    saying what differs.  ``ours_segments`` carry ``category_id`` (the
    checkpoint's label id), ``ref_segments`` transformers' ``label_id``."""
    ours_ids, ref_ids = torch.as_tensor(ours_ids), torch.as_tensor(ref_ids)
    if ours_ids.shape != ref_ids.shape:
        return f'maps differ in size: {tuple(ours_ids.shape)} vs {tuple(ref_ids.shape)}'
    if len(ours_segments) != len(ref_segments):
        return f'{len(ours_segments)} segments vs {len(ref_segments)} in transformers'
    used = set()
    for s in ours_segments:
        mine = ours_ids == s['id']
        best, best_iou = None, 0.0
        for r in ref_segments:
            if r['id'] in used:
                continue
            theirs = ref_ids == r['id']
            inter = (mine & theirs).sum().item()
            if inter == 0:
                continue
            iou = inter / (mine | theirs).sum().item()
            if iou > best_iou:
                best, best_iou = r, iou
        if best is None:
            return f'segment {s["id"]} (label {s["category_id"]}) has no counterpart'
        used.add(best['id'])
        if best['label_id'] != s['category_id'] or best_iou < min_iou:
            return (f'segment {s["id"]}: label {s["category_id"]} vs {best["label_id"]}, '
                    f'IoU {best_iou:.4f}')
    return None


def _decisive_detr(model, pixel_values: Tensor, g: torch.Generator, mask_margin: float,
                   class_margin: float, attention_gain: float,
                   num_objects: Optional[int]) -> None:
    """DETR's masks come from a convolutional head on each query's attention
    map, not from a dot product: make the first head's attention of query
    ``q`` peak on the pixels whose (centred) encoder features point like its
    seed pixel's, then turn the mask head into a monotone copy of that map
    (one channel passed through every convolution, GroupNorm biases keeping
    it above the ReLUs, the backbone adapters zeroed), thresholded so that
    about ``1 / Q`` of the map is foreground."""
    detr = model.detr.model
    with torch.no_grad():
        for layer in detr.decoder.layers:  # queries that differ (see MaskFormer)
            layer.encoder_attn.q_proj.weight.mul_(attention_gain)
            layer.encoder_attn.k_proj.weight.mul_(attention_gain)
    captured = _capture(model, pixel_values, queries=detr.decoder.layernorm,
                        memory=detr.encoder.layers[-1])
    memory = captured['memory']
    memory = memory[0] if isinstance(memory, tuple) else memory
    queries, memory = captured['queries'][0], memory[0]  # (Q, C), (HW, C)
    num_q, dims = queries.shape
    att = model.bbox_attention
    head = att.head_dim
    first = memory[:, :head].double()
    mean = first.mean(0)
    centred = first - mean
    norms = centred.norm(dim=1).clamp(min=1e-9)
    seeds = torch.randperm(len(first), generator=g)[:num_q]
    gain = mask_margin / (att.scaling * norms.mean())
    targets = torch.zeros(num_q, dims, dtype=torch.float64)
    targets[:, :head] = gain * centred[seeds] / norms[seeds, None]
    with torch.no_grad():
        att.k_proj.weight.zero_()
        att.k_proj.bias.zero_()
        att.k_proj.weight[:head, :head] = torch.eye(head)
        att.k_proj.bias[:head] = -mean.float()
    solve_linear(att.q_proj, queries, targets.float())
    mh = model.mask_head
    blocks = [mh.conv1, mh.conv2] + [stage.refine for stage in mh.fpn_stages]
    with torch.no_grad():
        for i, block in enumerate(blocks):
            conv = block.conv
            conv.weight.zero_()
            conv.bias.zero_()
            conv.weight[0, dims if i == 0 else 0, 1, 1] = 1.0  # head 0's map, then channel 0
            block.norm.weight.zero_()
            block.norm.bias.zero_()
            block.norm.weight[0], block.norm.bias[0] = 1.0, 4.0  # above the ReLU
        for stage in mh.fpn_stages:
            stage.fpn_adapter.weight.zero_()
            stage.fpn_adapter.bias.zero_()
        mh.output_conv.weight.zero_()
        # standardised map z (+ 4): logit = margin * (z - 1), foreground above 1 sd
        mh.output_conv.weight[0, 0, 1, 1] = mask_margin
        mh.output_conv.bias.fill_(-mask_margin * 5.0)
    solve_linear(model.detr.class_labels_classifier, queries,
                 class_targets(num_q, model.config.num_labels, class_margin, g,
                               num_objects))
