"""Encode and decode COCO panoptic segment ids.

COCO panoptic PNGs store a segment id per pixel as RGB: ``id = R + 256 G + 256^2 B``.
In memory mmpanoptic keeps an ``int32``/``int64`` id map plus a ``segments_info``
list; it never packs ``instance * 1000 + category`` into one number.
"""
from typing import Dict, List, Tuple

import numpy as np

VOID = 0


def rgb2id(color: np.ndarray) -> np.ndarray:
    """Decode an ``(H, W, 3)`` uint8 RGB array to ``(H, W)`` int64 segment ids.

    >>> rgb2id(np.array([[[1, 2, 0]]], dtype=np.uint8))
    array([[513]])
    """
    if color.ndim != 3 or color.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) RGB array, got shape {color.shape}')
    color = color.astype(np.int64, copy=False)
    return color[..., 0] + 256 * color[..., 1] + 65536 * color[..., 2]


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """Encode ``(H, W)`` integer ids to an ``(H, W, 3)`` uint8 RGB array."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.min(initial=0) < 0 or ids.max(initial=0) >= 256**3:
        raise ValueError('segment ids must lie in [0, 256^3) to fit in RGB')
    rgb = np.empty(ids.shape + (3, ), dtype=np.uint8)
    rgb[..., 0] = ids % 256
    rgb[..., 1] = (ids // 256) % 256
    rgb[..., 2] = ids // 65536
    return rgb


def mask_bbox(mask: np.ndarray) -> list:
    """COCO ``[x, y, w, h]`` box of the True pixels of an (H, W) mask
    (``[0, 0, 0, 0]`` when empty).

    >>> m = np.zeros((4, 5), bool); m[1:3, 2] = True
    >>> mask_bbox(m)
    [2, 1, 1, 2]
    """
    cols = np.flatnonzero(mask.any(0))
    rows = np.flatnonzero(mask.any(1))
    if len(cols) == 0:
        return [0, 0, 0, 0]
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def segment_pixels(ids: np.ndarray) -> Dict[int, Tuple[int, List[int]]]:
    """``{id: (area, [x, y, w, h])}`` of an (H, W) id map, in one pass.

    Pixels are split into horizontal runs of one id (row ends also end a
    run); areas and boxes are reductions over the ~few thousand runs."""
    h, w = ids.shape
    flat = ids.reshape(-1)
    if flat.size == 0:
        return {}
    change = flat[1:] != flat[:-1]
    change[w - 1::w] = True  # a run never continues onto the next row
    starts = np.concatenate(([0], np.flatnonzero(change) + 1))
    ends = np.append(starts[1:], flat.size)
    uniq, inverse = np.unique(flat[starts], return_inverse=True)
    area = np.bincount(inverse, weights=ends - starts, minlength=len(uniq))
    rows, c0, c1 = starts // w, starts % w, (ends - 1) % w
    x0 = np.full(len(uniq), w)
    y0 = np.full(len(uniq), h)
    x1 = np.full(len(uniq), -1)
    y1 = np.full(len(uniq), -1)
    np.minimum.at(x0, inverse, c0)
    np.minimum.at(y0, inverse, rows)
    np.maximum.at(x1, inverse, c1)
    np.maximum.at(y1, inverse, rows)
    return {int(i): (int(a), [int(a0), int(b0), int(a1 - a0 + 1), int(b1 - b0 + 1)])
            for i, a, a0, b0, a1, b1 in zip(uniq, area, x0, y0, x1, y1)}
