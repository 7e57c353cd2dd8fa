"""Query models on hostile inputs; the criterion and K-Net's kernels by hand."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from mmpanoptic.models.criteria import MaskSetCriterion
from mmpanoptic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOYS = ['configs/mask2former/mask2former_r18_toy.py',
        'configs/maskformer/maskformer_r18_toy.py', 'configs/knet/knet-s3_r18_fpn_toy.py']


def build(path):
    return MODELS.build(Config.fromfile(osp.join(ROOT, path)).model)


def empty_sample(h, w, pad):
    s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                    batch_input_shape=pad, pad_shape=pad))
    s.gt_instances = InstanceData(labels=torch.zeros(0, dtype=torch.long),
                                  masks=BitmapMasks(torch.zeros(0, *pad).numpy(), *pad))
    s.gt_sem_seg = PixelData(sem_seg=torch.full((1, *pad), 255, dtype=torch.long))
    return s


@pytest.mark.parametrize('path', TOYS)
def test_empty_ground_truth_and_odd_size(path):
    """All-VOID images train (finite loss, zero mask loss) and a 200x249
    image padded to 224x256 is predicted at 200x249."""
    torch.manual_seed(0)
    model = build(path).train()
    x = torch.randn(1, 3, 224, 256)
    losses = model.loss(x, [empty_sample(200, 249, (224, 256))])
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_mask'].item() == 0 and losses['loss_dice'].item() == 0
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        out = model.predict(x, [empty_sample(200, 249, (224, 256))])
    assert out[0].pred_panoptic_seg.sem_seg.shape == (1, 200, 249)


def test_criterion_perfect_prediction_has_low_loss():
    """Queries that reproduce the targets exactly cost less than random ones."""
    torch.manual_seed(0)
    crit = MaskSetCriterion(num_classes=3, num_points=None,
                            matcher=dict(type='HungarianMaskMatcher', num_points=None))
    masks = torch.zeros(2, 16, 16, dtype=torch.bool)
    masks[0, :8], masks[1, 8:] = True, True
    labels = torch.tensor([2, 0])
    cls = torch.full((1, 4, 4), -10.)
    cls[0, 0, 3] = cls[0, 1, 3] = 10.  # two queries say "no object"
    cls[0, 2, 0], cls[0, 3, 2] = 10., 10.  # query 2 -> label 0, query 3 -> label 2
    good = torch.full((1, 4, 16, 16), -20.)
    good[0, 2], good[0, 3] = masks[1] * 40. - 20, masks[0] * 40. - 20
    perfect = crit([cls], [good], [(labels, masks)])
    noisy = crit([torch.randn(1, 4, 4)], [torch.randn(1, 4, 16, 16)], [(labels, masks)])
    for k in ('loss_cls', 'loss_mask', 'loss_dice'):
        assert perfect[k] < 1e-3 < noisy[k], k


def test_knet_kernels_are_things_then_one_per_stuff_class():
    """Shapes, and values: the first update stage starts from the thing
    kernels' masks on the localization feature, then one stuff kernel per
    stuff class on the semantic feature, in that order."""
    model = build(TOYS[2]).eval()
    head = model.panoptic_head
    x = torch.randn(2, 3, 64, 64)
    seen = {}
    hook = head.update_heads[0].register_forward_pre_hook(
        lambda m, args: seen.update(masks=args[2].clone()))
    with torch.no_grad():
        head.init_kernels.weight.zero_()  # thing kernels: all-zero masks
        feats = model.extract_feat(x)
        cls, masks = head(feats)
        fused = head.fuse(feats)
        stuff = head.conv_seg(head.sem_convs(fused))
    hook.remove()
    assert len(cls) == 3 and len(masks) == 3  # one output per update stage
    assert cls[-1].shape == (2, 20 + 4, 8)  # 20 thing kernels + 4 stuff, 8 sigmoid classes
    assert masks[-1].shape == (2, 24, 16, 16)
    assert torch.equal(seen['masks'][:, :20], torch.zeros(2, 20, 16, 16))
    torch.testing.assert_close(seen['masks'][:, 20:], stuff)
    assert stuff.abs().sum() > 0


@pytest.mark.parametrize('path', TOYS)
def test_forward_without_data_samples(path):
    """``_forward(x)`` (tracing, FLOPs counting) needs no data samples; MaskFormer
    used to index the empty list of image metas."""
    model = build(path).eval()
    with torch.no_grad():
        cls, masks = model._forward(torch.randn(2, 3, 64, 96))
    assert cls[-1].shape[0] == 2 and masks[-1].shape[:2] == cls[-1].shape[:2]
    assert masks[-1].shape[-2:] == (16, 24)
    assert all(torch.isfinite(t).all() for t in (cls[-1], masks[-1]))
