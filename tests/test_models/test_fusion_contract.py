"""Every registered fusion follows one contract (``fusion/base.py``):
``fusion(outputs, batch_img_metas, rescale)`` -> per image a panoptic id map
at ``ori_shape`` (``img_shape`` without rescale) and consistent
``segments_info``."""
import inspect

import pytest
import torch
from mmengine.structures import InstanceData

from mmpanoptic.models import fusion as fusion_pkg
from mmpanoptic.models.fusion import PanopticFusion, add_pred_to_samples
from mmpanoptic.registry import MODELS

NUM_THINGS, NUM_STUFF = 2, 3
PAD, IMG, ORI = (32, 32), (20, 24), (40, 48)


def metas():
    return [dict(img_shape=IMG, ori_shape=ORI, batch_input_shape=PAD, pad_shape=PAD,
                 scale_factor=(IMG[1] / ORI[1], IMG[0] / ORI[0]))] * 2


def query_outputs(columns, size):
    g = torch.Generator().manual_seed(0)
    cls = torch.randn(2, 7, columns, generator=g) * 4
    masks = torch.randn(2, 7, 8, 8, generator=g) * 4
    return dict(cls_logits=cls, mask_logits=masks)


def heuristic_outputs(columns, size):
    masks = torch.zeros(2, *size, dtype=torch.bool)
    masks[0, :size[0] // 2] = True
    masks[1, :, :size[1] // 3] = True
    inst = InstanceData(masks=masks, labels=torch.tensor([0, 1]), scores=torch.tensor([.9, .8]))
    sem = torch.randn(NUM_STUFF + 1, *size, generator=torch.Generator().manual_seed(1))
    return dict(instances=[inst, inst[:1]], sem_logits=[sem, sem])


def upsnet_outputs(columns, size):
    det = InstanceData(bboxes=torch.tensor([[2., 2., 12., 14.], [8., 4., 20., 18.]]),
                       labels=torch.tensor([0, 1]), scores=torch.tensor([.9, .7]))
    g = torch.Generator().manual_seed(2)
    return dict(sem_logits=torch.randn(2, NUM_THINGS + NUM_STUFF, *PAD, generator=g),
                detections=[det, det[:0]],
                mask_logits=[torch.randn(2, 14, 14, generator=g), torch.zeros(0, 14, 14)])


def center_outputs(columns, size):
    g = torch.Generator().manual_seed(3)
    center = torch.zeros(2, 1, *PAD)
    center[:, 0, 6, 6] = center[:, 0, 14, 18] = 1.0
    return dict(sem=torch.randn(2, NUM_THINGS + NUM_STUFF, *PAD, generator=g) * 3,
                center=center, offset=torch.randn(2, 2, *PAD, generator=g))


def detr_outputs(columns, size):
    out = query_outputs(columns, size)
    out['boxes'] = torch.rand(2, 7, 4, generator=torch.Generator().manual_seed(4)) * 0.5 + 0.2
    return out


C = NUM_THINGS + NUM_STUFF
CASES = {  # type: (extra config, outputs factory, class columns)
    'MaskClassificationFusion': (dict(object_mask_thr=0.3, semantic_on=True, instance_on=True),
                                 query_outputs, C + 1),
    'KNetFusion': (dict(num_stuff_kernels=NUM_STUFF, instance_score_thr=0.3), query_outputs,
                   C),
    'HeuristicFusion': (dict(stuff_area_limit=1), heuristic_outputs, None),
    'UPSNetFusion': (dict(score_thr=0.5, stuff_area_limit=1), upsnet_outputs, None),
    'CenterGroupingFusion': (dict(stuff_area=1, nms_kernel=3), center_outputs, None),
    'DETRPanopticFusion': (dict(object_mask_thr=0.3, instance_on=True), detr_outputs, C + 1),
}


def registered_fusions():
    """Every fusion class the package registers."""
    found = set()
    for name in dir(fusion_pkg):
        obj = getattr(fusion_pkg, name)
        if inspect.isclass(obj) and MODELS.get(obj.__name__) is obj and issubclass(
                obj, torch.nn.Module):
            found.add(obj.__name__)
    return found


def test_every_registered_fusion_is_covered_and_follows_the_base():
    assert registered_fusions() == set(CASES)
    for name in CASES:
        assert issubclass(MODELS.get(name), PanopticFusion), name


@pytest.mark.parametrize('rescale', [True, False])
@pytest.mark.parametrize('name', sorted(CASES))
def test_fusion_contract(name, rescale):
    extra, make, columns = CASES[name]
    fusion = MODELS.build(dict(type=name, num_things=NUM_THINGS, num_stuff=NUM_STUFF, **extra))
    size = ORI if rescale else IMG
    outputs = make(columns, size)
    results = fusion(outputs, metas(), rescale=rescale)
    assert len(results) == 2
    total = 0
    for result in results:
        ids, segments = result['panoptic']
        assert ids.dtype == torch.int32 and tuple(ids.shape) == size
        assert [s['id'] for s in segments] == list(range(1, len(segments) + 1))
        assert set(ids.unique().tolist()) - {0} == {s['id'] for s in segments}
        for s in segments:
            assert 0 <= s['label'] < C and s['isthing'] == (s['label'] < NUM_THINGS)
            assert s['area'] == int((ids == s['id']).sum()) > 0
        total += len(segments)
        if 'semantic' in result:
            assert tuple(result['semantic'].sem_seg.shape[-2:]) == size
    assert total > 0  # the example outputs give segments: the checks above ran
    # step 4: the results become data samples
    from mmdet.structures import DetDataSample
    samples = add_pred_to_samples([DetDataSample(), DetDataSample()], results)
    assert samples[0].pred_panoptic_seg.sem_seg.shape == (1, *size)
    with pytest.raises(KeyError, match=f'{name} needs the model outputs'):
        fusion({}, metas(), rescale=rescale)
