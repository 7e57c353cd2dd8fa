"""tools/demo/image_demo.py and PanopticInferencer with a user vocabulary."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpanoptic.apis import PanopticInferencer
from mmpanoptic.datasets.toy_open_vocab import THING_CATEGORIES, render_open_vocab_scene
from mmpanoptic.registry import MODELS

from ..e2e_utils import ROOT, run_tool

CONFIG = 'configs/open_vocab/mask2former_r18_text-minilm_toy-open-vocab.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """An untrained open-vocabulary model saved as the runner saves one."""
    torch.manual_seed(0)
    tmp = tmp_path_factory.mktemp('ckpt')
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    model = MODELS.build(cfg.model)
    meta = dict(classes=tuple(cfg.base_things + cfg.stuff),
                thing_classes=tuple(cfg.base_things), palette=[(200, 0, 0)] * 16)
    path = str(tmp / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=meta)), path)
    image = render_open_vocab_scene(3, THING_CATEGORIES)[0]
    img_path = str(tmp / 'scene.png')
    cv2.imwrite(img_path, image[..., ::-1])
    return path, img_path


def test_inferencer_switches_vocabulary_per_call(checkpoint):
    ckpt, img = checkpoint
    inferencer = PanopticInferencer(osp.join(ROOT, CONFIG), ckpt)
    assert inferencer.classes[:2] == ['red plain shape', 'red dotted shape'] and \
        inferencer.num_things == 12
    # an untrained model: every query may be below 0.8; keep them all so the
    # per-segment checks below have segments to check
    inferencer.model.fusion.object_mask_thr = 0.0
    inferencer.model.fusion.iou_thr = 0.0
    res = inferencer(img, classes='road,sky,car,solar panel', things='car,solar panel')[0]
    assert inferencer.classes == ['car', 'solar panel', 'road', 'sky']
    assert res['ids'].shape == (128, 128) and res['image'].shape == (128, 128, 3)
    assert res['segments_info']
    for s in res['segments_info']:
        assert s['category'] in inferencer.classes
        assert s['isthing'] == (s['label'] < 2)
        assert s['area'] == int((res['ids'] == s['id']).sum())
    picture = inferencer.visualize(res, scale=2)
    assert picture.shape == (256, 256, 3) and picture.dtype == np.uint8
    with pytest.raises(ValueError, match='not in --classes'):
        inferencer(img, classes='road', things='car')


def test_closed_model_refuses_classes(tmp_path):
    cfg = 'configs/mask2former/mask2former_r18_toy.py'
    with pytest.raises(TypeError, match='no open vocabulary|TextEmbeddingClassifier'):
        PanopticInferencer(osp.join(ROOT, cfg), None, classes='a,b')


def test_image_demo_with_classes_from_the_command_line(checkpoint, tmp_path):
    ckpt, img = checkpoint
    out = str(tmp_path / 'pic.jpg')
    # The untrained model's queries are all below 0.8: keep every query so the
    # record has segments to check.
    keep_all = tmp_path / 'keep_all.py'
    keep_all.write_text(f"_base_ = '{osp.join(ROOT, CONFIG)}'\n"
                        'model = dict(fusion=dict(object_mask_thr=0.0, iou_thr=0.0))\n')
    log = run_tool('tools/demo/image_demo.py', img, str(keep_all), ckpt, '--out', out,
                   '--classes', 'road,sky,car,solar panel/solar cell',
                   '--things', 'car,solar panel', '--scale', '2')
    assert '1 picture(s) written' in log
    assert cv2.imread(out).shape == (256, 256, 3)
    record = json.load(open(osp.join(tmp_path, 'pic.json')))
    assert record['classes'] == ['car', 'solar panel', 'road', 'sky']
    assert record['segments'] and any(s['isthing'] for s in record['segments'])
    for s in record['segments']:
        assert s['isthing'] == (s['category'] in ('car', 'solar panel'))
    with pytest.raises(AssertionError, match='checkpoint not found: nope.pth'):
        run_tool('tools/demo/image_demo.py', img, CONFIG, 'nope.pth', '--out', out)
    with pytest.raises(AssertionError, match='--things needs --classes'):
        run_tool('tools/demo/image_demo.py', img, CONFIG, ckpt, '--out', out,
                 '--things', 'car')
