"""Instance AP and semantic mIoU from the same run as PQ, with the reference
metrics themselves: mmdet's ``CocoMetric`` and mmseg's ``IoUMetric``.

A panoptic dataset has no instance or semantic annotation files; both are
implied by its panoptic ground truth.  These two subclasses only build the
inputs those metrics expect, from what every mmpanoptic evaluation pipeline
already provides (``gt_panoptic_seg``: the id map and ``segments_info``), and
leave the scoring to mmdet / mmseg:

- :class:`InstanceFromPanopticMetric`: each thing segment becomes a COCO
  instance (RLE mask, box, ``iscrowd``); predictions are the model's
  ``pred_instances`` (Mask2Former / MaskFormer / K-Net with
  ``instance_on=True``, Panoptic FPN, UPSNet) or, for models without them
  (Panoptic-DeepLab), the thing segments of the panoptic prediction with
  their ``score``.  With ``gt_source='instances_json'`` the ground truth is
  an instances JSON (``ann_file``, e.g. ``instances_val2017.json``: mmdet's
  own path) and a missing file is an error; the source used is logged.
- :class:`SemanticIoUMetric`: the ground-truth label map is every pixel's
  segment class (VOID = ignored); the prediction is ``pred_sem_seg`` when the
  model gives one (``semantic_on=True``), else the class of each pixel's
  panoptic segment.
"""
import json
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmdet.evaluation.metrics import CocoMetric
from mmengine.logging import print_log
from mmseg.evaluation.metrics import IoUMetric
from pycocotools import mask as mask_util

from mmpanoptic.registry import METRICS

from .panoptic_quality import _to_numpy


def _thing_names(meta: dict):
    if 'thing_classes' in meta:
        return list(meta['thing_classes'])
    return [n for n, t in zip(meta['classes'], meta['isthing']) if t]


def gt_instances_from_panoptic(ids: np.ndarray, segments: Sequence[dict]) -> list:
    """mmdet's raw ``instances`` (xyxy ``bbox``, ``bbox_label``, ``ignore_flag``
    = crowd, RLE ``mask``) of the thing segments of a panoptic ground truth."""
    out = []
    for s in segments:
        if not s.get('isthing'):
            continue
        m = np.asfortranarray(ids == s['id'])
        ys, xs = np.nonzero(m)
        if len(xs) == 0:
            continue
        rle = mask_util.encode(m.astype(np.uint8))
        rle['counts'] = rle['counts'].decode()
        out.append(dict(bbox=[float(xs.min()), float(ys.min()), float(xs.max() + 1),
                              float(ys.max() + 1)],
                        bbox_label=int(s['label']), ignore_flag=int(bool(s.get('iscrowd'))),
                        mask=rle))
    return out


def pred_instances_from_panoptic(ids, segments: Sequence[dict]) -> dict:
    """``pred_instances`` of a model that gives none: its panoptic thing
    segments, scored by their ``score`` (1.0 when the model gives none)."""
    ids = torch.as_tensor(ids)
    things = [s for s in segments if s.get('isthing')]
    masks = torch.stack([ids == s['id'] for s in things]) if things else \
        torch.zeros((0, *ids.shape), dtype=torch.bool)
    boxes = []
    for m in masks:
        ys, xs = torch.nonzero(m, as_tuple=True)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return dict(masks=masks, labels=torch.tensor([int(s['label']) for s in things],
                                                 dtype=torch.long),
                scores=torch.tensor([float(s.get('score', 1.0)) for s in things]),
                bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))


@METRICS.register_module()
class InstanceFromPanopticMetric(CocoMetric):
    """mmdet's ``CocoMetric`` (``segm``, and ``bbox`` where the model has
    boxes) on a panoptic dataset, without an instances JSON.

    Args:
        gt_source: where the instance ground truth comes from:
            ``'panoptic'`` (the thing segments of the panoptic annotation;
            the default without ``ann_file``) or ``'instances_json'``
            (``ann_file``; the default with it).  Nothing switches silently:
            a named file that does not exist is an error.
        ann_file: the instances JSON for ``gt_source='instances_json'``.
        **kwargs: as for mmdet's ``CocoMetric`` (``metric``, ``classwise``, ...).

    Ground-truth ``area`` is the mask's pixel count (the official instances
    JSON's convention; mmdet's CocoMetric would take the box area when it
    builds the JSON itself), so AP_s / AP_m / AP_l bucket objects by mask area.
    """
    default_prefix = 'coco'
    GT_SOURCES = ('panoptic', 'instances_json')

    def __init__(self, ann_file: Optional[str] = None, metric='segm',
                 gt_source: Optional[str] = None, **kwargs) -> None:
        if gt_source is None:
            gt_source = 'panoptic' if ann_file is None else 'instances_json'
        if gt_source not in self.GT_SOURCES:
            raise ValueError(f'InstanceFromPanopticMetric: gt_source={gt_source!r}, expected '
                             f'one of {self.GT_SOURCES}')
        if gt_source == 'panoptic' and ann_file is not None:
            raise ValueError(f"InstanceFromPanopticMetric: gt_source='panoptic' takes no "
                             f'ann_file (got {ann_file}); use gt_source=\'instances_json\' to '
                             'read it')
        if gt_source == 'instances_json':
            if ann_file is None:
                raise ValueError("InstanceFromPanopticMetric: gt_source='instances_json' "
                                 'needs ann_file (the instances JSON)')
            if not osp.isfile(ann_file):
                raise FileNotFoundError(
                    f'{ann_file}: the instances JSON of InstanceFromPanopticMetric '
                    "(gt_source='instances_json') does not exist; to take the instances "
                    "from the panoptic ground truth instead, set gt_source='panoptic' and "
                    'ann_file=None (e.g. --cfg-options test_evaluator.1.gt_source=panoptic '
                    'test_evaluator.1.ann_file=None)')
        self.gt_source = gt_source
        super().__init__(ann_file=ann_file, metric=metric, **kwargs)
        print_log('InstanceFromPanopticMetric: instance ground truth from '
                  + (f'{ann_file}' if gt_source == 'instances_json' else
                     'the thing segments of the panoptic annotation'), logger='current')

    @property
    def dataset_meta(self):
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: dict) -> None:
        # CocoMetric's labels index the thing classes (mmpanoptic labels
        # things first), so its categories are those.
        meta = dict(meta or {})
        if 'classes' in meta:
            meta['classes'] = tuple(_thing_names(meta))
        self._dataset_meta = meta

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        samples = []
        for sample in data_samples:
            sample = dict(sample)
            gt = sample.get('gt_panoptic_seg')
            if self._coco_api is None:
                if gt is None:
                    raise KeyError('InstanceFromPanopticMetric needs gt_panoptic_seg in the '
                                   'data samples (LoadPanopticAnnotations(with_panoptic=True))')
                sample['instances'] = gt_instances_from_panoptic(
                    _to_numpy(gt['sem_seg'])[0], gt['segments_info'])
            pred = sample.get('pred_instances')
            if pred is None or 'masks' not in pred:
                pan = sample['pred_panoptic_seg']
                sample['pred_instances'] = pred_instances_from_panoptic(
                    pan['sem_seg'][0], pan['segments_info'])
            samples.append(sample)
        super().process(data_batch, samples)

    def gt_to_coco_json(self, gt_dicts, outfile_prefix):
        path = super().gt_to_coco_json(gt_dicts, outfile_prefix)
        with open(path) as f:
            data = json.load(f)
        for ann in data['annotations']:
            if 'segmentation' in ann:
                ann['area'] = float(mask_util.area(ann['segmentation']))
        with open(path, 'w') as f:
            json.dump(data, f)
        return path


@METRICS.register_module()
class SemanticIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` (mIoU, mAcc, aAcc over stuff and things) on the
    semantic maps implied by the panoptic ground truth and prediction.

    Args:
        **kwargs: as for mmseg's ``IoUMetric`` (``iou_metrics``, ...);
            ``ignore_index`` is 255 (VOID).
    """
    default_prefix = 'semantic'

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('ignore_index', 255)
        super().__init__(**kwargs)

    def _semantic(self, pan: dict) -> torch.Tensor:
        ids = torch.as_tensor(_to_numpy(pan['sem_seg'])[0]).long()
        lut = {int(s['id']): int(s['label']) for s in pan['segments_info']}
        # One pass over the pixels (not one per segment): label per present id, gathered.
        present, inverse = torch.unique(ids, return_inverse=True)
        labels = torch.tensor([lut.get(sid, self.ignore_index) for sid in present.tolist()],
                              dtype=ids.dtype)
        return labels[inverse]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        samples = []
        for sample in data_samples:
            gt = sample.get('gt_panoptic_seg')
            if gt is None:
                raise KeyError('SemanticIoUMetric needs gt_panoptic_seg in the data samples '
                               '(LoadPanopticAnnotations(with_panoptic=True))')
            pred = sample.get('pred_sem_seg')
            if pred is not None and 'sem_seg' in pred:
                pred_map = torch.as_tensor(_to_numpy(pred['sem_seg'])[0]).long()
            else:
                pred_map = self._semantic(sample['pred_panoptic_seg'])
            samples.append(dict(pred_sem_seg=dict(data=pred_map[None]),
                                gt_sem_seg=dict(data=self._semantic(gt)[None]),
                                img_path=sample.get('img_path', '')))
        super().process(data_batch, samples)
