"""Evaluate PQ from COCO panoptic files (JSON + RGB-id PNG folders).

Used by ``tools/analysis_tools/pq_eval.py``; numpy, OpenCV and (when
installed) pyspng only (through :mod:`mmpanoptic.fileio`), so the CLI
starts without torch.  Per image:

1. both PNGs are decoded by :mod:`mmpanoptic.fileio.png` (libspng; OpenCV
   is the fallback);
2. each RGB image becomes one 32-bit word per pixel with OpenCV's SIMD
   RGB->RGBA conversion (``R | G << 8 | B << 16 | 0xFF << 24``: the id plus a
   constant alpha byte), a view, not an id computation;
3. :func:`~mmpanoptic.evaluation.functional.pq.pair_counts` finds the runs
   where either word changes and sums the (gt, pred) pairs of the run starts
   only, masking the alpha byte off there;
4. the rest works on those ~100 pairs.

Images are spread over ``nproc`` worker processes in chunks, each returning
only its summed statistics; a worker that dies (killed, out of memory) stops
the evaluation with an error instead of hanging it.
"""
import contextlib
import ctypes
import os.path as osp
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import cv2

from mmpanoptic.fileio import ID_MASK, PanopticEvalError, read_json, read_png_words
from mmpanoptic.fileio.panoptic_json import check_category

from ..functional.pq import PQStats, check_same_size, pair_counts, pq_stats_from_pairs, pq_summary
from ..functional.pq_errors import PQErrorStats, pq_error_causes


def load_panoptic_json(path, role: str) -> Dict:
    """Load and sanity-check a COCO panoptic JSON (``role``: 'gt' or 'pred').

    ``path`` may also be the already loaded dict (it is checked, not copied).
    """
    if isinstance(path, dict):
        data, path = path, f'({role} dict)'
    else:
        data = read_json(path, f'{role} JSON')
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
    if role == 'gt':
        if not data['annotations']:
            raise PanopticEvalError(f'gt JSON {path}: no annotations (an empty ground truth '
                                    'has no PQ)')
        for cat in data['categories']:  # before the evaluation, not at its end
            check_category(cat, f'gt JSON {path}')
    return data


def png_pair_counts(gt_png: str, pred_png: str, image: str):
    """``(gt_id, pred_id, count)`` arrays of the pairs present in two PNGs."""
    gt = read_png_words(gt_png, image)
    pred = read_png_words(pred_png, image)
    check_same_size(gt.shape, pred.shape, f'{image} ({pred_png})')
    return pair_counts(gt, pred, id_mask=ID_MASK)


@contextlib.contextmanager
def opencv_single_thread():
    """Run OpenCV single-threaded inside the block (restored after).

    The per-image conversions take ~0.2 ms; OpenCV's thread pool costs more
    than that to wake up, and with worker processes it oversubscribes the
    cores.  Set in the parent only: forked workers inherit it (calling
    ``cv2.setNumThreads`` in a forked child whose parent already used the
    pool hangs).
    """
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


# One job: (image name, gt PNG, gt segments, pred PNG, pred segments).
Job = Tuple[str, str, List[Dict], str, List[Dict]]


def _evaluate_jobs(args):
    jobs, categories, with_errors = args
    stats = PQStats()
    errors = PQErrorStats() if with_errors else None
    for image, gt_png, gt_segs, pred_png, pred_segs in jobs:
        pairs = png_pair_counts(gt_png, pred_png, image)
        image_stats = pq_stats_from_pairs(*pairs, gt_segs, pred_segs, categories, image)
        stats.add(*image_stats)
        if errors is not None:
            errors.add(pq_error_causes(*pairs, gt_segs, pred_segs, categories, image), image,
                       image_stats[0])
    return stats, errors


def reuse_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of returning it to the OS.

    Every PNG decodes into fresh ~1 MB arrays; above glibc's mmap threshold
    each one is a new mapping whose pages fault in one by one (~1.5 ms per
    image here, as much as the conversion itself).  Raising the mmap and trim
    thresholds (64 / 256 MB) keeps such buffers in the heap, where the next
    image reuses them.  Process-wide, so only the CLI and the worker
    processes call it, never a library caller's process.  Returns False where
    there is no glibc ``mallopt``.
    """
    try:
        libc = ctypes.CDLL('libc.so.6')
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 64 << 20)
                    and libc.mallopt(m_trim_threshold, 256 << 20))
    except (OSError, AttributeError):
        return False


def _worker_pool(nproc: int) -> ProcessPoolExecutor:
    """A fork-based process pool (as panopticapi's, and usable from scripts
    without a ``__main__`` guard, unlike spawn / forkserver).  An executor,
    not ``multiprocessing.Pool``: when a worker dies the pool breaks and the
    results raise, where ``Pool`` waits forever.

    Workers must not touch OpenCV's thread pool settings (see
    :func:`opencv_single_thread`).
    """
    return ProcessPoolExecutor(nproc, mp_context=get_context('fork'),
                               initializer=reuse_freed_memory)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def evaluate_panoptic_files(gt_json, gt_dir: str, pred_json, pred_dir: str,
                            *, nproc: int = 1, categories: Optional[Sequence[int]] = None,
                            errors: bool = False,
                            progress: bool = True) -> Dict:
    """PQ of COCO panoptic predictions against ground truth, from files.

    Args:
        gt_json, gt_dir: ground-truth JSON (path or loaded dict) and its PNG folder.
        pred_json, pred_dir: prediction JSON (path or loaded dict) and its PNG folder.
        nproc: worker processes (1 = in this process).
        categories: evaluate only these category ids.
        errors: also put every FP and FN down to its cause and score each
            image (:mod:`~mmpanoptic.evaluation.functional.pq_errors`): adds
            ``'errors'`` (a :class:`PQErrorStats`) to the result.
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
            raise PanopticEvalError(f'{image}: no prediction in '
                                    f'{pred_json if isinstance(pred_json, str) else "pred_json"}')
        jobs.append((image, osp.join(gt_dir, ann['file_name']), ann['segments_info'],
                     osp.join(pred_dir, p['file_name']), p['segments_info']))
    stats = PQStats()
    chunk = max(1, min(64, len(jobs) // max(1, 4 * nproc)))
    work = [(c, cats, errors) for c in _chunks(jobs, chunk)]
    error_stats = PQErrorStats() if errors else None
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), unit='image', desc='PQ', mininterval=0.5)
    with opencv_single_thread():
        pool = _worker_pool(nproc) if nproc > 1 else None
        results = map(_evaluate_jobs, work) if pool is None else pool.map(_evaluate_jobs, work)
        try:
            for (part, part_errors), (jobs_part, _, _) in zip(results, work):
                stats.merge(part)
                if error_stats is not None:
                    error_stats.merge(part_errors)
                if bar is not None:
                    bar.update(len(jobs_part))
        except BrokenProcessPool:
            raise PanopticEvalError(
                f'a worker process died while evaluating (killed, or out of memory?); '
                f'nothing was reported. Run again, with fewer processes (--nproc {nproc} now) '
                'if memory is short') from None
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            if bar is not None:
                bar.close()
    summary = pq_summary(stats, cats, category_subset=categories)
    if error_stats is not None:
        summary['errors'] = error_stats
    return summary


def summary_to_json(summary: Dict) -> Dict:
    """The CLI's JSON layout: splits, per_class by category id (as strings)
    and things_by_size; fractions in [0, 1]."""
    out = {k: summary[k] for k in ('All', 'Things', 'Stuff')}
    out['per_class'] = {
        str(cat): {k: r[k] for k in ('pq', 'sq', 'rq', 'tp', 'fp', 'fn')}
        for cat, r in summary['per_class'].items()}
    out['things_by_size'] = summary['things_by_size']
    return out
