"""Draw panoptic segmentations: colored segments, outlines and class names."""
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np


def segment_colors(segments_info: Sequence[Dict],
                   palette: Sequence,
                   seed: int = 0,
                   by_id: bool = False) -> Dict[int, tuple]:
    """One color per segment: the class color, jittered for thing instances
    so neighbouring instances of one class stay distinguishable.  With
    ``by_id`` the jitter depends only on the segment id, so a tracked object
    keeps its color in every frame of a video."""
    rng = np.random.default_rng(seed)
    colors = {}
    for s in segments_info:
        base = np.array(palette[s['label']], dtype=np.float32)
        if s.get('isthing'):
            if by_id:
                jitter = np.random.default_rng(int(s['id'])).integers(-90, 91, 3)
            else:
                jitter = rng.integers(-60, 61, 3)
            base = np.clip(base + jitter, 0, 255)
        colors[s['id']] = tuple(int(v) for v in base)
    return colors


def draw_panoptic(image: np.ndarray,
                  ids: np.ndarray,
                  segments_info: Sequence[Dict],
                  classes: Sequence[str],
                  palette: Sequence,
                  *,
                  alpha: float = 0.55,
                  scale: int = 1,
                  title: Optional[str] = None,
                  color_by_id: bool = False) -> np.ndarray:
    """Overlay a panoptic map on an image.

    Args:
        image: (H, W, 3) uint8 **RGB** in [0, 255].
        ids: (H, W) integer segment ids (0 = VOID, drawn as the plain image).
        segments_info: dicts with ``id``, ``label`` and optionally ``isthing``
            and ``score``.
        classes: class names indexed by label.
        palette: RGB color per label.
        alpha: opacity of the segment colors.
        scale: integer upscaling (nearest) before drawing, for small images.
        title: text written in the top-left corner.
        color_by_id: thing colors (and an ``#id`` tag) follow the segment id,
            for tracked videos.

    Returns:
        (H * scale, W * scale, 3) uint8 RGB picture.
    """
    if scale != 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        ids = cv2.resize(ids.astype(np.int32),
                         None,
                         fx=scale,
                         fy=scale,
                         interpolation=cv2.INTER_NEAREST)
    out = image.astype(np.float32).copy()
    colors = segment_colors(segments_info, palette, by_id=color_by_id)
    color_map = np.zeros_like(out)
    for sid, color in colors.items():
        color_map[ids == sid] = color
    labelled = ids != 0
    out[labelled] = (1 - alpha) * out[labelled] + alpha * color_map[labelled]
    out = out.astype(np.uint8)
    # Segment outlines: pixels whose right or lower neighbour differs.
    edge = np.zeros(ids.shape, bool)
    edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    edge[:-1, :] |= ids[:-1, :] != ids[1:, :]
    out[edge] = 255
    font = cv2.FONT_HERSHEY_SIMPLEX
    fs = 0.3 + 0.1 * scale
    for s in segments_info:
        ys, xs = np.nonzero(ids == s['id'])
        if len(xs) == 0:
            continue
        # Put the label on the segment pixel closest to its centroid.
        k = np.argmin((xs - xs.mean())**2 + (ys - ys.mean())**2)
        text = classes[s['label']]
        if s.get('isthing') and color_by_id:
            text += f' #{s["id"]}'
        elif s.get('isthing') and 'score' in s:
            text += f' {s["score"]:.2f}'
        (tw, th), _ = cv2.getTextSize(text, font, fs, 1)
        org = (int(np.clip(xs[k] - tw // 2, 0,
                           out.shape[1] - tw)), int(np.clip(ys[k] + th // 2, th, out.shape[0] - 1)))
        cv2.putText(out, text, org, font, fs, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, org, font, fs, (255, 255, 255), 1, cv2.LINE_AA)
    if title:
        cv2.putText(out, title, (4, 14), font, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, title, (4, 14), font, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
    return out


def gt_segments_with_labels(segments_info: List[Dict]) -> List[Dict]:
    """GT segments as drawable dicts (``label`` and ``isthing`` are present
    in mmpanoptic datasets' segments_info)."""
    return [
        dict(id=s['id'], label=s['label'], isthing=s.get('isthing', False)) for s in segments_info
    ]
