"""Pictures of a PQ evaluation: per-class PQ bars and the class confusion matrix.

matplotlib (already in the OpenMMLab stack) with the Agg backend, imported on
use so that the PQ CLI stays light when no picture is asked for.
"""
import os.path as osp
from typing import Dict, Mapping

import numpy as np


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_per_class_pq(summary: Dict, categories: Mapping[int, Mapping], path: str) -> str:
    """Horizontal bars of PQ per class (SQ x RQ stacked as text), worst first,
    things and stuff in two colours; written to ``path`` (PNG)."""
    plt = _pyplot()
    rows = sorted(((100 * summary['per_class'][c]['pq'], c) for c in categories
                   if c in summary['per_class']), key=lambda x: x[0])
    names = [str(categories[c].get('name', c)) for _, c in rows]
    values = [v for v, _ in rows]
    colors = ['#d95f02' if categories[c].get('isthing') else '#1b9e77' for _, c in rows]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.22 * len(rows) + 1)))
    ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), names, fontsize=7 if len(rows) > 40 else 9)
    ax.set_xlim(0, 100)
    ax.set_xlabel('PQ (%)')
    all_pq = summary['All']['pq'] * 100 if summary.get('All') else float('nan')
    ax.axvline(all_pq, color='k', lw=1, ls='--')
    ax.set_title(f'PQ per class (all: {all_pq:.1f}; orange: things, green: stuff)')
    for i, (v, c) in enumerate(rows):
        r = summary['per_class'][c]
        ax.text(min(v + 1, 80), i, f'SQ {100 * r["sq"]:.0f} RQ {100 * r["rq"]:.0f}',
                va='center', fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(confusion: Mapping[tuple, int], categories: Mapping[int, Mapping],
                   path: str) -> str:
    """Rows: gt class; columns: the class of the pred with the largest IoU with
    each gt segment ('none' when no pred overlaps it); row-normalised."""
    plt = _pyplot()
    cats = list(categories)
    index = {c: i for i, c in enumerate(cats)}
    m = np.zeros((len(cats), len(cats) + 1))
    for (g, p), n in confusion.items():
        if g in index:
            m[index[g], index.get(p, len(cats))] += n
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    names = [str(categories[c].get('name', c)) for c in cats]
    size = max(4, 0.25 * len(cats) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(norm, cmap='viridis', vmin=0, vmax=1)
    fs = 6 if len(cats) > 40 else 8
    ax.set_xticks(range(len(cats) + 1), names + ['none'], rotation=90, fontsize=fs)
    ax.set_yticks(range(len(cats)), names, fontsize=fs)
    ax.set_xlabel('predicted class (largest IoU)')
    ax.set_ylabel('ground-truth class')
    ax.set_title('class confusion of ground-truth segments (row-normalised)')
    fig.colorbar(im, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_pq_report(summary: Dict, categories: Mapping[int, Mapping], out_dir: str) -> list:
    """Both pictures into ``out_dir``; returns their paths."""
    paths = [plot_per_class_pq(summary, categories, osp.join(out_dir, 'pq_per_class.png'))]
    if 'errors' in summary:
        paths.append(plot_confusion(summary['errors'].confusion, categories,
                                    osp.join(out_dir, 'class_confusion.png')))
    return paths
