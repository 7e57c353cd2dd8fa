"""One builder for every model part: counts filled once, disagreements raise."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmpanoptic.models.builder import build_part, with_counts
from mmpanoptic.models.fusion import MaskClassificationFusion
from mmpanoptic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_counts_fill_missing_keys_and_leave_the_config_alone():
    cfg = dict(type='MaskClassificationFusion', object_mask_thr=0.5)
    filled = with_counts(cfg, dict(num_things=2, num_stuff=3))
    assert filled == dict(type='MaskClassificationFusion', object_mask_thr=0.5,
                          num_things=2, num_stuff=3)
    assert 'num_things' not in cfg  # a copy
    fusion = build_part(cfg, counts=dict(num_things=2, num_stuff=3))
    assert (fusion.num_things, fusion.num_stuff, fusion.object_mask_thr) == (2, 3, 0.5)
    assert build_part(None) is None


@pytest.mark.parametrize('path,part,key', [
    ('configs/mask2former/mask2former_r18_toy.py', 'panoptic_head', 'num_classes'),
    ('configs/mask2former/mask2former_r18_toy.py', 'criterion', 'num_classes'),
    ('configs/knet/knet-s3_r18_fpn_toy.py', 'fusion', 'num_stuff'),
    ('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py', 'decode_head', 'num_classes'),
    ('configs/upsnet/upsnet_r18_fpn_toy.py', 'semantic_head', 'num_classes'),
])
def test_a_part_stating_other_class_counts_is_refused(path, part, key):
    """A head written for COCO's 133 classes inside an 8-class model used to
    build silently with 133 outputs."""
    cfg = Config.fromfile(osp.join(ROOT, path)).model
    cfg[part][key] = 133
    with pytest.raises(ValueError, match=f'{part} .*{key}=133 but the model has'):
        MODELS.build(cfg)


def test_a_built_part_is_checked_too():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/mask2former/mask2former_r18_toy.py')).model
    cfg.fusion = MaskClassificationFusion(num_things=80, num_stuff=53)
    with pytest.raises(ValueError, match=r'fusion \(MaskClassificationFusion\): num_things=80'):
        MODELS.build(cfg)
    cfg.fusion = MaskClassificationFusion(num_things=4, num_stuff=4)
    assert MODELS.build(cfg).fusion is cfg.fusion
    with pytest.raises(KeyError):
        build_part(dict(type='NoSuchPart'))
