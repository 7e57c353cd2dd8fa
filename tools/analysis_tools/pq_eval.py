"""Panoptic Quality of COCO panoptic predictions, with COCO panopticapi's rules.

    python tools/analysis_tools/pq_eval.py --gt-json GT.json --gt-dir GT_PNG_DIR \\
        --pred-json PRED.json --pred-dir PRED_PNG_DIR [--out results.json] [--nproc N] \\
        [--errors] [--plot DIR] [--worst N]

``--errors`` puts every FP and FN down to its cause (wrong class at IoU > 0.5,
merged, split, missed; duplicate, crowd / void, background for FPs: see
``mmpanoptic/evaluation/functional/pq_errors.py``) per class, and lists the
images with the lowest PQ.  ``--plot DIR`` also writes a per-class PQ bar
chart and the class confusion matrix as PNG.

Numbers are panopticapi's (``pq_compute``) to 1e-9, per class too.  The
evaluator is numpy + OpenCV + libspng: this script imports no torch or
mmengine, so it starts in a fraction of a second.
"""
import argparse
import json
import os
import sys
import time

from mmpanoptic.evaluation.files.pq_eval import (
    evaluate_panoptic_files,
    load_panoptic_json,
    reuse_freed_memory,
    summary_to_json,
)
from mmpanoptic.evaluation.functional.pq import format_pq_table
from mmpanoptic.fileio import PanopticError


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--gt-json', required=True)
    p.add_argument('--gt-dir', required=True)
    p.add_argument('--pred-json', required=True)
    p.add_argument('--pred-dir', required=True)
    p.add_argument('--out', help='write the results as JSON (fractions in [0, 1])')
    p.add_argument('--nproc', type=int, default=1,
                   help=f'worker processes (this machine has {os.cpu_count()})')
    p.add_argument('--categories', type=int, nargs='+',
                   help='evaluate only these category ids')
    p.add_argument('--no-classwise', action='store_true', help='omit the per-class table')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    p.add_argument('--errors', action='store_true',
                   help='break every FP and FN down into its cause; list the worst images')
    p.add_argument('--plot', metavar='DIR',
                   help='write pq_per_class.png and class_confusion.png here (implies --errors)')
    p.add_argument('--worst', type=int, default=10, help='how many worst images to list')
    return p.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    reuse_freed_memory()  # this process does nothing else
    try:
        gt = load_panoptic_json(args.gt_json, 'gt')
        pred = load_panoptic_json(args.pred_json, 'pred')
        summary = evaluate_panoptic_files(gt, args.gt_dir, pred, args.pred_dir,
                                          nproc=args.nproc, categories=args.categories,
                                          progress=not args.no_progress,
                                          errors=args.errors or bool(args.plot))
    except PanopticError as e:
        sys.exit(f'error: {e}')
    cats = {int(c['id']): dict(c) for c in gt['categories']}
    if args.categories:
        cats = {k: v for k, v in cats.items() if k in set(args.categories)}
    print(format_pq_table(summary, cats, classwise=not args.no_classwise))
    out = summary_to_json(summary)
    if 'errors' in summary:
        errors = summary['errors']
        print(format_error_table(errors, cats))
        worst = errors.worst_images(args.worst)
        print(f'\n{len(worst)} images with the lowest PQ (mean over the classes they involve):')
        for image, pq in worst:
            print(f'  {100 * pq:6.2f}  {image}')
        out['errors'] = {str(c): dict(fp=dict(errors.fp[c]), fn=dict(errors.fn[c]))
                         for c in cats}
        out['worst_images'] = [dict(image=i, pq=v) for i, v in worst]
        out['confusion'] = [[g, p, n] for (g, p), n in sorted(errors.confusion.items())]
    if args.plot:
        from mmpanoptic.visualization.pq_plots import plot_pq_report
        os.makedirs(args.plot, exist_ok=True)
        for path in plot_pq_report(summary, cats, args.plot):
            print(f'wrote {path}')
    print(f'evaluated {len(gt["annotations"])} images in {time.time() - t0:.2f} s')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)
        print(f'results written to {args.out}')


def format_error_table(errors, cats):
    """FP and FN of each class split into their causes (text table)."""
    from terminaltables import AsciiTable

    from mmpanoptic.evaluation.functional.pq_errors import FN_CAUSES, FP_CAUSES
    head = (['category', 'FN'] + [f'FN {c}' for c in FN_CAUSES] + ['FP'] +
            [f'FP {c}' for c in FP_CAUSES])
    rows = [head]
    for cid, info in cats.items():
        fn, fp = errors.fn.get(cid, {}), errors.fp.get(cid, {})
        rows.append([info.get('name', cid), sum(fn.values())] +
                    [fn.get(c, 0) for c in FN_CAUSES] + [sum(fp.values())] +
                    [fp.get(c, 0) for c in FP_CAUSES])
    return 'errors by cause (each FP / FN counted once)\n' + AsciiTable(rows).table


if __name__ == '__main__':
    main()
