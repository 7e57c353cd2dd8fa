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
"not void" probability, with the void probability appended (as the
published inference does).  COCO-trained FC-CLIP uses alpha 0.4, beta 0.8.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def mask_pool(features: Tensor, mask_logits: Tensor) -> Tensor:
    """Average of features inside each (sigmoid) mask.

    Args:
        features: (B, C, h, w).
        mask_logits: (B, Q, H, W) mask logits at any resolution (resized to
            h x w bilinearly).

    Returns:
        (B, Q, C): ``sum_p sigmoid(m)_p f_p / sum_p sigmoid(m)_p``.

    >>> f = torch.arange(4.).view(1, 1, 2, 2)
    >>> m = torch.tensor([[[[20., -20.], [-20., -20.]]]])  # only the first pixel
    >>> mask_pool(f, m).round(decimals=3)
    tensor([[[0.]]])
    """
    if mask_logits.shape[-2:] != features.shape[-2:]:
        mask_logits = F.interpolate(mask_logits, size=features.shape[-2:], mode='bilinear',
                                    align_corners=False)
    weights = mask_logits.sigmoid()
    pooled = torch.einsum('bqhw,bchw->bqc', weights, features)
    return pooled / weights.sum(dim=(-2, -1))[..., None].clamp(min=1e-6)


def geometric_ensemble(in_vocab_logits: Tensor, out_vocab_logits: Tensor, seen: Tensor, *,
                       alpha: float = 0.4, beta: float = 0.8, eps: float = 1e-8) -> Tensor:
    """FC-CLIP's ensemble of class scores.

    Args:
        in_vocab_logits: (..., C + 1) trained classifier logits, void last.
        out_vocab_logits: (..., C) logits of the frozen CLIP classifier.
        seen: (C,) bool, True for classes seen in training.
        alpha, beta: weight of the CLIP score for seen / unseen classes.

    Returns:
        (..., C + 1) log-probabilities (void last), ready for the same
        mask-classification inference as plain logits.
    """
    num_classes = out_vocab_logits.shape[-1]
    if in_vocab_logits.shape[-1] != num_classes + 1 or seen.shape != (num_classes,):
        raise ValueError(f'shapes disagree: in-vocabulary {tuple(in_vocab_logits.shape)}, '
                         f'out-of-vocabulary {tuple(out_vocab_logits.shape)}, seen '
                         f'{tuple(seen.shape)} (expected C + 1, C and (C,))')
    p_in = in_vocab_logits.softmax(-1)
    void = p_in[..., -1:]
    log_in = (p_in[..., :-1] + eps).log()
    log_out = (out_vocab_logits.softmax(-1) + eps).log()
    weight = torch.where(seen.to(log_in.device), alpha, beta).to(log_in.dtype)
    log_p = (1 - weight) * log_in + weight * log_out
    probs = torch.cat([log_p.softmax(-1) * (1 - void), void], dim=-1)
    return (probs + eps).log()
