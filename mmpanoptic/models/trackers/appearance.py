"""Appearance embeddings of panoptic segments for trackers."""
from typing import Dict, List

import torch
import torch.nn.functional as F
from torch import Tensor


def color_histogram_embeddings(image: Tensor, ids: Tensor, segments: List[Dict], *,
                               bins: int = 8) -> Tensor:
    """Joint colour histogram of every segment, square-rooted and
    L2-normalised, so the cosine of two embeddings is the Bhattacharyya
    coefficient of the two histograms (1 = same colour distribution).

    Args:
        image: (3, H, W) colour values in [0, 255] (any channel order, the
            same for all frames), aligned with ``ids``.
        ids: (H, W) segment id map.
        segments: dicts with ``id``; row i of the result is ``segments[i]``.
        bins: bins per channel (``bins ** 3`` dimensions).

    Returns:
        (len(segments), bins ** 3) float32.

    >>> img = torch.zeros(3, 2, 2); img[0, :, 1] = 255    # black | red
    >>> ids = torch.tensor([[1, 2], [1, 2]])
    >>> e = color_histogram_embeddings(img, ids, [dict(id=1), dict(id=2)], bins=2)
    >>> e.nonzero().tolist()
    [[0, 0], [1, 4]]
    """
    if image.shape[-2:] != ids.shape:
        raise ValueError(f'image {tuple(image.shape[-2:])} and id map {tuple(ids.shape)} '
                         'differ in size')
    n, dims = len(segments), bins ** 3
    if n == 0:
        return torch.zeros((0, dims), device=image.device)
    q = (image.float().clamp(0, 255) * bins / 256).long().clamp(max=bins - 1)
    code = (q[0] * bins + q[1]) * bins + q[2]
    row_of = torch.full((int(ids.max()) + 1 if ids.numel() else 1,), -1, dtype=torch.long,
                        device=ids.device)
    for row, s in enumerate(segments):
        if s['id'] < len(row_of):
            row_of[s['id']] = row
    rows = row_of[ids.long()]
    keep = rows >= 0
    hist = torch.bincount(rows[keep] * dims + code[keep], minlength=n * dims)
    return F.normalize(hist.view(n, dims).float().sqrt(), dim=1)
