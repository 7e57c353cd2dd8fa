"""Evaluate PQ from COCO panoptic files (JSON + RGB-id PNG folders).

Used by ``tools/analysis_tools/pq_eval.py``.  Per image, both PNGs are
decoded once (OpenCV) and their bytes are interleaved straight into one
8-byte word per pixel, ``pred_id | gt_id << 24``, so no id map is ever
computed; runs of equal words are collapsed and only the run keys sorted,
which yields every (gt, pred) pair with its pixel count; the rest works on
those ~100 pairs.
Images are spread over ``nproc`` worker processes in chunks, each returning
only its summed statistics.
"""
import json
import os.path as osp
from multiprocessing import get_context
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..functional.pq import (
    PanopticEvalError,
    PQStats,
    check_same_size,
    count_keys,
    pq_stats_from_pairs,
    pq_summary,
)


def load_panoptic_json(path: str, role: str) -> Dict:
    """Load and sanity-check a COCO panoptic JSON (``role``: 'gt' or 'pred')."""
    if not osp.isfile(path):
        raise PanopticEvalError(f'{role} JSON not found: {path}')
    try:
        with open(path) as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PanopticEvalError(f'{role} JSON {path} is not valid JSON: {e}') from e
    need = ('annotations', 'categories', 'images') if role == 'gt' else ('annotations', )
    if not isinstance(data, dict) or any(k not in data for k in need):
        raise PanopticEvalError(
            f'{role} JSON {path} is not COCO panoptic: it needs the keys {list(need)}'
            + ('' if not isinstance(data, dict) else f', found {sorted(data)[:8]}'))
    seen = set()
    for k, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict) or any(x not in ann for x in
                                            ('image_id', 'file_name', 'segments_info')):
            raise PanopticEvalError(
                f'{role} JSON {path}: annotation #{k} is not COCO panoptic (needs image_id, '
                f'file_name, segments_info): {str(ann)[:120]}')
        if ann['image_id'] in seen:
            raise PanopticEvalError(
                f'{role} JSON {path}: image {ann["image_id"]} has two annotations')
        seen.add(ann['image_id'])
    return data


def read_png_bgr(path: str, image: str) -> np.ndarray:
    """Decode a PNG to (H, W, 3) uint8 BGR, naming the image on failure."""
    if not osp.isfile(path):
        raise PanopticEvalError(f'{image}: PNG not found: {path}')
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise PanopticEvalError(f'{image}: PNG is unreadable: {path}')
    return bgr


def png_pair_counts(gt_png: str, pred_png: str, image: str):
    """``(gt_id, pred_id, count)`` arrays of the pairs present in two PNGs.

    Little-endian byte layout per pixel: pred R, G, B, gt R, G, B, 0, 0, so the
    uint64 view is ``pred_id + gt_id * 2^24``.
    """
    gt = read_png_bgr(gt_png, image)
    pred = read_png_bgr(pred_png, image)
    check_same_size(gt.shape, pred.shape, f'{image} ({pred_png})')
    packed = np.zeros(gt.shape[:2] + (8, ), np.uint8)
    cv2.mixChannels([pred, gt], [packed], [2, 0, 1, 1, 0, 2, 5, 3, 4, 4, 3, 5])
    keys, counts = count_keys(packed.view(np.uint64).reshape(-1))
    return ((keys >> np.uint64(24)).astype(np.int64),
            (keys & np.uint64(0xFFFFFF)).astype(np.int64), counts.astype(np.int64))


# One job: (image name, gt PNG, gt segments, pred PNG, pred segments).
Job = Tuple[str, str, List[Dict], str, List[Dict]]


def _evaluate_jobs(args) -> PQStats:
    jobs, categories = args
    stats = PQStats()
    for image, gt_png, gt_segs, pred_png, pred_segs in jobs:
        pairs = png_pair_counts(gt_png, pred_png, image)
        stats.add(*pq_stats_from_pairs(*pairs, gt_segs, pred_segs, categories, image))
    return stats


def _worker_pool(nproc: int):
    """A fork-based process pool (as panopticapi's, and usable from scripts
    without a ``__main__`` guard, unlike spawn / forkserver).

    Workers must not touch OpenCV's thread pool settings:
    ``cv2.setNumThreads`` in a forked child whose parent already used that
    pool hangs (seen in the test suite).
    """
    return get_context('fork').Pool(nproc)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def evaluate_panoptic_files(gt_json: str, gt_dir: str, pred_json: str, pred_dir: str,
                            *, nproc: int = 1, categories: Optional[Sequence[int]] = None,
                            progress: bool = True) -> Dict:
    """PQ of COCO panoptic predictions against ground truth, from files.

    Args:
        gt_json, gt_dir: ground-truth JSON and its PNG folder.
        pred_json, pred_dir: prediction JSON and its PNG folder.
        nproc: worker processes (1 = in this process).
        categories: evaluate only these category ids.
        progress: show a progress bar.

    Returns:
        :func:`pq_summary`'s dict (fractions in [0, 1]).
    """
    gt = load_panoptic_json(gt_json, 'gt')
    pred = load_panoptic_json(pred_json, 'pred')
    cats = {int(c['id']): c for c in gt['categories']}
    preds = {a['image_id']: a for a in pred['annotations']}
    jobs: List[Job] = []
    for ann in gt['annotations']:
        image = f'image {ann["image_id"]} ({ann["file_name"]})'
        p = preds.get(ann['image_id'])
        if p is None:
            raise PanopticEvalError(f'{image}: no prediction in {pred_json}')
        jobs.append((image, osp.join(gt_dir, ann['file_name']), ann['segments_info'],
                     osp.join(pred_dir, p['file_name']), p['segments_info']))
    stats = PQStats()
    chunk = max(1, min(64, len(jobs) // max(1, 4 * nproc)))
    work = [(c, cats) for c in _chunks(jobs, chunk)]
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(jobs))
    if nproc <= 1:
        results = map(_evaluate_jobs, work)
        pool = None
    else:
        pool = _worker_pool(nproc)
        results = pool.imap(_evaluate_jobs, work)
    try:
        for part, (jobs_part, _) in zip(results, work):
            stats.merge(part)
            if bar is not None:
                for _ in jobs_part:
                    bar.update()
    finally:
        if pool is not None:
            pool.terminate()
    if bar is not None:
        print()
    return pq_summary(stats, cats, category_subset=categories)


def summary_to_json(summary: Dict) -> Dict:
    """The CLI's JSON layout: splits, per_class by category id (as strings)
    and things_by_size; fractions in [0, 1]."""
    out = {k: summary[k] for k in ('All', 'Things', 'Stuff')}
    out['per_class'] = {
        str(cat): {k: r[k] for k in ('pq', 'sq', 'rq', 'tp', 'fp', 'fn')}
        for cat, r in summary['per_class'].items()}
    out['things_by_size'] = summary['things_by_size']
    return out
