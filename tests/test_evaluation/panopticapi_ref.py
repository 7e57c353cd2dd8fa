"""Run the official COCO panopticapi (PyPI ``panopticapi-lite``) on in-memory
pairs or on a case folder, for the tests that compare our PQ with it.

The package pins numpy < 2 in its metadata but runs on numpy 2, so
``tools/setup_env.sh`` installs it with ``--no-deps`` as a test extra.
"""
import contextlib
import io
import json
import os
import os.path as osp

import numpy as np
from PIL import Image

from mmpanoptic.structures import id2rgb

from ..extras import require

evaluation = require('panopticapi.evaluation', 'panopticapi-lite')


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def panopticapi_stats(pairs, categories, workdir):
    """panopticapi's ``PQStat`` of in-memory ``(gt_ids, gt_segs, pred_ids, pred_segs)``.

    Every pair is written as COCO panoptic PNGs (ids must be < 2^24) and
    scored by ``pq_compute_single_core``, the reference's own per-image code.
    """
    gt_dir, pred_dir = osp.join(workdir, 'gt'), osp.join(workdir, 'pred')
    os.makedirs(gt_dir, exist_ok=True)
    os.makedirs(pred_dir, exist_ok=True)
    annotation_set = []
    for k, (gt_ids, gt_segs, pred_ids, pred_segs) in enumerate(pairs):
        name = f'{k:06d}.png'
        Image.fromarray(id2rgb(np.asarray(gt_ids))).save(osp.join(gt_dir, name))
        Image.fromarray(id2rgb(np.asarray(pred_ids))).save(osp.join(pred_dir, name))
        annotation_set.append((dict(image_id=k, file_name=name, segments_info=gt_segs),
                               dict(image_id=k, file_name=name, segments_info=pred_segs)))
    cats = {int(c): {**info, "id": int(c)} for c, info in categories.items()}
    return _quiet(evaluation.pq_compute_single_core, 0, annotation_set, gt_dir, pred_dir, cats)


def panopticapi_results(stat, categories):
    """``pq_compute``'s result dict from a ``PQStat`` (None where it divides by zero)."""
    cats = {int(c): {**info, "id": int(c)} for c, info in categories.items()}
    out = {}
    for name, isthing in (('All', None), ('Things', True), ('Stuff', False)):
        try:
            out[name], per_class = stat.pq_average(cats, isthing=isthing)
        except ZeroDivisionError:
            out[name] = None
        if name == 'All':
            out['per_class'] = per_class
    return out


def panopticapi_on_case(case_dir):
    """``pq_compute`` of a case folder (gt.json, gt/, pred.json, pred/), one process."""
    gt = json.load(open(osp.join(case_dir, 'gt.json')))
    pred = json.load(open(osp.join(case_dir, 'pred.json')))
    cats = {c['id']: c for c in gt['categories']}
    preds = {a['image_id']: a for a in pred['annotations']}
    annotation_set = [(a, preds[a['image_id']]) for a in gt['annotations']]
    stat = _quiet(evaluation.pq_compute_single_core, 0, annotation_set, osp.join(case_dir, 'gt'),
                  osp.join(case_dir, 'pred'), cats)
    return stat, cats
