"""K-Net's official recipe by hand: the panoptic merge (KNetFusion), the
targets and losses (KNetCriterion) and the binary-mask feature gathering
(KNetUpdateHead against mmseg's KernelUpdateHead)."""
import math

import pytest
import torch
from mmseg.models.decode_heads.knet_head import KernelUpdateHead

from mmpanoptic.models.criteria import KNetCriterion
from mmpanoptic.models.fusion import KNetFusion
from mmpanoptic.models.heads import KNetUpdateHead

BIG = 20.0


def logit(p):
    return math.log(p / (1 - p))


def meta(h, w):
    return dict(img_shape=(h, w), ori_shape=(h, w), batch_input_shape=(h, w))


def test_fusion_follows_knets_merge_by_hand():
    """2 thing classes, 1 stuff class; kernels: thing A (0.9), thing B below
    instance_score_thr (0.2), thing C keeping too little of its mask, and the
    stuff kernel (0.1: stuff has no score threshold)."""
    h, w = 4, 8
    masks = torch.full((4, h, w), -BIG)
    masks[0, :, :3] = BIG            # A: columns 0-2
    masks[1, :, 3:5] = BIG           # B: columns 3-4, wins them but scores 0.2
    masks[2, :, 1:4] = BIG           # C: columns 1-3, loses 1-2 to A, 3 to B
    masks[3, :, 4:] = BIG            # stuff: columns 4-7, weakest score
    cls = torch.full((4, 3), -BIG)
    cls[0, 0] = logit(0.9)
    cls[1, 1] = logit(0.2)
    cls[2, 1] = logit(0.8)
    cls[3, 2] = logit(0.1)
    fusion = KNetFusion(num_things=2, num_stuff=1)
    outputs = dict(cls_logits=cls[None], mask_logits=masks[None])
    ids, segments = fusion(outputs, [meta(h, w)])[0]['panoptic']
    by_id = {s['id']: s for s in segments}
    labels = [[by_id[int(i)]['label'] if int(i) else -1 for i in row] for row in ids]
    # Every kernel competes for every pixel: A wins 0-2, C wins only column 3
    # (1/3 of its mask < 0.6: no segment, VOID), B wins column 4 (beats the
    # stuff kernel, 0.2 > 0.1) but is a thing below 0.3 (VOID), and the stuff
    # kernel keeps 5-7 (3/4 of its mask) despite its score of 0.1.
    assert labels[0] == [0, 0, 0, -1, -1, 2, 2, 2]
    assert all(row == labels[0] for row in labels)
    assert sorted((s['label'], s['isthing'], s['area']) for s in segments) == \
        [(0, True, 12), (2, False, 12)]
    # the stuff kernel scores for its own class only (the diagonal)
    cls[3, 0] = BIG
    ids2, segments2 = fusion(outputs, [meta(h, w)])[0]['panoptic']
    assert sorted(s['label'] for s in segments2) == [0, 2]
    with pytest.raises(ValueError, match='no "no object"'):
        fusion(dict(cls_logits=torch.zeros(1, 4, 4), mask_logits=masks[None]), [meta(h, w)])


def test_criterion_targets_by_hand():
    """Stuff kernel j learns stuff class num_things + j; thing kernels are
    matched; thing kernels are not trained on stuff columns and stuff kernels
    only on their own column."""
    torch.manual_seed(0)
    crit = KNetCriterion(num_classes=4, num_things=2)  # 2 stuff classes -> 2 stuff kernels
    h = w = 8
    gt = torch.zeros(3, h, w, dtype=torch.bool)
    gt[0, :4, :4] = True   # thing, label 1
    gt[1, 4:, :] = True    # stuff, label 3 (kernel 3 + 1 = 4)
    gt[2, :4, 4:] = True   # stuff? no: a thing, label 0
    labels = torch.tensor([1, 3, 0])
    k = 3 + 2
    perfect_cls = torch.full((1, k, 4), -BIG)
    perfect_masks = torch.full((1, k, h, w), -BIG)
    perfect_cls[0, 0, 0], perfect_masks[0, 0] = BIG, gt[2] * 2 * BIG - BIG
    perfect_cls[0, 2, 1], perfect_masks[0, 2] = BIG, gt[0] * 2 * BIG - BIG
    perfect_cls[0, 4, 3], perfect_masks[0, 4] = BIG, gt[1] * 2 * BIG - BIG
    good = crit([perfect_cls], [perfect_masks], [(labels, gt)])
    for key in ('loss_cls', 'loss_mask', 'loss_dice', 'loss_rank'):
        assert float(good[key]) < 1e-3, key
    # a thing kernel's stuff columns and a stuff kernel's other columns are free
    free = perfect_cls.clone()
    free[0, 1, 2:] = BIG  # thing kernel 1 on stuff columns
    free[0, 3, 0] = BIG   # stuff kernel 3 (class 2) on thing column 0 and class 3
    free[0, 3, 3] = BIG
    assert torch.allclose(crit([free], [perfect_masks], [(labels, gt)])['loss_cls'],
                          good['loss_cls'])
    # ... but a stuff kernel claiming its own absent class is penalised
    wrong = perfect_cls.clone()
    wrong[0, 3, 2] = BIG
    assert crit([wrong], [perfect_masks], [(labels, gt)])['loss_cls'] > 1.0
    # the stuff mask must come from kernel 4: swapping it to kernel 3 costs
    swapped = perfect_masks.clone()
    swapped[0, [3, 4]] = perfect_masks[0, [4, 3]]
    assert crit([perfect_cls], [swapped], [(labels, gt)])['loss_dice'] > 1.0
    # focal loss of one positive at p = 0.5, all else certain: by hand
    half = perfect_cls.clone()
    half[0, 0, 0] = 0.0
    expect = 0.25 * 0.5 ** 2 * math.log(2) / 3 * 2.0  # alpha (1-p)^2 CE / 3 positives * weight
    assert math.isclose(float(crit([half], [perfect_masks], [(labels, gt)])['loss_cls']),
                        expect, rel_tol=1e-3)
    # several stages: d{i}. prefixes; no segment: zero mask losses, finite
    two = crit([perfect_cls] * 2, [perfect_masks] * 2, [(labels, gt)])
    assert 'd0.loss_rank' in two and 'loss_rank' in two
    none = crit([perfect_cls], [perfect_masks],
                [(torch.zeros(0, dtype=torch.long), torch.zeros(0, h, w, dtype=torch.bool))])
    assert float(none['loss_mask']) == 0 and torch.isfinite(none['loss_cls'])
    with pytest.raises(ValueError, match='one kernel per stuff class'):
        KNetCriterion(num_classes=4, num_things=2, num_stuff_kernels=3)


def update_head_cfg(c=16):
    return dict(num_classes=4, num_ffn_fcs=2, num_heads=2, num_mask_fcs=1,
                feedforward_channels=32, in_channels=c, out_channels=c, dropout=0.0,
                conv_kernel_size=1, with_ffn=True,
                feat_transform_cfg=dict(conv_cfg=dict(type='Conv2d'), act_cfg=None),
                kernel_updator_cfg=dict(type='mmseg.KernelUpdator', in_channels=c,
                                        feat_channels=c, out_channels=c,
                                        act_cfg=dict(type='ReLU', inplace=True),
                                        norm_cfg=dict(type='LN')))


def test_update_head_softmax_is_mmsegs_and_hard_gathering_sees_binary_masks():
    torch.manual_seed(0)
    ours = KNetUpdateHead(mask_gather='softmax', **update_head_cfg()).eval()
    ref = KernelUpdateHead(**update_head_cfg()).eval()
    ref.load_state_dict(ours.state_dict())  # the same parameters, strictly
    x = torch.randn(2, 16, 8, 8)
    kernels = torch.randn(2, 5, 16, 1, 1)
    masks = torch.randn(2, 5, 8, 8)
    with torch.no_grad():
        for a, b in zip(ours(x, kernels, masks), ref(x, kernels, masks)):
            assert torch.allclose(a, b, atol=1e-6)
        hard = KNetUpdateHead(**update_head_cfg()).eval()
        hard.load_state_dict(ours.state_dict())
        # only the binary masks matter: rescaling logits keeps the output
        out1 = hard(x, kernels, masks)
        out2 = hard(x, kernels, masks * 7.0)
        assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(out1, out2))
        soft1, soft2 = ours(x, kernels, masks), ours(x, kernels, masks * 7.0)
        assert not torch.allclose(soft1[0], soft2[0], atol=1e-3)
    with pytest.raises(ValueError, match='mask_gather'):
        KNetUpdateHead(mask_gather='argmax', **update_head_cfg())
