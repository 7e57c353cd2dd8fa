"""A straightforward VPQ, written after the reference algorithm (mcahny/vps
``tools/eval_vpq.py``): for every window, stack the frames and ``np.unique``
the combined (gt, pred) ids of all pixels.  Used by the tests as an
independent definition and by ``video_eval_speed.py`` as the baseline.
Window areas are summed afresh (without the reference's dict aliasing)."""
from collections import defaultdict

import numpy as np

OFFSET = 2**32


def window_stats(gt_stack, pred_stack, gt_segms, pred_segms):
    """{category: [iou, tp, fp, fn]} of one window of stacked frames."""
    stat = defaultdict(lambda: [0.0, 0, 0, 0])
    keys, counts = np.unique(gt_stack.astype(np.uint64) * OFFSET + pred_stack.astype(np.uint64),
                             return_counts=True)
    pairs = {(int(k // OFFSET), int(k % OFFSET)): int(c) for k, c in zip(keys, counts)}
    pred_area = defaultdict(int)
    for (g, p), c in pairs.items():
        pred_area[p] += c
    gt_matched, pred_matched = set(), set()
    for (g, p), inter in pairs.items():
        if g not in gt_segms or p not in pred_segms or gt_segms[g]['iscrowd'] == 1:
            continue
        if gt_segms[g]['category_id'] != pred_segms[p]['category_id']:
            continue
        union = pred_area[p] + gt_segms[g]['area'] - inter - pairs.get((0, p), 0)
        iou = inter / union
        if iou > 0.5:
            s = stat[gt_segms[g]['category_id']]
            s[0] += iou
            s[1] += 1
            gt_matched.add(g)
            pred_matched.add(p)
    crowd = {}
    for g, info in gt_segms.items():
        if g in gt_matched:
            continue
        if info['iscrowd'] == 1:
            crowd[info['category_id']] = g
            continue
        stat[info['category_id']][3] += 1
    for p, info in pred_segms.items():
        if p in pred_matched:
            continue
        ignored = pairs.get((0, p), 0)
        if info['category_id'] in crowd:
            ignored += pairs.get((crowd[info['category_id']], p), 0)
        if ignored / pred_area[p] > 0.5:
            continue
        stat[info['category_id']][2] += 1
    return stat


def vpq_video(frames, k):
    """Accumulated {category: [iou, tp, fp, fn]} of one video for windows of k frames."""
    total = defaultdict(lambda: [0.0, 0, 0, 0])
    for start in range(0, len(frames) - k + 1):
        window = frames[start:start + k]
        gt_segms, pred_segms = {}, {}
        for _, gts, _, preds in window:
            for s in gts:
                e = gt_segms.setdefault(s['id'], dict(s, area=0))
                e['area'] += s['area']
            for s in preds:
                pred_segms.setdefault(s['id'], dict(s))
        stat = window_stats(np.stack([f[0] for f in window]), np.stack([f[2] for f in window]),
                            gt_segms, pred_segms)
        for cat, v in stat.items():
            t = total[cat]
            for i in range(4):
                t[i] += v[i]
    return total
