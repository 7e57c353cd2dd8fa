"""The shared mask-classification inference against mmdet and hand cases."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.seg_heads.panoptic_fusion_heads import MaskFormerFusionHead
from mmengine.config import ConfigDict

from mmpanoptic.models.fusion import (
    MaskClassificationFusion,
    instances_from_queries,
    keep_queries,
    panoptic_from_queries,
    semantic_from_queries,
)


def random_queries(seed, *, q=30, things=5, stuff=4, h=37, w=53, confident=0.6):
    """Peaked class logits for a share of the queries, blob-like mask logits."""
    g = torch.Generator().manual_seed(seed)
    c = things + stuff
    cls = torch.randn(q, c + 1, generator=g)
    sure = torch.rand(q, generator=g) < confident
    best = torch.randint(0, c, (q,), generator=g)
    cls[sure, best[sure]] += 6.0 + 3 * torch.rand(int(sure.sum()), generator=g)
    # One disc per query (random centre and radius) plus smooth noise, so
    # queries overlap partly and some own most of their mask.
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    cy, cx = torch.rand(q, 1, 1, generator=g) * h, torch.rand(q, 1, 1, generator=g) * w
    r = 3 + torch.rand(q, 1, 1, generator=g) * min(h, w) / 5
    disc = 4 * (1 - ((yy - cy)**2 + (xx - cx)**2) / r**2)
    noise = F.interpolate(torch.randn(q, 1, 5, 7, generator=g), size=(h, w),
                          mode='bilinear', align_corners=False)[:, 0]
    masks = disc.clamp(min=-8) + noise
    return cls, masks


def mmdet_panoptic(cls, masks, things, stuff, **test_cfg):
    head = MaskFormerFusionHead(num_things_classes=things, num_stuff_classes=stuff,
                                test_cfg=ConfigDict(test_cfg))
    return head.panoptic_postprocess(cls, masks).sem_seg[0]


def ours_panoptic(cls, masks, things, stuff, object_mask_thr=0.8, iou_thr=0.8,
                  filter_low_score=False, band_bytes=2**21):
    keep, scores, labels = keep_queries(cls, num_classes=things + stuff,
                                        object_mask_thr=object_mask_thr)
    return panoptic_from_queries(scores, labels, masks, keep=keep,
                                 num_things=things, iou_thr=iou_thr, band_bytes=band_bytes,
                                 filter_low_score=filter_low_score)


def assert_same_partition(ids, segments, mm, num_classes):
    """Same VOID, a bijection between segments, and the same labels."""
    assert torch.equal(ids == 0, mm == num_classes)
    pairs = torch.unique(torch.stack([ids.long().flatten(), mm.long().flatten()]), dim=1)
    assert pairs.shape[1] == len(torch.unique(ids)) == len(torch.unique(mm))
    label_of = {s['id']: s['label'] for s in segments}
    for ours, theirs in pairs.t().tolist():
        if ours:
            assert label_of[ours] == theirs % INSTANCE_OFFSET
    areas = torch.bincount(ids.flatten().long())
    assert all(areas[s['id']] == s['area'] for s in segments)
    assert sorted(s['id'] for s in segments) == list(range(1, len(segments) + 1))


@pytest.mark.parametrize('seed', range(12))
@pytest.mark.parametrize('cfg', [
    dict(object_mask_thr=0.8, iou_thr=0.8),
    dict(object_mask_thr=0.5, iou_thr=0.3),
    dict(object_mask_thr=0.8, iou_thr=0.8, filter_low_score=True),
])
def test_panoptic_matches_mmdet(seed, cfg):
    cls, masks = random_queries(seed)
    mm = mmdet_panoptic(cls, masks, 5, 4, **cfg)
    ids, segments = ours_panoptic(cls, masks, 5, 4, **cfg)
    assert len(segments) > 2  # the random case is not trivially empty
    assert_same_partition(ids, segments, mm, 9)
    # Bands of a few rows (one row here) give the same map as one band.
    ids_banded, segments_banded = ours_panoptic(cls, masks, 5, 4, **cfg, band_bytes=1)
    assert torch.equal(ids_banded, ids) and segments_banded == segments


def test_panoptic_no_confident_query_is_all_void():
    cls, masks = random_queries(0, confident=0.0)
    cls[:, -1] += 20  # everything "no object"
    ids, segments = ours_panoptic(cls, masks, 5, 4)
    assert segments == [] and int(ids.abs().sum()) == 0
    assert_same_partition(ids, segments, mmdet_panoptic(cls, masks, 5, 4), 9)


def test_panoptic_hand_case_stuff_merge_and_overlap():
    # 3 queries on a 2x4 image: two stuff queries of class 3 (merged into
    # one segment), one thing query hidden by a stronger one (dropped).
    big, small = 9.0, -9.0
    masks = torch.full((4, 2, 4), small)
    masks[0, :, :2] = big          # thing label 0, owns the left half
    masks[1, 0, 2:] = big          # stuff 3, top right
    masks[2, 1, 2:] = big          # stuff 3, bottom right
    masks[3, :, :2] = big          # thing label 1, same pixels, lower score
    scores = torch.tensor([0.95, 0.9, 0.85, 0.9])
    labels = torch.tensor([0, 3, 3, 1])
    ids, segs = panoptic_from_queries(scores, labels, masks, num_things=2)
    assert ids.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]
    assert [(s['label'], s['isthing'], s['area'], s['score']) for s in segs] == [
        (0, True, 4, pytest.approx(0.95)), (3, False, 4, pytest.approx(0.9))]


def test_keep_queries_checks_the_class_count():
    with pytest.raises(ValueError, match='num_classes \\+ 1 = 10'):
        keep_queries(torch.zeros(3, 12), num_classes=9, object_mask_thr=0.5)


def test_semantic_is_the_mask_classification_sum():
    cls, masks = random_queries(3, q=6, h=4, w=5)
    sem = semantic_from_queries(cls, masks)
    probs = cls.softmax(-1)[:, :-1]
    explicit = torch.zeros(9, 4, 5)
    for q in range(6):
        for c in range(9):
            explicit[c] += probs[q, c] * masks[q].sigmoid()
    assert torch.allclose(sem, explicit, atol=1e-6)


@pytest.mark.parametrize('seed', range(3))
def test_instances_match_mmdet(seed):
    cls, masks = random_queries(seed)
    head = MaskFormerFusionHead(num_things_classes=5, num_stuff_classes=4,
                                test_cfg=ConfigDict(max_per_image=30))
    theirs = head.instance_postprocess(cls, masks)
    ours = instances_from_queries(cls, masks, num_things=5, max_per_image=30)
    for key in ('scores', 'labels', 'bboxes', 'masks'):
        assert torch.equal(ours[key], theirs[key]), key


def test_fusion_module_rescales_and_crops_padding():
    cls, masks = random_queries(5, q=20, h=32, w=32)
    fusion = MaskClassificationFusion(num_things=5, num_stuff=4, semantic_on=True,
                                      instance_on=True, object_mask_thr=0.5)
    meta = dict(img_shape=(30, 28), ori_shape=(60, 56), batch_input_shape=(32, 32))
    out = fusion(dict(cls_logits=cls[None], mask_logits=masks[None]), [meta])[0]
    ids, segments = out['panoptic']
    assert ids.shape == (60, 56) and ids.dtype == torch.int32 and segments
    assert out['semantic'].sem_seg.shape == (1, 60, 56)
    assert out['instances'].masks.shape[-2:] == (60, 56)
    # The same as mmdet's order of operations: crop, resize all, post-process.
    full = F.interpolate(masks[None, :, :30, :28], size=(60, 56), mode='bilinear',
                         align_corners=False)[0]
    mm = mmdet_panoptic(cls, full, 5, 4, object_mask_thr=0.5)
    assert_same_partition(ids, segments, mm, 9)
    # Masks at a quarter of the input are resized to the padded input first.
    small = F.interpolate(masks[None], size=(8, 8), mode='bilinear', align_corners=False)
    ids_small, _ = fusion(dict(cls_logits=cls[None], mask_logits=small), [meta])[0]['panoptic']
    assert ids_small.shape == (60, 56)
