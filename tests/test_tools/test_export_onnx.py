"""ONNX export, checked with ONNX Runtime on the bundled data: Mask2Former's
logits and Panoptic-DeepLab's maps within 1e-4 of PyTorch; Panoptic FPN's and
UPSNet's whole two-stage graph (NMS, RoIAlign) gives the same detections (boxes within 1e-3 pixels,
scores and mask logits within 1e-3) on images other than the one traced;
and every model's own fusion gives the same panoptic map."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from ..confident import make_confident
from ..e2e_utils import ROOT
from ..extras import require

ort = require('onnxruntime', 'onnxruntime')
require('onnx', 'onnx')

TOLERANCE = 1e-4


@pytest.mark.parametrize('config,outputs', [
    ('configs/mask2former/mask2former_r18_toy.py', ['cls_logits', 'mask_logits']),
    ('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py', ['sem', 'center', 'offset'])])
def test_dense_outputs_export_and_match_pytorch(config, outputs, tmp_path, toy_data):
    """A fusion that reads tensors (its ``input_keys``) exports them as they
    are: Mask2Former's class / mask logits, Panoptic-DeepLab's semantic /
    center / offset maps; the model's own fusion on ONNX Runtime's outputs
    gives PyTorch's segments."""
    import cv2

    from mmpanoptic.apis import inference_pipeline
    from mmpanoptic.apis.export import export_onnx, fuse_onnx_outputs
    from mmpanoptic.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, config))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    pipeline = inference_pipeline(cfg)
    folder = osp.join(toy_data, 'val2017')
    images = [cv2.imread(osp.join(folder, n)) for n in sorted(os.listdir(folder))[:3]]
    # Confident random weights: the maps compared hold thing segments.
    make_confident(model, pseudo_collate([pipeline(dict(img=images[0], img_id=0))]))
    path = str(tmp_path / 'dense.onnx')
    names = export_onnx(model, path, (128, 128))
    assert names == outputs
    assert not model.training
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for bgr in images:
        data = model.data_preprocessor(pseudo_collate([pipeline(dict(img=bgr, img_id=0))]),
                                       False)
        inputs = data['inputs']
        assert tuple(inputs.shape[-2:]) == (128, 128)
        with torch.no_grad():
            ref = model.predict_outputs(inputs, data['data_samples'])
            ref_pan = model.predict(inputs, data['data_samples'])[0].pred_panoptic_seg
        got = session.run(None, {'inputs': inputs.numpy()})
        for n, g in zip(names, got):  # relative: the confident logits reach ~50
            r = ref[n].numpy()
            assert (np.abs(g - r) / np.maximum(1, np.abs(r))).max() < TOLERANCE, n
        metas = [s.metainfo for s in data['data_samples']]
        pan, segments = fuse_onnx_outputs(model, got, names, metas)[0]['panoptic']
        # The same segments; a pixel whose logits tie to float precision may
        # go either way (1 pixel of 16384 seen).
        key = ('id', 'label', 'isthing')
        assert [[s[k] for k in key] for s in segments] == \
            [[s[k] for k in key] for s in ref_pan.metainfo['segments_info']]
        assert (np.asarray(pan) == ref_pan.sem_seg[0].numpy()).mean() > 0.999
        assert sum(s['isthing'] for s in segments) >= 1, segments


@pytest.mark.parametrize('config', ['configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py',
                                    'configs/upsnet/upsnet_r18_fpn_toy.py'])
def test_two_stage_exports_and_matches_pytorch(config, tmp_path, toy_data):
    """Thresholds at 0 so that the untrained model keeps detections (the
    traced NMS / RoIAlign then run on many boxes, and the maps compared hold
    thing segments); the traced dummy input is random noise, the compared
    images are toy images.  (Confident random weights, as for Mask2Former, do
    not work here: the RPN's untrained objectness ties, and mmcv's NMS and
    ONNX's NonMaxSuppression break ties differently.)"""
    import cv2

    from mmpanoptic.apis import inference_pipeline
    from mmpanoptic.apis.export import export_onnx, export_wrapper, fuse_onnx_outputs
    from mmpanoptic.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    cfg.model.fusion.score_thr = 0.0
    cfg.model.fusion.stuff_area_limit = 1
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    path = str(tmp_path / 'two_stage.onnx')
    names = export_onnx(model, path, (128, 128))
    assert names == ['boxes', 'scores', 'labels', 'mask_logits', 'sem_logits']
    import onnx
    assert {n.op_type for n in onnx.load(path).graph.node} >= {'NonMaxSuppression', 'RoiAlign'}
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    pipeline = inference_pipeline(cfg)
    wrapper = export_wrapper(model, (128, 128))
    folder = osp.join(toy_data, 'val2017')
    for name in sorted(os.listdir(folder))[:3]:
        bgr = cv2.imread(osp.join(folder, name))
        data = model.data_preprocessor(pseudo_collate([pipeline(dict(img=bgr, img_id=0))]),
                                       False)
        inputs = data['inputs']
        with torch.no_grad():
            ref = wrapper(inputs)
            ref_pan = model.predict(inputs, data['data_samples'])[0].pred_panoptic_seg
        got = session.run(None, {'inputs': inputs.numpy()})
        assert len(got[0]) == len(ref[0]) > 1  # detections besides the dummy
        np.testing.assert_array_equal(got[2], ref[2].numpy())  # labels
        for n, g, r in zip(names, got, ref):
            assert np.abs(g - r.numpy()).max() < 1e-3, n
        metas = [s.metainfo for s in data['data_samples']]
        ids, segments = fuse_onnx_outputs(model, got, names, metas)[0]['panoptic']
        # The same segments; a pixel whose mask logits tie to float precision
        # may go either way (1 pixel of 16384 on one machine).
        assert [(s['label'], s['isthing']) for s in segments] == \
            [(s['label'], s['isthing']) for s in ref_pan.metainfo['segments_info']]
        assert (np.asarray(ids) == ref_pan.sem_seg[0].numpy()).mean() > 0.999
        assert any(seg['isthing'] for seg in segments), segments


def test_export_leaves_mmcv_and_mmdet_as_they_were(tmp_path):
    """The export-time patches are undone (training / inference after an
    export use mmcv's and mmdet's own code)."""
    from mmcv.ops.nms import NMSop
    from mmcv.ops.roi_align import RoIAlignFunction
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor

    from mmpanoptic.apis.export import two_stage_export_patches
    before = (NMSop.__dict__.get('symbolic'), RoIAlignFunction.__dict__.get('symbolic'),
              SingleRoIExtractor.__dict__['forward'], torch.onnx.is_in_onnx_export)
    with two_stage_export_patches():
        assert NMSop.__dict__.get('symbolic') is not None
        assert SingleRoIExtractor.__dict__['forward'] is not before[2]
    assert (NMSop.__dict__.get('symbolic'), RoIAlignFunction.__dict__.get('symbolic'),
            SingleRoIExtractor.__dict__['forward'], torch.onnx.is_in_onnx_export) == before


def test_cli_exports_by_the_fusion_inputs(tmp_path):
    """The CLI picks what to trace from the fusion's input keys: the
    two-stage path for Panoptic FPN, the dense maps for Panoptic-DeepLab."""
    from mmpanoptic.registry import MODELS
    for config, names in (
            ('configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py',
             "['boxes', 'scores', 'labels', 'mask_logits', 'sem_logits']"),
            ('configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py',
             "['sem', 'center', 'offset']")):
        cfg = Config.fromfile(osp.join(ROOT, config))
        ckpt = str(tmp_path / 'model.pth')
        torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
        proc = subprocess.run([sys.executable, 'tools/deployment/export_onnx.py', config, ckpt,
                               '--out', str(tmp_path / 'x.onnx')], cwd=ROOT,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert f'-> {names}' in proc.stdout
