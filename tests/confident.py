"""Random weights made to behave like trained ones on a batch, so that a
comparison is between non-empty results (mmpanoptic.testing.reference)."""
import copy

import torch

from mmpanoptic.testing.reference import decisive_box_head, decisive_query_head


def make_confident(model, data, mask_scale=8.0):
    """Adjust ``model`` in place on ``data`` (a ``test_step`` batch): query
    models get distinct queries, sharp masks and confident classes; two-stage
    models a box classifier that keeps ~150 proposals and RoI mask logits
    scaled by ``mask_scale`` (far from the 0.5 threshold but at edges).
    Panoptic-DeepLab gets a semantic classifier whose argmax changes across
    the image and a center heatmap with a few peaks above its threshold."""
    if hasattr(model, 'roi_head'):
        decisive_box_head(model, data)
        with torch.no_grad():
            for p in model.roi_head.mask_head.conv_logits.parameters():
                p.mul_(mask_scale)
    elif hasattr(model, 'panoptic_head') and hasattr(model.panoptic_head, 'cls_embed'):
        decisive_query_head(model, data)
    elif hasattr(model, 'decode_head') and hasattr(model.decode_head, 'center_predictor'):
        _decisive_center_head(model, data)
    return model


def _decisive_center_head(model, data, sem_spread=6.0, center_fraction=0.01):
    head = model.decode_head
    sem_conv, center_conv = head.semantic_predictor[-1], head.center_predictor[-1]
    captured = {}
    hooks = [sem_conv.register_forward_hook(lambda m, i, o: captured.update(sem=i[0])),
             center_conv.register_forward_hook(lambda m, i, o: captured.update(center=i[0]))]
    try:
        with torch.no_grad():
            batch = model.data_preprocessor(copy.deepcopy(data), False)
            model.predict_outputs(batch['inputs'], batch['data_samples'])
    finally:
        for h in hooks:
            h.remove()
    with torch.no_grad():
        x = captured['sem']
        out = sem_conv(x)
        mean = out.mean((0, 2, 3))
        sem_conv.bias.sub_(mean)
        scale = sem_spread / (out - mean[:, None, None]).std().clamp(min=1e-6)
        sem_conv.weight.mul_(scale)
        sem_conv.bias.mul_(scale)
        c = center_conv(captured['center'])
        center_conv.bias.sub_(c.mean())
        scale = 1.0 / c.std().clamp(min=1e-6)
        center_conv.weight.mul_(scale)
        center_conv.bias.mul_(scale)
        c = center_conv(captured['center'])
        thr = float(getattr(model.fusion, 'center_threshold', 0.1))
        center_conv.bias.add_(thr + 0.3 - float(c.flatten().quantile(1 - center_fraction)))


def segments_of(sample):
    """The ``segments_info`` of a predicted data sample."""
    return sample.pred_panoptic_seg.metainfo['segments_info']


def canonical_panoptic(sample_or_ids, segments=None):
    """``(ids, labels)`` of a predicted sample (or of an id map and its
    segments) with segment ids renumbered in the order their first pixel
    appears (raster order), so that two results that list the same segments
    in another order compare equal."""
    import numpy as np
    if segments is None:
        ids = np.asarray(sample_or_ids.pred_panoptic_seg.sem_seg[0])
        segments = segments_of(sample_or_ids)
    else:
        ids = np.asarray(sample_or_ids)
    label_of = {s['id']: s['label'] for s in segments}
    uniq, first = np.unique(ids.ravel(), return_index=True)
    order = [u for u in uniq[np.argsort(first)] if u != 0]
    remap = np.zeros(int(ids.max()) + 1, np.int64)
    remap[order] = np.arange(1, len(order) + 1)
    labels = np.full(ids.shape, -1, np.int64)
    for sid, label in label_of.items():
        labels[ids == sid] = label
    return remap[ids], labels
