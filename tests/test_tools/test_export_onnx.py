"""ONNX export of Mask2Former's network, checked with ONNX Runtime on the
bundled data: logits within 1e-4 of PyTorch and the same panoptic map after
the model's own fusion."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from ..e2e_utils import ROOT

ort = pytest.importorskip('onnxruntime', reason='onnxruntime (test extra) is not installed')
pytest.importorskip('onnx', reason='onnx (test extra) is not installed')

TOLERANCE = 1e-4


def test_mask2former_exports_and_matches_pytorch(tmp_path, toy_data):
    from mmpanoptic.apis import inference_pipeline
    from mmpanoptic.apis.export import export_onnx, fuse_onnx_outputs
    from mmpanoptic.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs/mask2former/mask2former_r18_toy.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    path = str(tmp_path / 'm2f.onnx')
    names = export_onnx(model, path, (128, 128))
    assert not model.training
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    pipeline = inference_pipeline(cfg)
    folder = osp.join(toy_data, 'val2017')
    for name in sorted(os.listdir(folder))[:3]:
        import cv2
        bgr = cv2.imread(osp.join(folder, name))
        data = model.data_preprocessor(pseudo_collate([pipeline(dict(img=bgr, img_id=0))]),
                                       False)
        inputs = data['inputs']
        assert tuple(inputs.shape[-2:]) == (128, 128)
        with torch.no_grad():
            ref = model.predict_outputs(inputs, data['data_samples'])
            ref_pan = model.predict(inputs, data['data_samples'])[0].pred_panoptic_seg
        got = session.run(None, {'inputs': inputs.numpy()})
        for n, g in zip(names, got):
            assert np.abs(g - ref[n].numpy()).max() < TOLERANCE, n
        metas = [s.metainfo for s in data['data_samples']]
        pan = fuse_onnx_outputs(model, got, names, metas)[0]['panoptic'][0]
        np.testing.assert_array_equal(np.asarray(pan), ref_pan.sem_seg[0].numpy())


def test_cli_refuses_panoptic_fpn_with_the_reason(tmp_path):
    from mmpanoptic.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py'))
    ckpt = str(tmp_path / 'fpn.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    proc = subprocess.run([sys.executable, 'tools/deployment/export_onnx.py',
                           'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py', ckpt, '--out',
                           str(tmp_path / 'x.onnx')], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'NMS / RoIAlign custom ops' in proc.stderr
