"""Panoptic-DeepLab grouping on synthetic fields whose grouping is known."""
import torch

from mmpanoptic.models.fusion.center_grouping import (
    find_centers,
    group_pixels,
    merge_semantic_and_instance,
)


def field_for(objects, h=20, w=30):
    """Exact offsets (pixel -> own object's center) and a Gaussian heatmap."""
    inst = torch.zeros((h, w), dtype=torch.long)
    offsets = torch.zeros((2, h, w))
    heat = torch.zeros((h, w))
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    for k, (y0, x0, y1, x1) in enumerate(objects, 1):
        inst[y0:y1, x0:x1] = k
        cy, cx = (y0 + y1 - 1) // 2, (x0 + x1 - 1) // 2
        m = inst == k
        offsets[0][m] = (cy - ys[m]).float()
        offsets[1][m] = (cx - xs[m]).float()
        heat = torch.maximum(heat, torch.exp(-((ys - cy)**2 + (xs - cx)**2) / 8.0))
    return inst, offsets, heat


def test_grouping_recovers_touching_instances():
    # Two boxes of one class that touch: only the offsets can separate them.
    inst, offsets, heat = field_for([(2, 2, 10, 12), (2, 12, 10, 22), (12, 5, 18, 9)])
    centers = find_centers(heat, threshold=0.5, nms_kernel=5)
    assert len(centers) == 3
    grouped = group_pixels(centers, offsets, inst > 0)
    # Same partition as the truth: a bijection between group and object ids.
    pairs = torch.unique(torch.stack([grouped.flatten(), inst.flatten()]), dim=1)
    assert pairs.shape[1] == 4 and set(pairs[0].tolist()) == {0, 1, 2, 3}


def test_majority_vote_and_stuff_area():
    inst, offsets, heat = field_for([(2, 2, 10, 12)])
    sem = torch.full((20, 30), 3)  # stuff label 3 (num_things = 2)
    sem[:, 25:] = 4  # a small stuff region (5 x 20 = 100 px)
    sem[2:10, 2:12] = 1
    sem[2:4, 2:12] = 0  # 20 of 80 instance pixels say class 0: outvoted
    centers = find_centers(heat, threshold=0.5)
    ids, segs = merge_semantic_and_instance(sem, group_pixels(centers, offsets, sem < 2),
                                            num_things=2, stuff_area=150)
    assert [(s['label'], s['isthing'], s['area']) for s in segs] == [(1, True, 80),
                                                                     (3, False, 420)]
    assert int((ids == 0).sum()) == 100  # the small stuff region stays VOID


def test_no_centers_leaves_things_void():
    sem = torch.zeros((4, 4), dtype=torch.long)
    grouped = group_pixels(torch.zeros((0, 2), dtype=torch.long), torch.zeros(2, 4, 4),
                           sem < 1)
    ids, segs = merge_semantic_and_instance(sem, grouped, num_things=1, stuff_area=1)
    assert segs == [] and int(ids.abs().sum()) == 0
