"""Same weights, same numbers: our full-size configs against mmdet's own.

Each test builds mmdet's config file from the installed mmdet package and our
config, loads mmdet's state dict strictly into our model, and predicts on a
COCO-sized image (480x640, resized by the test pipeline to 800x1066; the
default tier's R-50 checks use a 240x320 image resized to 400x533, as the
comparison does not depend on the size): the panoptic partitions, labels and
VOID pixels must be identical, and so must the instances (for Panoptic FPN,
whose mmdet model returns only the fused map, against mmdet's RoI head
output before its fusion).  The class layers are scaled so
that random weights give confident classes (many segments, not two empty
maps); every test checks that the map has segments.  The random weights
are first adjusted on the test image so that they behave like trained ones
(distinct queries, sharp masks, confident classes; see
:func:`decisive_query_head`), then loaded into both models.

R-50 models run in the default tier; R-101 and Swin models in the slow tier.
"""
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET

from mmpanoptic.testing.reference import (
    load_pair,
    mmdet_roi_instances,
    mmdet_void_fraction,
    packed_test_inputs,
    paired_models,
    panoptic_disagreement,
    predict,
    realistic_image,
    segment_count,
)
from mmpanoptic.testing.settings import differences, mmdet_settings, our_settings

FAST = ['mask2former_r50', 'maskformer_r50', 'panoptic-fpn_r50_1x']
SLOW = ['mask2former_r101', 'mask2former_swin-t', 'mask2former_swin-s', 'mask2former_swin-b',
        'mask2former_swin-l', 'maskformer_swin-l']
ALL_PAIRS = FAST + SLOW + ['panoptic-fpn_r50_ms-3x', 'panoptic-fpn_r101_1x']


@pytest.mark.parametrize('name', ALL_PAIRS)
def test_settings_equal_mmdet_or_documented(name):
    """Every result-changing setting equals mmdet's, or the config lists it in
    ``reference_differences`` with the reason."""
    theirs, ours = load_pair(name)
    found = differences(mmdet_settings(theirs), our_settings(ours))
    documented = dict(ours.get('reference_differences', {}))
    undocumented = {k: v for k, v in found.items() if k not in documented}
    assert not undocumented, f'{name}: settings differ from mmdet without a reason: ' + \
        '\n'.join(f'{k}: mmdet {a!r}\n    ours {b!r}' for k, (a, b) in undocumented.items())
    stale = sorted(set(documented) - set(found))
    assert not stale, f'{name}: reference_differences lists settings that match mmdet: {stale}'
    assert all(isinstance(r, str) and len(r) > 20 for r in documented.values())


def _compare(name, size=(480, 640), scale=(1333, 800)):
    torch.manual_seed(0)
    data = packed_test_inputs(realistic_image(*size, seed=1), scale=scale)
    theirs, ours, num_classes = paired_models(name, data)
    ref = predict(theirs, data)[0]
    out = predict(ours, data)[0]
    ref_pan = ref.pred_panoptic_seg.sem_seg[0]
    ids = out.pred_panoptic_seg.sem_seg[0]
    segments = out.pred_panoptic_seg.segments_info
    assert ids.shape == size
    problems = panoptic_disagreement(ids, segments, ref_pan, num_classes=num_classes,
                                     instance_offset=INSTANCE_OFFSET)
    assert not problems, f'{name}: {len(problems)} differences, e.g. {problems[:5]}'
    # Not two empty maps: several segments and most pixels covered.
    assert segment_count(ids) >= 5, f'{name}: only {segment_count(ids)} segments'
    assert mmdet_void_fraction(ref_pan, num_classes, INSTANCE_OFFSET) < 0.9
    assert any(s['isthing'] for s in segments) and any(not s['isthing'] for s in segments)
    if hasattr(theirs, 'roi_head'):
        assert 'pred_instances' not in ref  # why the RoI head is asked directly
        a = mmdet_roi_instances(theirs, data)[0]
    else:  # instance_on is the config's: both output instances or neither
        assert ('pred_instances' in ref) == ('pred_instances' in out)
        a = ref.get('pred_instances')
    if a is None:
        return False
    b = out.pred_instances
    assert len(a) == len(b) > 0
    torch.testing.assert_close(b.scores, a.scores)
    assert torch.equal(b.labels, a.labels)
    assert torch.equal(b.masks.bool(), a.masks.bool())
    torch.testing.assert_close(b.bboxes, a.bboxes)
    return True


# The pairs whose configs output instances (mmdet's MaskFormer config has
# instance_on=False): their instances must be compared, not skipped.
WITH_INSTANCES = {'mask2former_r50', 'panoptic-fpn_r50_1x', 'mask2former_r101',
                  'mask2former_swin-t', 'mask2former_swin-s', 'mask2former_swin-b',
                  'mask2former_swin-l', 'panoptic-fpn_r101_1x'}


@pytest.mark.parametrize('name', FAST)
def test_same_weights_same_panoptic_map_r50(name):
    assert _compare(name, size=(240, 320), scale=(666, 400)) == (name in WITH_INSTANCES)


@pytest.mark.slow
@pytest.mark.parametrize('name', SLOW + ['panoptic-fpn_r101_1x'])
def test_same_weights_same_panoptic_map_large(name):
    assert _compare(name) == (name in WITH_INSTANCES)
