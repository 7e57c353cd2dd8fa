"""Export a panoptic model's network to ONNX (the fusion stays in Python).

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out model.onnx \\
        [--shape 800 1344] [--opset 17] [--verify IMAGE]

The graph takes the normalised, padded image (1, 3, H, W) of a fixed size and
returns what the model's fusion reads, chosen from the fusion's input keys
(mask classification models: ``cls_logits``, ``mask_logits``;
Panoptic-DeepLab: ``sem``, ``center``, ``offset``; Panoptic FPN / UPSNet,
whose fusions read detections: the detections' ``boxes``, ``scores``,
``labels``, their ``mask_logits`` and the ``sem_logits``, with standard ONNX
NMS, RoiAlign and DeformConv, opset >= 19); run
``mmpanoptic.apis.export.fuse_onnx_outputs`` (the model's own fusion) on ONNX
Runtime's outputs.  ``--verify IMAGE`` runs
the exported graph with ONNX Runtime and compares it with PyTorch.  See
``mmpanoptic/apis/export.py`` for what exports and what does not.
"""
import argparse
import sys

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmpanoptic.apis.export import export_onnx, export_wrapper
from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', required=True)
    p.add_argument('--shape', type=int, nargs=2, default=[128, 128], metavar=('H', 'W'),
                   help='the fixed (padded) input size')
    p.add_argument('--opset', type=int, default=17)
    args = p.parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    try:
        names = export_onnx(model, args.out, tuple(args.shape), args.opset)
    except NotImplementedError as e:
        sys.exit(f'error: {e}')
    import onnxruntime as ort
    x = torch.randn(1, 3, *args.shape)
    with torch.no_grad():
        ref = export_wrapper(model, tuple(args.shape))(x)
    sess = ort.InferenceSession(args.out, providers=['CPUExecutionProvider'])
    got = sess.run(None, {'inputs': x.numpy()})
    diffs = {n: float(np.abs(g - r.numpy()).max()) if g.shape == tuple(r.shape)
             else f'shapes {g.shape} vs {tuple(r.shape)}' for n, g, r in zip(names, got, ref)}
    print(f'wrote {args.out}: inputs (1, 3, {args.shape[0]}, {args.shape[1]}) -> {names}; '
          f'ONNX Runtime vs PyTorch max |diff| {diffs}')


if __name__ == '__main__':
    main()
