"""What every dataset converter shares: a progress bar over the images and
the written COCO panoptic set (PNGs through :mod:`mmpanoptic.fileio`)."""
from typing import Dict, Iterable, List, Optional

from tqdm import tqdm

from mmpanoptic.fileio import write_json


def with_progress(items: Iterable, enabled: bool, total: Optional[int] = None,
                  unit: str = 'image') -> Iterable:
    """``items`` with a tqdm progress bar when ``enabled`` (``total``
    defaults to ``len(items)``)."""
    if not enabled:
        return items
    return tqdm(items, total=len(items) if total is None else total, unit=unit)


def write_panoptic_set(out_json: str, images: List[Dict], annotations: List[Dict],
                       categories: List[Dict]) -> str:
    """Write a COCO panoptic JSON (folders created); returns its path."""
    return write_json(out_json, dict(images=images, annotations=annotations,
                                     categories=categories))
