"""Panoptic-DeepLab: targets and losses by hand, the model end to end."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from mmpanoptic.models.criteria.panoptic_deeplab_criterion import (
    bootstrapped_cross_entropy,
    center_offset_targets,
)
from mmpanoptic.models.fusion.center_grouping import (
    find_centers,
    group_pixels,
    merge_semantic_and_instance,
    upsample_predictions,
)
from mmpanoptic.registry import MODELS

from .test_query_configs import tiny_batch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def scene():
    """24 x 32: stuff 2 everywhere, two class-0 squares, one class-1 crowd, VOID row."""
    h, w = 24, 32
    sem = np.full((h, w), 2, np.int64)
    a = np.zeros((h, w), np.uint8)
    a[2:9, 3:10] = 1  # 7 x 7, center of mass (5, 6)
    b = np.zeros((h, w), np.uint8)
    b[12:16, 20:28] = 1  # 4 x 8, center of mass (13.5, 23.5) -> rounded (14, 24)
    crowd = np.zeros((h, w), np.uint8)
    crowd[18:22, 2:6] = 1
    sem[a > 0] = 0
    sem[b > 0] = 0
    sem[crowd > 0] = 1
    sem[23] = 255
    s = DetDataSample(metainfo=dict(img_id=7))
    s.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(sem[None]))
    s.gt_instances = InstanceData(masks=BitmapMasks(np.stack([a, b]), h, w),
                                  labels=torch.tensor([0, 0]))
    s.ignored_instances = InstanceData(masks=BitmapMasks(crowd[None], h, w),
                                       labels=torch.tensor([1]))
    return s, sem, a.astype(bool), b.astype(bool), crowd.astype(bool)


def test_targets_by_hand():
    s, sem, a, b, crowd = scene()
    t = center_offset_targets(s, sigma=2.0, small_instance_area=40, small_instance_weight=3.0)
    c = t['center'][0]
    assert float(c[5, 6]) == 1.0 and float(c[14, 24]) == 1.0  # peaks at the rounded centers
    assert math.isclose(float(c[5, 7]), math.exp(-1 / 8), rel_tol=1e-6)  # 1 px away, sigma 2
    assert float(c[5, 6 + 7]) == 0.0  # beyond 3 sigma (6 px): cut, as the reference
    # Offsets point from each instance pixel to its center; 0 elsewhere.
    assert t['offset'][:, 2, 3].tolist() == [3.0, 3.0]
    assert t['offset'][:, 12, 27].tolist() == [2.0, -3.0]
    assert torch.equal(t['offset_weight'][0].bool(), torch.from_numpy(a | b))
    assert t['offset'][:, ~torch.from_numpy(a | b)].abs().sum() == 0
    # Center loss ignores VOID and crowd pixels.
    cw = t['center_weight'][0].bool()
    assert not cw[23].any() and not cw[torch.from_numpy(crowd)].any()
    assert int(cw.sum()) == 24 * 32 - 32 - int(crowd.sum())
    # Semantic weights: b (32 px) is small (< 40), a (49 px) is not.
    sw = t['sem_weight']
    assert torch.all(sw[torch.from_numpy(b)] == 3.0) and torch.all(sw[torch.from_numpy(a)] == 1)
    assert torch.equal(t['sem'], torch.from_numpy(sem))


def test_perfect_predictions_group_back_to_the_ground_truth():
    """Targets fed to the post-processing give exactly the gt partition."""
    s, sem, a, b, crowd = scene()
    t = center_offset_targets(s, sigma=2.0)
    sem_t = torch.from_numpy(np.where(sem == 255, 2, sem))
    centers = find_centers(t['center'][0], threshold=0.5, nms_kernel=3)
    assert sorted(centers.tolist()) == [[5, 6], [14, 24]]
    inst = group_pixels(centers, t['offset'], sem_t == 0)
    ids, segs = merge_semantic_and_instance(sem_t, inst, num_things=2, stuff_area=1)
    # The crowd (thing class 1, no center) stays VOID like VOID itself.
    assert sorted((x['label'], x['area']) for x in segs) == [(0, 32), (0, 49), (2, 671)]
    by_area = {x['area']: x['id'] for x in segs}
    assert torch.equal(ids == by_area[49], torch.from_numpy(a))
    assert torch.equal(ids == by_area[32], torch.from_numpy(b))
    assert not ids[torch.from_numpy(crowd)].any()


def test_bootstrapped_ce_is_the_mean_of_the_hardest_pixels():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 6, 7, generator=g)
    target = torch.randint(0, 5, (2, 6, 7), generator=g)
    target[0, 0] = 255
    weight = torch.ones(2, 6, 7)
    weight[1, 2] = 3.0
    per_pixel = F.cross_entropy(logits, target, ignore_index=255, reduction='none') * weight
    valid = per_pixel[target != 255]
    k = round(0.25 * valid.numel())
    expect = valid.sort(descending=True).values[:k].mean()
    got = bootstrapped_cross_entropy(logits, target, weight, top_k=0.25)
    assert torch.isclose(got, expect)
    assert torch.isclose(bootstrapped_cross_entropy(logits, target, weight, top_k=1.0),
                         valid.mean())
    all_void = torch.full_like(target, 255)
    assert bootstrapped_cross_entropy(logits, all_void, weight) == 0
    with pytest.raises(ValueError, match='top_k'):
        bootstrapped_cross_entropy(logits, target, weight, top_k=0)


def test_upsample_scales_offsets_with_the_grid():
    out = dict(sem=torch.zeros(1, 3, 4, 5), center=torch.zeros(1, 1, 4, 5),
               offset=torch.ones(1, 2, 4, 5))
    up = upsample_predictions(out, (16, 10))
    assert up['sem'].shape == (1, 3, 16, 10)
    assert torch.allclose(up['offset'][0, 0], torch.full((16, 10), 4.0))  # rows x4
    assert torch.allclose(up['offset'][0, 1], torch.full((16, 10), 2.0))  # columns x2


def test_group_pixels_chunks_do_not_change_the_result():
    g = torch.Generator().manual_seed(1)
    centers = torch.randint(0, 40, (9, 2), generator=g)
    offsets = torch.randn(2, 40, 40, generator=g) * 5
    mask = torch.rand(40, 40, generator=g) > 0.3
    assert torch.equal(group_pixels(centers, offsets, mask),
                       group_pixels(centers, offsets, mask, chunk=37))


def _cfg(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.backbone.init_cfg = None
    return cfg


@pytest.mark.parametrize('config', [
    'configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py',
    'configs/panoptic_deeplab/panoptic-deeplab_r50_os16_90k_cityscapes-panoptic.py',
    'configs/panoptic_deeplab/panoptic-deeplab_r50_os16_200k_coco-panoptic.py',
])
def test_config_trains_one_step_and_predicts(config, monkeypatch):
    monkeypatch.chdir(ROOT)
    torch.manual_seed(0)
    cfg = _cfg(config)
    model = MODELS.build(cfg.model)
    inputs, samples = tiny_batch(cfg.num_things_classes, cfg.num_stuff_classes)
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'loss_sem', 'loss_center', 'loss_offset'}
    total = sum(losses.values())
    assert torch.isfinite(total) and total > 0
    total.backward()
    assert all(p.grad is not None for p in model.decode_head.parameters() if p.requires_grad)
    model.eval()
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    ids = out[0].pred_panoptic_seg.sem_seg
    assert ids.shape == (1, 64, 64)
    known = {s['id'] for s in out[0].pred_panoptic_seg.segments_info} | {0}
    assert set(ids.unique().tolist()) <= known


def test_empty_ground_truth_and_odd_size(monkeypatch):
    monkeypatch.chdir(ROOT)
    model = MODELS.build(_cfg('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py').model)
    inputs, samples = tiny_batch(4, 4)
    for s in samples:
        s.gt_instances = s.gt_instances[:0]
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert losses['loss_offset'] == 0 and torch.isfinite(losses['loss_center'])
    model.eval()
    sample = DetDataSample(metainfo=dict(img_shape=(200, 249), ori_shape=(100, 125),
                                         scale_factor=(249 / 125, 2.0), img_id=0))
    data = model.data_preprocessor(dict(inputs=[torch.randint(0, 255, (3, 200, 249),
                                                              dtype=torch.uint8)],
                                        data_samples=[sample]), False)
    with torch.no_grad():
        out = model.predict(data['inputs'], data['data_samples'])
    assert out[0].pred_panoptic_seg.sem_seg.shape == (1, 100, 125)
