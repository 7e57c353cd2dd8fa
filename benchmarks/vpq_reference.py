"""A straightforward VPQ, written after the reference algorithm (mcahny/vps
``tools/eval_vpq.py``): for every window, stack the frames and score the stack
like one image with panopticapi's per-image algorithm
(``panopticapi_baseline.image_stats``: ``np.unique`` over the combined ids of
all pixels).  Used by the tests as an independent definition and by
``video_eval_speed.py`` as the baseline.  Window areas are summed afresh
(without the reference's dict aliasing)."""
import numpy as np
from panopticapi_baseline import image_stats, new_stat


def vpq_video(frames, k):
    """Accumulated {category: [iou, tp, fp, fn]} of one video for windows of k frames."""
    total = new_stat()
    for start in range(0, len(frames) - k + 1):
        window = frames[start:start + k]
        gt_segms, pred_segms = {}, {}
        for _, gts, _, preds in window:
            for s in gts:
                e = gt_segms.setdefault(s['id'], dict(s, area=0))
                e['area'] += s['area']
            for s in preds:
                pred_segms.setdefault(s['id'], dict(s))
        image_stats(np.stack([f[0] for f in window]), np.stack([f[2] for f in window]),
                    dict(segments_info=list(gt_segms.values())),
                    dict(segments_info=list(pred_segms.values())), total)
    return total
