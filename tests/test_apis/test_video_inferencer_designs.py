"""VideoInferencer on the designs whose frames are not predicted one at a
time: one clip at a time (tube queries) or all together (DVIS offline,
which refuses a camera); one result per frame either way.  (Frame-by-frame
streaming: test_video_demo.py and test_hf_videomt.py.)"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpanoptic.apis import VideoInferencer
from mmpanoptic.datasets import TOY_CATEGORIES, render_video
from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules

from ..e2e_utils import ROOT

CONFIGS = ['configs/video/dvis-offline_mask2former_r18_toy-video.py',
           'configs/video/mask2former_r18_tube-clip2_toy-video.py']
STEP = {'configs/video/dvis-offline_mask2former_r18_toy-video.py': 5,
        'configs/video/mask2former_r18_tube-clip2_toy-video.py': 2}


@pytest.mark.parametrize('config', CONFIGS)
def test_video_inferencer_runs_each_design(config, tmp_path):
    register_all_modules()
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, config))
    model = MODELS.build(cfg.model)
    things = sorted(TOY_CATEGORIES, key=lambda c: -c['isthing'])
    meta = dict(classes=tuple(c['name'] for c in things),
                palette=[c['color'] for c in things])
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), ckpt)
    inferencer = VideoInferencer(cfg, ckpt)
    calls = []
    step = inferencer.model.test_step
    inferencer.model.test_step = lambda data: calls.append(len(data['inputs'])) or step(data)
    frames = [img for img, _, _ in render_video(3, num_frames=5)]
    results = list(inferencer(frames))
    assert [r['frame'] for r in results] == list(range(5))
    assert all(r['ids'].shape == frames[0].shape[:2] for r in results)
    n = STEP.get(config, 1)
    assert calls == [n] * (5 // n) + ([5 % n] if 5 % n else [])
    if inferencer.needs_whole_video:
        with pytest.raises(ValueError, match='cannot run on a camera'):
            next(inferencer(0))
    assert isinstance(results[0]['ids'], np.ndarray)


OPEN_VOCAB = ['configs/video/mask2former_r18_tube-clip2_toy-video.py',
              'configs/video/dvis-offline_mask2former_r18_toy-video.py',
              'configs/video/videomt_vit-t_toy-video.py']


@pytest.mark.parametrize('config', OPEN_VOCAB)
def test_every_video_design_takes_a_vocabulary_in_text(config, tmp_path):
    """Tube queries, DVIS (tracker and refiner in the text space) and
    VidEoMT with the toy text classifier: the classes given to the
    inferencer name every segment of every frame (random weights, every
    query kept); ViP-DeepLab's per-pixel class layer says it has none."""
    from mmpanoptic.config_builders import toy_open_vocab_detector
    register_all_modules()
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, config))
    changes = toy_open_vocab_detector(['ellipse', 'box', 'sky'], 2)
    if cfg.model.detector.get('type') == 'VidEoMT':
        cfg.model.detector.image_model.update(changes)
        cfg.model.detector.image_model.panoptic_head.update(changes.pop('panoptic_head'))
        cfg.model.detector.image_model.fusion.update(object_mask_thr=0.0, iou_thr=0.0)
    else:
        cfg.model.detector_changes = dict(changes, fusion=dict(object_mask_thr=0.0,
                                                                  iou_thr=0.0))
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=('ellipse', 'box', 'sky')))), ckpt)
    classes = ['red ring', 'blue box', 'green field']
    inferencer = VideoInferencer(cfg, ckpt, classes=classes, things=classes[:2])
    frames = [img for img, _, _ in render_video(3, num_frames=4)]
    results = list(inferencer(frames))
    assert [r['frame'] for r in results] == list(range(4))
    names = [s['category'] for r in results for s in r['segments_info']]
    assert names and set(names) <= set(classes)


def test_vip_deeplab_has_no_text_class_layer():
    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, 'configs/video/vip-deeplab_r18_toy-video.py'))
    model = MODELS.build(cfg.model)
    with pytest.raises(TypeError, match='fixed class layer'):
        model.set_vocabulary(['a', 'b'], 1)
