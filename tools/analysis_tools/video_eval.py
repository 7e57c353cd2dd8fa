"""VPQ and STQ of video panoptic predictions stored as per-frame PNGs.

    python tools/analysis_tools/video_eval.py --gt GT_DIR --pred PRED_DIR \\
        --categories categories.json --metrics vpq stq [--layout step|cityscapes-vps] \\
        [--window-frames 1 2 3 4] [--group "novel=red striped shape,blue dotted shape" ...] \
        [--out results.json]

Layouts and conventions: mmpanoptic/fileio/video_layouts.py and docs/evaluation.md.
"""
import argparse
import json
import sys
import time

from mmpanoptic.evaluation.files.video_eval import evaluate_video_dirs
from mmpanoptic.fileio import PanopticError, load_categories


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--gt', required=True, help='ground-truth directory')
    p.add_argument('--pred', required=True, help='prediction directory')
    p.add_argument('--categories', required=True, help='COCO-style list: id, name, isthing')
    p.add_argument('--metrics', nargs='+', choices=['vpq', 'stq'], default=['vpq', 'stq'])
    p.add_argument('--layout', choices=['step', 'cityscapes-vps'], default='step')
    p.add_argument('--window-frames', type=int, nargs='+', default=[1, 2, 3, 4],
                   help='VPQ window lengths in annotated frames')
    p.add_argument('--group', action='append', default=[], metavar='NAME=CLASS,CLASS',
                   help='also score a group of classes (VPQ over them, STQ on their pixels), '
                        'e.g. the novel classes of an open vocabulary; repeatable')
    p.add_argument('--out', help='write the results as JSON (fractions in [0, 1])')
    return p.parse_args(argv)


def _fmt(v):
    return '    -' if v is None else f'{100 * v:5.1f}'


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    groups = {}
    for spec in args.group:
        name, sep, classes = spec.partition('=')
        names = [c.strip() for c in classes.split(',') if c.strip()]
        if not sep or not name.strip() or not names:
            sys.exit(f'error: --group {spec!r}: expected NAME=CLASS,CLASS,...')
        groups[name.strip()] = names
    try:
        cats = load_categories(args.categories)
        result = evaluate_video_dirs(args.gt, args.pred, cats, metrics=args.metrics,
                                     layout=args.layout, window_frames=args.window_frames,
                                     class_groups=groups)
    except PanopticError as e:
        sys.exit(f'error: {e}')
    if 'vpq' in result:
        print(f'{"VPQ":8}{"frames":>7} |{"All":>7}{"Things":>8}{"Stuff":>7}')
        for k in [str(k) for k in args.window_frames] + ['mean']:
            r = result['vpq'][k]
            row = [(r[s] or {}).get('pq') for s in ('All', 'Things', 'Stuff')]
            print(f'{"":8}{k:>7} |  {_fmt(row[0])}   {_fmt(row[1])}  {_fmt(row[2])}')
    if 'stq' in result:
        s = result['stq']
        print(f'STQ {100 * s["stq"]:.2f}  AQ {100 * s["aq"]:.2f}  IoU {100 * s["iou"]:.2f}  '
              f'({len(s["per_sequence"])} sequences)')
    for name, g in result.get('groups', {}).items():
        parts = []
        if g['vpq'] is not None:
            parts.append(f'VPQ {_fmt(g["vpq"]["mean"]).strip()}')
        if g['stq'] is not None:
            parts.append(f'STQ {100 * g["stq"]["stq"]:.2f}  AQ {100 * g["stq"]["aq"]:.2f}  '
                         f'IoU {100 * g["stq"]["iou"]:.2f}')
        print(f'group {name}: ' + '  '.join(parts))
    print(f'evaluated in {time.time() - t0:.2f} s')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1, default=str)
        print(f'results written to {args.out}')


if __name__ == '__main__':
    main()
