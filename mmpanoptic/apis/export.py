"""ONNX export of the network part of a panoptic model; the panoptic fusion
stays in Python (it is data-dependent: a variable number of segments).

What is traced follows from the fusion's ``input_keys`` (never from class
names): when they are dense tensors, :class:`OnnxExportWrapper` runs the
model's own ``predict_outputs`` on a fixed-size input and the graph returns
those keys (mask classification: ``cls_logits`` (1, Q, C + 1) and
``mask_logits`` (1, Q, h, w); Panoptic-DeepLab: ``sem``, ``center``,
``offset``); when the fusion reads detections (``instances`` /
``detections``), :class:`TwoStageExportWrapper` traces the model's two-stage
path.  :func:`fuse_onnx_outputs` feeds the ONNX Runtime outputs to the
model's own fusion.

What exports:

- MaskFormer / Mask2Former / K-Net / FC-CLIP's networks; on CPU mmcv's
  ``MultiScaleDeformableAttention`` runs its PyTorch formula (``grid_sample``),
  which is standard ONNX, so no custom op is needed.
- Panoptic-DeepLab's network (semantic, center and offset maps); its center
  grouping runs in Python, as every fusion does.
- Panoptic FPN and UPSNet, whole: backbone, RPN (proposal decoding, NMS),
  RoI box head (class-wise NMS), RoI mask head and semantic head, with the
  standard ONNX ``NonMaxSuppression``, ``RoiAlign`` (``half_pixel`` is
  mmcv's ``aligned=True``) and ``DeformConv`` for UPSNet's DCNv2 semantic
  head (opset 19; ONNX Runtime >= 1.20 runs it).  The graph returns the
  detections (boxes in input pixels, scores, labels), each one's mask logits
  (N, 28, 28) and the semantic logits; :func:`fuse_onnx_outputs` pastes the
  masks (mmdet's mask head) and runs the model's fusion.  Three things stand
  in the way with mmdet 3.3 / mmcv 2.1 and are handled during the export
  only (:func:`two_stage_export_patches`; likewise mmcv's modulated
  deformable convolution, whose own symbolic is an mmcv custom op, is
  written as ``DeformConv``): mmcv's ``NMSop`` has no ONNX
  symbolic (the tracer would freeze the indices kept for the dummy input
  into the graph), mmcv's ``RoIAlign`` symbolic writes ``Squeeze`` with an
  ``axes`` attribute (invalid from opset 13, which mmdet's RoI split
  needs), and mmdet 3's export branches (``torch.onnx.is_in_onnx_export()``)
  import ``mmdet.core``, removed in mmdet 3 (mmdeploy replaces them), so
  mmdet's ordinary code paths are traced instead, with mmdet's multi-level
  RoI feature extraction written without data-dependent branches (else the
  FPN levels the dummy input's RoIs did not use would be missing from the
  graph).  The input size is fixed;
  an image in which no box passes the score threshold is covered by a
  zero-score dummy detection that the fusion drops.
"""
import contextlib
import warnings
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from torch import nn

TWO_STAGE_OUTPUTS = ('boxes', 'scores', 'labels', 'mask_logits', 'sem_logits')
# Fusion inputs that are detections: the graph holds the whole two-stage path.
DETECTION_KEYS = {'instances', 'detections'}
TWO_STAGE_OPSET = 19  # DeformConv (UPSNet's DCNv2 semantic head); RoiAlign half_pixel: 16


def _roi_align_symbolic(g, input, rois, output_size, spatial_scale, sampling_ratio,
                        pool_mode, aligned):
    """mmcv's RoIAlign as ONNX ``RoiAlign`` (opset 16); rois are
    (batch index, x1, y1, x2, y2) rows."""
    batch = g.op('Gather', rois, g.op('Constant', value_t=torch.tensor(0)), axis_i=1)
    batch = g.op('Cast', batch, to_i=7)  # int64
    boxes = g.op('Gather', rois, g.op('Constant', value_t=torch.tensor([1, 2, 3, 4])),
                 axis_i=1)
    return g.op('RoiAlign', input, boxes, batch, output_height_i=output_size[0],
                output_width_i=output_size[1], spatial_scale_f=spatial_scale,
                sampling_ratio_i=max(0, sampling_ratio), mode_s=pool_mode,
                coordinate_transformation_mode_s='half_pixel' if aligned
                else 'output_half_pixel')


def _nms_symbolic(g, bboxes, scores, iou_threshold, offset, score_threshold, max_num):
    """mmcv's ``nms`` (indices kept, highest score first) as ONNX
    ``NonMaxSuppression`` on one batch and one class."""
    if offset:
        raise NotImplementedError('ONNX NonMaxSuppression has no +1 box offset (offset=1)')
    zero = g.op('Constant', value_t=torch.tensor([0]))
    args = [g.op('Unsqueeze', bboxes, zero),
            g.op('Unsqueeze', g.op('Unsqueeze', scores, zero), zero),
            g.op('Constant', value_t=torch.tensor([max_num if max_num > 0 else 2 ** 31 - 1])),
            g.op('Constant', value_t=torch.tensor([float(iou_threshold)]))]
    if score_threshold > 0:
        args.append(g.op('Constant', value_t=torch.tensor([float(score_threshold)])))
    selected = g.op('NonMaxSuppression', *args)  # (K, 3): batch, class, box
    return g.op('Gather', selected, g.op('Constant', value_t=torch.tensor(2)), axis_i=1)


def _modulated_deform_conv_symbolic(g, input, offset, mask, weight, bias, stride, padding,
                                    dilation, groups, deform_groups):
    """mmcv's ``ModulatedDeformConv2d`` (DCNv2) as ONNX ``DeformConv``
    (opset 19; offsets as (dy, dx) per kernel point, mask per kernel point,
    as mmcv lays them out) instead of mmcv's custom op."""
    from torch.nn.modules.utils import _pair
    from torch.onnx import symbolic_helper
    if bias is None or symbolic_helper._is_none(bias):
        out_channels = symbolic_helper._get_tensor_sizes(weight)[0]
        bias = g.op('Constant', value_t=torch.zeros(out_channels))
    ph, pw = _pair(padding)
    return g.op('DeformConv', input, weight, offset, bias, mask, strides_i=list(_pair(stride)),
                pads_i=[ph, pw, ph, pw], dilations_i=list(_pair(dilation)), group_i=groups,
                offset_group_i=deform_groups)


def _roi_features_all_levels(self, feats, rois, roi_scale_factor=None):
    """mmdet's ``SingleRoIExtractor.forward`` without its data-dependent
    branches: every level's RoIAlign runs on all RoIs and keeps those mapped
    to that level (a product with the level mask), so the traced graph holds
    every level whichever levels the dummy input's RoIs happened to use.
    Same values: each RoI gets exactly its own level's features."""
    if len(feats) == 1:
        return self.roi_layers[0](feats[0], rois)
    levels = self.map_roi_levels(rois, len(feats))
    if roi_scale_factor is not None:
        rois = self.roi_rescale(rois, roi_scale_factor)
    out = 0
    for i in range(len(feats)):
        weight = (levels == i).to(feats[i].dtype)[:, None, None, None]
        out = out + self.roi_layers[i](feats[i], rois) * weight
    return out


@contextlib.contextmanager
def two_stage_export_patches():
    """For the duration of one export: ONNX symbolics for mmcv's NMS and
    RoIAlign, mmdet's ordinary (non-export) code paths and a branch-free
    multi-level RoI extractor (see the module docstring); everything is
    restored afterwards."""
    from mmcv.ops.modulated_deform_conv import ModulatedDeformConv2dFunction
    from mmcv.ops.nms import NMSop
    from mmcv.ops.roi_align import RoIAlignFunction
    from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
    saved = [(NMSop, 'symbolic', staticmethod(_nms_symbolic)),
             (ModulatedDeformConv2dFunction, 'symbolic',
              staticmethod(_modulated_deform_conv_symbolic)),
             (RoIAlignFunction, 'symbolic', staticmethod(_roi_align_symbolic)),
             (SingleRoIExtractor, 'forward', _roi_features_all_levels),
             (torch.onnx, 'is_in_onnx_export', lambda: False)]
    saved = [(owner, name, owner.__dict__.get(name), new) for owner, name, new in saved]
    for owner, name, _, new in saved:
        setattr(owner, name, new)
    try:
        yield
    finally:
        for owner, name, old, _ in saved:
            if old is None:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


def is_two_stage(model: nn.Module) -> bool:
    """Whether the model's fusion reads detections (``instances`` /
    ``detections`` in its ``input_keys``): the graph then holds the whole
    two-stage path (:mod:`mmpanoptic.models.segmentors.panoptic_fpn`) and the
    masks are pasted in Python.  Other fusions read dense tensors that
    ``predict_outputs`` returns as they are."""
    return bool(set(model.fusion.input_keys) & DETECTION_KEYS)


class TwoStageExportWrapper(nn.Module):
    """Panoptic FPN / UPSNet: ``inputs (1, 3, H, W)`` -> ``boxes`` (N, 4) in
    input pixels, ``scores`` (N,), ``labels`` (N,), ``mask_logits`` (N, M, M)
    of each box's class, ``sem_logits`` (1, C, h, w) at the semantic head's
    stride: the model's own two-stage path (``detect``, ``mask_keep``,
    ``roi_mask_logits``, ``semantic_logits``), as ``network_outputs`` runs it.
    A zero-score box is appended so that the graph never meets an empty set."""

    output_names = TWO_STAGE_OUTPUTS

    def __init__(self, model: nn.Module, input_shape: Tuple[int, int]) -> None:
        super().__init__()
        self.model = model
        h, w = input_shape
        self.meta = dict(img_shape=(h, w), batch_input_shape=(h, w), pad_shape=(h, w),
                         ori_shape=(h, w), scale_factor=(1.0, 1.0))

    def forward(self, inputs: torch.Tensor):
        m = self.model
        x = m.extract_feat(inputs)
        det = m.detect(x, [DetDataSample(metainfo=self.meta)])[0]
        boxes = torch.cat([det.bboxes, det.bboxes.new_zeros(1, 4)])
        scores = torch.cat([det.scores, det.scores.new_zeros(1)])
        labels = torch.cat([det.labels, det.labels.new_zeros(1)])
        keep = m.mask_keep(scores)
        keep[-1] = True  # the dummy box
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        masks = m.roi_mask_logits(x, [boxes], [labels])[0]
        return boxes, scores, labels, masks, m.semantic_logits(x)


class OnnxExportWrapper(nn.Module):
    """``inputs (1, 3, H, W)`` (normalised, as after the data preprocessor)
    -> the fusion's inputs (its ``input_keys``, in that order), for a fixed
    input size."""

    def __init__(self, model: nn.Module, input_shape: Tuple[int, int]) -> None:
        super().__init__()
        self.model = model
        self.output_names = tuple(model.fusion.input_keys)
        h, w = input_shape
        self.meta = dict(img_shape=(h, w), batch_input_shape=(h, w), pad_shape=(h, w),
                         ori_shape=(h, w), scale_factor=(1.0, 1.0))

    def forward(self, inputs: torch.Tensor):
        outputs = self.model.predict_outputs(inputs, [DetDataSample(metainfo=self.meta)])
        for k in self.output_names:
            if not isinstance(outputs[k], torch.Tensor):
                raise NotImplementedError(
                    f'{type(self.model).__name__}: its fusion reads {k!r}, which is not a '
                    'tensor; only tensor outputs (or the two-stage path) export')
        return tuple(outputs[k] for k in self.output_names)


def export_wrapper(model: nn.Module, input_shape: Tuple[int, int]) -> nn.Module:
    """The module that is exported for ``model`` (its outputs are what the
    ONNX graph returns), in eval mode."""
    wrapper = TwoStageExportWrapper if is_two_stage(model) else OnnxExportWrapper
    return wrapper(model.eval(), input_shape).eval()


def export_onnx(model: nn.Module, path: str, input_shape: Tuple[int, int],
                opset: int = 17) -> List[str]:
    """Export; returns the output names.  Two-stage models need opset >= 19
    (``DeformConv``; ``RoiAlign`` with ``half_pixel``); a lower one is raised."""
    # eval() on the wrapper too: the exporter restores the wrapper's mode
    # afterwards, recursively, and a fresh module is in training mode.
    wrapper = export_wrapper(model, input_shape)
    patches = contextlib.nullcontext()
    if isinstance(wrapper, TwoStageExportWrapper):
        opset = max(opset, TWO_STAGE_OPSET)
        patches = two_stage_export_patches()
    # A dummy input the network reacts to (zeros give no proposals to trace).
    dummy = torch.randn(1, 3, *input_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), patches, warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(wrapper, (dummy, ), path, input_names=['inputs'],
                          output_names=list(wrapper.output_names), opset_version=opset,
                          dynamo=False)
    return list(wrapper.output_names)


def fuse_onnx_outputs(model: nn.Module, outputs: Sequence[np.ndarray], names: Sequence[str],
                      metas: Sequence[Dict]):
    """The model's own fusion on ONNX Runtime outputs (numpy) of one image
    (two-stage models: the model's ``fusion_inputs`` first, which pastes the
    masks)."""
    tensors = {n: torch.from_numpy(np.asarray(o)) for n, o in zip(names, outputs)}
    if is_two_stage(model):
        meta = dict(metas[0])
        keep = tensors['scores'] > 0  # the dummy detection
        dets = InstanceData(bboxes=tensors['boxes'][keep], scores=tensors['scores'][keep],
                            labels=tensors['labels'][keep].long())
        with torch.no_grad():
            inputs = model.fusion_inputs([dets], [tensors['mask_logits'][keep]],
                                         tensors['sem_logits'], [meta], rescale=True)
        return model.fusion(inputs, [meta], rescale=True)
    return model.fusion(tensors, list(metas), rescale=True)
