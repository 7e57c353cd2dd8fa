"""FC-CLIP's combination of in-vocabulary and out-of-vocabulary class scores.

FC-CLIP (Yu et al., NeurIPS 2023) classifies each mask twice: with the
trained text classifier on the decoder's query (in-vocabulary, strong on the
training classes) and by pooling the *frozen* CLIP image features inside the
mask and comparing with the CLIP text embeddings (out-of-vocabulary, keeps
CLIP's open-world knowledge).  The two are combined geometrically, with more
weight on CLIP for classes not seen in training::

    p_c = p_in,c^(1 - alpha) * p_out,c^alpha   if c was a training class
    p_c = p_in,c^(1 - beta)  * p_out,c^beta    otherwise

then renormalised over the classes and scaled by the in-vocabulary
"not void" probability, with the void probability appended.  COCO-trained
FC-CLIP uses alpha 0.4, beta 0.8.

As the official code (``fcclip/fcclip.py``) does by default: ``p_in`` is the
softmax over the C class logits with the void logit left out
(``void='separate'``), masks are pooled as binary masks (logit > 0) and,
with ``valid``, a mask empty at the CLIP feature resolution keeps its
in-vocabulary score alone.  ``void='joint'`` (softmax over C + 1, void
column dropped: our earlier reading) and ``mask_pool(binary=False)``
(sigmoid-weighted pooling) are kept as options.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def resize_mask_logits(mask_logits: Tensor, size) -> Tensor:
    """Mask logits bilinearly resized to ``size`` (no-op when equal)."""
    if mask_logits.shape[-2:] != tuple(size):
        mask_logits = F.interpolate(mask_logits, size=tuple(size), mode='bilinear',
                                    align_corners=False)
    return mask_logits


def mask_pool(features: Tensor, mask_logits: Tensor, binary: bool = True) -> Tensor:
    """Average of features inside each mask.

    Args:
        features: (B, C, h, w).
        mask_logits: (B, Q, H, W) mask logits at any resolution (resized to
            h x w bilinearly).
        binary: average over the pixels with logit > 0 (FC-CLIP's
            ``MaskPooling``; an empty mask pools to zeros); False: weights
            ``sigmoid(m)``.

    Returns:
        (B, Q, C).

    >>> f = torch.arange(4.).view(1, 1, 2, 2)
    >>> m = torch.tensor([[[[20., 1.], [-20., -20.]]]])  # the first two pixels
    >>> mask_pool(f, m)
    tensor([[[0.5000]]])
    >>> mask_pool(f, m, binary=False).round(decimals=3)
    tensor([[[0.4220]]])
    """
    mask_logits = resize_mask_logits(mask_logits, features.shape[-2:])
    weights = (mask_logits > 0).to(features) if binary else mask_logits.sigmoid()
    pooled = torch.einsum('bqhw,bchw->bqc', weights, features)
    norm = weights.sum(dim=(-2, -1))[..., None]
    return pooled / (norm + 1e-8 if binary else norm.clamp(min=1e-6))


def synonym_set(vocabulary) -> set:
    """Every name of every class (lower case) of a vocabulary of synonym
    tuples."""
    return {s.strip().lower() for synonyms in vocabulary for s in synonyms}


def seen_classes(vocabulary, seen_names: set) -> Tensor:
    """(C,) bool: the classes of ``vocabulary`` sharing a name with the
    training classes' ``seen_names`` (FC-CLIP's / ODISE's
    ``category_overlapping_mask``)."""
    return torch.tensor([bool(synonym_set([c]) & seen_names) for c in vocabulary])


def geometric_ensemble(in_vocab_logits: Tensor, out_vocab_logits: Tensor, seen: Tensor, *,
                       alpha: float = 0.4, beta: float = 0.8, void: str = 'separate',
                       valid=None, eps: float = 1e-8) -> Tensor:
    """FC-CLIP's ensemble of class scores.

    Args:
        in_vocab_logits: (..., C + 1) trained classifier logits, void last.
        out_vocab_logits: (..., C) logits of the frozen CLIP classifier.
        seen: (C,) bool, True for classes seen in training.
        alpha, beta: weight of the CLIP score for seen / unseen classes.
        void: ``'separate'`` (official): ``p_in`` is the softmax over the C
            class logits; ``'joint'``: the softmax over all C + 1, void
            column dropped.  The void probability that scales the result is
            always the softmax over C + 1.
        valid: optional (...,) bool; where False (an empty mask, nothing to
            pool) the CLIP weight is 0 (``ensemble_on_valid_mask``).

    Returns:
        (..., C + 1) log-probabilities (void last), ready for the same
        mask-classification inference as plain logits.
    """
    num_classes = out_vocab_logits.shape[-1]
    if in_vocab_logits.shape[-1] != num_classes + 1 or seen.shape != (num_classes,):
        raise ValueError(f'shapes disagree: in-vocabulary {tuple(in_vocab_logits.shape)}, '
                         f'out-of-vocabulary {tuple(out_vocab_logits.shape)}, seen '
                         f'{tuple(seen.shape)} (expected C + 1, C and (C,))')
    if void not in ('separate', 'joint'):
        raise ValueError(f"void must be 'separate' or 'joint', got {void!r}")
    p_all = in_vocab_logits.softmax(-1)
    void_prob = p_all[..., -1:]
    p_in = in_vocab_logits[..., :-1].softmax(-1) if void == 'separate' else p_all[..., :-1]
    log_in = (p_in + eps).log()
    log_out = (out_vocab_logits.softmax(-1) + eps).log()
    weight = torch.where(seen.to(log_in.device), alpha, beta).to(log_in.dtype)
    if valid is not None:
        weight = weight * valid.to(weight)[..., None]
    log_p = (1 - weight) * log_in + weight * log_out
    probs = torch.cat([log_p.softmax(-1) * (1 - void_prob), void_prob], dim=-1)
    return (probs + eps).log()
