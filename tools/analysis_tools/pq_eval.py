"""Panoptic Quality of COCO panoptic predictions, with COCO panopticapi's rules.

    python tools/analysis_tools/pq_eval.py --gt-json GT.json --gt-dir GT_PNG_DIR \\
        --pred-json PRED.json --pred-dir PRED_PNG_DIR [--out results.json] [--nproc N]

Numbers are panopticapi's (``pq_compute``) to 1e-9, per class too.  The
evaluator is numpy + OpenCV + libspng: this script imports no torch or
mmengine, so it starts in a fraction of a second.
"""
import argparse
import json
import os
import sys
import time

from mmpanoptic.evaluation.files.coco_panoptic import (
    PanopticEvalError,
    evaluate_panoptic_files,
    load_panoptic_json,
    reuse_freed_memory,
    summary_to_json,
)
from mmpanoptic.evaluation.functional.pq import format_pq_table


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
                                          progress=not args.no_progress)
    except PanopticEvalError as e:
        sys.exit(f'error: {e}')
    cats = {int(c['id']): dict(c) for c in gt['categories']}
    if args.categories:
        cats = {k: v for k, v in cats.items() if k in set(args.categories)}
    print(format_pq_table(summary, cats, classwise=not args.no_classwise))
    print(f'evaluated {len(gt["annotations"])} images in {time.time() - t0:.2f} s')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(summary_to_json(summary), f, indent=1)
        print(f'results written to {args.out}')


if __name__ == '__main__':
    main()
