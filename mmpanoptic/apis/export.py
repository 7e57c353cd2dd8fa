"""ONNX export of the network part of a panoptic model; the panoptic fusion
stays in Python (it is data-dependent: a variable number of segments).

:class:`OnnxExportWrapper` runs the model's own ``predict_outputs`` on a
fixed-size input, so the exported graph ends where every family's fusion
begins (mask classification: ``cls_logits`` (1, Q, C + 1) and
``mask_logits`` (1, Q, h, w)).  :func:`fuse_onnx_outputs` feeds the ONNX
Runtime outputs to the model's own fusion.

What exports: MaskFormer / Mask2Former / K-Net / FC-CLIP's networks; on CPU
mmcv's ``MultiScaleDeformableAttention`` runs its PyTorch formula
(``grid_sample``), which is standard ONNX, so no custom op is needed.  What
does not: Panoptic FPN and UPSNet (their RoI stage needs mmcv's NMS and
RoIAlign, custom ops that plain ONNX Runtime lacks; mmdeploy ships them),
and Panoptic-DeepLab's grouping (data-dependent; its network outputs would
export, the fusion runs in Python as here).
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from torch import nn

OUTPUT_NAMES = {'MaskClassificationFusion': ('cls_logits', 'mask_logits'),
                'KNetFusion': ('cls_logits', 'mask_logits')}


class OnnxExportWrapper(nn.Module):
    """``inputs (1, 3, H, W)`` (normalised, as after the data preprocessor)
    -> the fusion's inputs, for a fixed input size."""

    def __init__(self, model: nn.Module, input_shape: Tuple[int, int]) -> None:
        super().__init__()
        fusion = type(model.fusion).__name__
        if fusion not in OUTPUT_NAMES:
            raise NotImplementedError(
                f'{type(model).__name__} ({fusion}) does not export to plain ONNX: its RoI '
                'stage needs mmcv\'s NMS / RoIAlign custom ops (see mmpanoptic/apis/export.py)')
        self.model = model
        self.output_names = OUTPUT_NAMES[fusion]
        h, w = input_shape
        self.meta = dict(img_shape=(h, w), batch_input_shape=(h, w), pad_shape=(h, w),
                         ori_shape=(h, w), scale_factor=(1.0, 1.0))

    def forward(self, inputs: torch.Tensor):
        outputs = self.model.predict_outputs(inputs, [DetDataSample(metainfo=self.meta)])
        return tuple(outputs[k] for k in self.output_names)


def export_onnx(model: nn.Module, path: str, input_shape: Tuple[int, int],
                opset: int = 17) -> List[str]:
    """Export; returns the output names."""
    # eval() on the wrapper too: the exporter restores the wrapper's mode
    # afterwards, recursively, and a fresh module is in training mode.
    wrapper = OnnxExportWrapper(model.eval(), input_shape).eval()
    dummy = torch.zeros(1, 3, *input_shape)
    with torch.no_grad():
        torch.onnx.export(wrapper, (dummy, ), path, input_names=['inputs'],
                          output_names=list(wrapper.output_names), opset_version=opset,
                          dynamo=False)
    return list(wrapper.output_names)


def fuse_onnx_outputs(model: nn.Module, outputs: Sequence[np.ndarray], names: Sequence[str],
                      metas: Sequence[Dict]):
    """The model's own fusion on ONNX Runtime outputs (numpy)."""
    tensors = {n: torch.from_numpy(np.asarray(o)) for n, o in zip(names, outputs)}
    return model.fusion(tensors, list(metas), rescale=True)
