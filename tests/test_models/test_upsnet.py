"""UPSNet: the panoptic head's pieces on hand-made cases, the model end to end."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmpanoptic.models.criteria import UPSNetPanopticLoss, upsnet_panoptic_targets
from mmpanoptic.models.fusion.upsnet_panoptic import (
    compose_panoptic_logits,
    panoptic_from_composed,
    paste_mask_logits,
    remove_overlapping,
)
from mmpanoptic.registry import MODELS

from .test_query_configs import tiny_batch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# A 4 x 6 image, 2 thing classes (0, 1) and 1 stuff class (2).
#   instance A: class 0, box x 0..3, y 0..4 (columns 0-2, all rows)
#   instance B: class 1, box x 2..6, y 0..2 (columns 2-5, rows 0-1)
H, W = 4, 6
BOXES = torch.tensor([[0., 0., 3., 4.], [2., 0., 6., 2.]])
LABELS = torch.tensor([0, 1])


def two_instance_case():
    sem = torch.zeros(3, H, W)
    sem[0] = 1.0  # thing class 0 everywhere
    sem[1, :, 3:] = 3.0  # thing class 1 strong on the right
    sem[2] = 0.5  # the stuff class
    masks = torch.zeros(2, H, W)
    masks[0, :, 0:2] = 2.0  # A's mask logits: confident on columns 0-1...
    masks[0, :, 2] = -2.0  # ...not on column 2
    masks[1, 0:2, 2:6] = 1.0  # B's mask logits inside its box
    return sem, masks


def test_composed_logits_and_unknown_channel_by_hand():
    sem, masks = two_instance_case()
    out = compose_panoptic_logits(sem, masks, BOXES, LABELS, num_things=2)
    assert out.shape == (1 + 2 + 1, H, W)  # [stuff, A, B, unknown]
    # Hand values (stuff, A, B, unknown) at a few pixels:
    #  (0, 0): A = X0 + M_A = 1 + 2; unknown = max(1, 0) - max(1, 0) = 0
    assert out[:, 0, 0].tolist() == [0.5, 3.0, 0.0, 0.0]
    #  (0, 2): both boxes; A = 1 - 2; B = X1 (0 here) + 1; unknown = 1 - max(1, 0)
    assert out[:, 0, 2].tolist() == [0.5, -1.0, 1.0, 0.0]
    #  (0, 4): only B; B = 3 + 1; unknown = max(1, 3) - max(0, 3) = 0
    assert out[:, 0, 4].tolist() == [0.5, 0.0, 4.0, 0.0]
    #  (3, 4): no box covers it but the semantic head says thing 1 (3.0):
    #  instances are 0 there, unknown = 3 - 0 wins -> the pixel is unknown.
    assert out[:, 3, 4].tolist() == [0.5, 0.0, 0.0, 3.0]
    #  (3, 2): A's box, weak mask; stuff wins.
    assert out[:, 3, 2].tolist() == [0.5, -1.0, 0.0, 0.0]


def test_composed_logits_equal_per_pixel_definition():
    """Every pixel of random inputs against the definition written out."""
    g = torch.Generator().manual_seed(0)
    c, t, n, h, w = 7, 4, 5, 12, 15
    sem = torch.randn(c, h, w, generator=g)
    boxes = torch.tensor([[0, 0, 5, 5], [3, 2, 15, 9], [7, 7, 12, 12], [1, 6, 4, 12],
                          [10, 0, 15, 3]], dtype=torch.float32)
    labels = torch.randint(0, t, (n,), generator=g)
    masks = torch.randn(n, h, w, generator=g)
    for i, (x0, y0, x1, y1) in enumerate(boxes.long().tolist()):
        inside = torch.zeros(h, w, dtype=torch.bool)
        inside[y0:y1, x0:x1] = True
        masks[i][~inside] = 0  # pasted masks are 0 outside their box
    out = compose_panoptic_logits(sem, masks, boxes, labels, num_things=t)
    for y in range(h):
        for x in range(w):
            inside = [(b[0] <= x < b[2]) and (b[1] <= y < b[3]) for b in boxes.tolist()]
            inst_sem = [float(sem[labels[i], y, x]) if inside[i] else 0.0 for i in range(n)]
            expect = [float(v) for v in sem[t:, y, x]]
            expect += [inst_sem[i] + float(masks[i, y, x]) for i in range(n)]
            expect.append(float(sem[:t, y, x].max()) - max(inst_sem))
            assert np.allclose(out[:, y, x].tolist(), expect, atol=1e-6), (y, x)


def test_no_instances_gives_stuff_and_unknown_only():
    sem, _ = two_instance_case()
    out = compose_panoptic_logits(sem, torch.zeros(0, H, W), torch.zeros(0, 4),
                                  torch.zeros(0, dtype=torch.long), num_things=2)
    assert out.shape == (2, H, W)
    assert torch.equal(out[1], sem[:2].max(0).values)  # unknown = max thing logit


def test_compose_rejects_stuff_label_for_instance():
    sem, masks = two_instance_case()
    with pytest.raises(ValueError, match='thing classes'):
        compose_panoptic_logits(sem, masks, BOXES, torch.tensor([0, 2]), num_things=2)


def test_argmax_to_segments_and_void():
    sem, masks = two_instance_case()
    out = compose_panoptic_logits(sem, masks, BOXES, LABELS, num_things=2)
    ids, segs = panoptic_from_composed(out, LABELS, torch.tensor([0.9, 0.8]), num_things=2,
                                       stuff_area_limit=1)
    by_id = {s['id']: s for s in segs}
    lab = {k: (by_id[k]['label'] if k else None) for k in ids.unique().tolist()}
    # A wins columns 0-1 (8 px), B wins (0..1, 2..5) (8 px), unknown wins the
    # right of rows 2-3 (thing 1 with no box), stuff wins (2..3, 2).
    assert lab[int(ids[0, 0])] == 0 and lab[int(ids[0, 2])] == 1
    assert int(ids[3, 4]) == 0 and int(ids[2, 5]) == 0  # unknown -> VOID
    assert lab[int(ids[3, 2])] == 2
    assert sorted((s['label'], s['area']) for s in segs) == [(0, 8), (1, 8), (2, 2)]
    # A stuff limit above its area turns the stuff VOID too.
    _, segs = panoptic_from_composed(out, LABELS, torch.tensor([0.9, 0.8]), num_things=2,
                                     stuff_area_limit=3)
    assert sorted(s['label'] for s in segs) == [0, 1]


def test_paste_mask_logits_resizes_into_box_and_zero_outside():
    logits = torch.arange(4.).reshape(1, 2, 2)
    out = paste_mask_logits(logits, torch.tensor([[1., 2., 5., 6.]]), (8, 8))
    expect = F.interpolate(logits[None], size=(4, 4), mode='bilinear', align_corners=False)[0]
    assert torch.equal(out[0, 2:6, 1:5], expect[0])
    outside = torch.ones(8, 8, dtype=torch.bool)
    outside[2:6, 1:5] = False
    assert out[0][outside].abs().sum() == 0
    # A box hanging over the border keeps the part inside the image.
    out = paste_mask_logits(logits, torch.tensor([[-2., -2., 2., 2.]]), (8, 8))
    assert torch.equal(out[0, :2, :2], expect[0, 2:, 2:])


def test_paste_is_differentiable():
    logits = torch.randn(2, 7, 7, requires_grad=True)
    paste_mask_logits(logits, BOXES, (H, W)).sum().backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_panoptic_targets_unknown_for_dropped_instances():
    sem = torch.tensor([[2, 2, 0, 0],
                        [2, 1, 1, 255],
                        [3, 0, 0, 1]])  # 2 things, stuff 2, 3
    a = sem == 0
    a[2] = False  # the bottom 0s are a second instance of class 0
    b = sem == 1
    b[2, 3] = False  # class 1 pixel with no instance: crowd
    dropped = torch.zeros_like(a)
    dropped[2, 1:3] = True
    t = upsnet_panoptic_targets(sem, torch.stack([a, b]), dropped[None], num_things=2,
                                num_stuff=2)
    # stuff 2 -> 0, stuff 3 -> 1, kept A -> 2, kept B -> 3, dropped -> unknown 4
    assert t.tolist() == [[0, 0, 2, 2],
                          [0, 3, 3, 255],
                          [1, 4, 4, 255]]


def test_remove_overlapping_in_score_order():
    m = torch.zeros(3, 4, 4, dtype=torch.bool)
    m[0, :2, :2] = True  # 4 px
    m[1, :2, :4] = True  # 8 px, half covered by m[0]
    m[2, 2:, :] = True  # disjoint
    keep = remove_overlapping(m, torch.tensor([0.9, 0.8, 0.7]), overlap_thr=0.3)
    assert keep.tolist() == [0, 2]
    keep = remove_overlapping(m, torch.tensor([0.9, 0.8, 0.7]), overlap_thr=0.6)
    assert keep.tolist() == [0, 1, 2]
    keep = remove_overlapping(m, torch.tensor([0.5, 0.8, 0.7]), overlap_thr=0.3)
    assert keep.tolist() == [1, 2]  # m[0] is fully inside the better m[1]


def test_split_kept_fraction_and_loss_ignores_void():
    head = UPSNetPanopticLoss(box_keep_fraction=0.7, loss_weight=1.0)
    kept, dropped = head.split_kept(10)
    assert len(kept) == 7 and len(dropped) == 3
    assert sorted(kept.tolist() + dropped.tolist()) == list(range(10))
    assert len(head.split_kept(1)[0]) == 1  # a lone instance is always kept
    logits = torch.randn(4, 3, 3)
    target = torch.full((3, 3), 255)
    target[0, 0] = 2
    loss = head([logits], [target])
    assert torch.isclose(loss, F.cross_entropy(logits[:, 0, 0][None], torch.tensor([2])))
    with pytest.raises(ValueError, match='box_keep_fraction'):
        UPSNetPanopticLoss(box_keep_fraction=0)


def _shrunk(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.backbone.init_cfg = None
    return cfg


@pytest.mark.parametrize('config', [
    'configs/upsnet/upsnet_r18_fpn_toy.py',
    'configs/upsnet/upsnet_r50_fpn_1x_coco-panoptic.py',
    'configs/upsnet/upsnet_r50_fpn_12k_cityscapes-panoptic.py',
])
def test_config_trains_one_step_and_predicts(config, monkeypatch):
    monkeypatch.chdir(ROOT)
    torch.manual_seed(0)
    cfg = _shrunk(config)
    model = MODELS.build(cfg.model)
    things, stuff = cfg.num_things_classes, cfg.num_stuff_classes
    inputs, samples = tiny_batch(things, stuff)
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_sem_seg', 'loss_panoptic', 'loss_mask', 'loss_rpn_cls'} <= set(losses)
    total, _ = model.parse_losses(losses)  # RPN losses are lists over levels
    assert torch.isfinite(total)
    total.backward()
    head = model.semantic_head.subnet[0].conv
    assert type(head).__name__ == 'ModulatedDeformConv2dPack'  # mmcv's compiled op
    assert head.weight.grad is not None
    model.eval()
    model.fusion.score_thr = 0.0  # an untrained model: keep whatever it detects
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    ids = out[0].pred_panoptic_seg.sem_seg
    assert ids.shape == (1, 64, 64)
    known = {s['id'] for s in out[0].pred_panoptic_seg.segments_info} | {0}
    assert set(ids.unique().tolist()) <= known


def test_empty_ground_truth_and_odd_size(monkeypatch):
    """No instance in the batch, a 200x249 image padded to 224x256."""
    monkeypatch.chdir(ROOT)
    cfg = _shrunk('configs/upsnet/upsnet_r18_fpn_toy.py')
    model = MODELS.build(cfg.model)
    inputs, samples = tiny_batch(4, 4, size=64)
    for s in samples:
        s.gt_instances = s.gt_instances[:0]
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert torch.isfinite(losses['loss_panoptic']) and torch.isfinite(losses['loss_sem_seg'])
    from mmdet.structures import DetDataSample
    model.eval()
    sample = DetDataSample(metainfo=dict(img_shape=(200, 249), ori_shape=(100, 125),
                                         scale_factor=(249 / 125, 2.0), img_id=0))
    data = model.data_preprocessor(dict(inputs=[torch.randint(0, 255, (3, 200, 249),
                                                              dtype=torch.uint8)],
                                        data_samples=[sample]), False)
    assert tuple(data['inputs'].shape[-2:]) == (224, 256)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    assert out[0].pred_panoptic_seg.sem_seg.shape == (1, 100, 125)
