"""Loss and metric curves of one or more training runs.

    python tools/analysis_tools/analyze_logs.py WORK_DIR [WORK_DIR ...] \\
        [--losses loss loss_cls ...] [--metrics panoptic/PQ ...] [--out curves.png]
        [--legend NAME ...] [--smooth 1]

WORK_DIR is a training work dir (the latest ``<timestamp>/vis_data/scalars.json``
in it is read) or a ``scalars.json`` file.  By default every ``loss*`` key is
plotted against the iteration and every ``*/PQ*`` metric against the
iteration of the validation; a summary (last loss, best value of each metric
and where) is printed.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Tuple


def find_scalars(path: str) -> str:
    if osp.isfile(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        sys.exit(f'error: no */vis_data/scalars.json in {path} (is it a work dir?)')
    return found[-1]


def read_scalars(path: str) -> Tuple[List[Dict], List[Dict]]:
    """Training records (with ``iter``) and validation records (metric keys
    ``prefix/name``, given the iteration of the last training record)."""
    train, val = [], []
    last_iter = 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f'error: {path} line {n} is not JSON: {e}')
            if any('/' in k for k in rec):
                val.append(dict(rec, iter=last_iter))
            elif 'iter' in rec or 'step' in rec:
                last_iter = rec.get('iter', rec.get('step'))
                train.append(dict(rec, iter=last_iter))
    return train, val


def _smooth(values, k):
    if k <= 1:
        return values
    out, acc = [], []
    for v in values:
        acc.append(v)
        acc = acc[-k:]
        out.append(sum(acc) / len(acc))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('runs', nargs='+', help='work dirs or scalars.json files')
    p.add_argument('--losses', nargs='+', help='training keys (default: every loss*)')
    p.add_argument('--metrics', nargs='+', help='validation keys (default: every */PQ*)')
    p.add_argument('--legend', nargs='+', help='one name per run')
    p.add_argument('--smooth', type=int, default=1, help='moving average over N records')
    p.add_argument('--out', default='curves.png', help='picture to write')
    args = p.parse_args(argv)
    if args.legend and len(args.legend) != len(args.runs):
        sys.exit('error: --legend needs one name per run')

    runs = []
    for k, path in enumerate(args.runs):
        scalars = find_scalars(path)
        train, val = read_scalars(scalars)
        name = args.legend[k] if args.legend else osp.basename(osp.normpath(path))
        runs.append((name, scalars, train, val))
        losses = args.losses or sorted({k for r in train for k in r if k.startswith('loss')})
        metrics = args.metrics or sorted({k for r in val for k in r
                                          if '/' in k and k.split('/')[-1].startswith('PQ')})
        print(f'{name}: {scalars}: {len(train)} training records, {len(val)} validations')
        for key in losses:
            pts = [r[key] for r in train if key in r]
            if pts:
                print(f'  {key:24s} first {pts[0]:.4f}  last {pts[-1]:.4f}')
        for key in metrics:
            pts = [(r[key], r['iter']) for r in val if key in r]
            if pts:
                best = max(pts)
                print(f'  {key:24s} last {pts[-1][0]:.2f}  best {best[0]:.2f} at iter {best[1]}')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax_l, ax_m) = plt.subplots(1, 2, figsize=(13, 4.5))
    for name, _, train, val in runs:
        losses = args.losses or sorted({k for r in train for k in r if k.startswith('loss')})
        metrics = args.metrics or sorted({k for r in val for k in r
                                          if '/' in k and k.split('/')[-1].startswith('PQ')})
        for key in losses:
            pts = [(r['iter'], r[key]) for r in train if key in r]
            if pts:
                ax_l.plot([x for x, _ in pts], _smooth([y for _, y in pts], args.smooth),
                          label=f'{name} {key}' if len(runs) > 1 else key, lw=1)
        for key in metrics:
            pts = [(r['iter'], r[key]) for r in val if key in r]
            if pts:
                ax_m.plot([x for x, _ in pts], [y for _, y in pts], marker='o', ms=3,
                          label=f'{name} {key}' if len(runs) > 1 else key)
    ax_l.set_xlabel('iteration')
    ax_l.set_title('training losses')
    ax_l.set_yscale('log')
    ax_m.set_xlabel('iteration')
    ax_m.set_title('validation metrics (%)')
    for ax in (ax_l, ax_m):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
