"""DETR's own panoptic post-processing (``PostProcessPanoptic`` of
facebookresearch/detr, ``models/segmentation.py``).

It differs from the mask-classification rules of MaskFormer and its
successors: a pixel goes to the kept query with the highest mask *logit*
(the class score does not weigh it; DETR takes a softmax over the queries
first, which does not change the argmax), every pixel is assigned (no mask
threshold, no VOID unless no query is kept), and segments of 4 pixels or
fewer are dropped and the assignment redone until none is left.  In the
first assignment the stuff queries of one class count as one (the first of
them takes their pixels), so the others end with no area and are dropped;
the later assignments run without that merge.  The id map is computed at
the image size inside the padding and resized to the original size by
nearest neighbour (PIL's rule, ``nearest-exact``), and the areas are
counted there.

transformers' ``DetrImageProcessor.post_process_panoptic_segmentation``
uses the MaskFormer rules instead (``MaskClassificationFusion`` with the
settings :func:`~mmpanoptic.models.checkpoints.hf_models.transformers_fusion`
writes).
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmengine.structures import InstanceData
from torch import Tensor

from mmpanoptic.registry import MODELS

from .base import PanopticFusion
from .mask_classification import keep_queries


def detr_panoptic(scores: Tensor, labels: Tensor, mask_logits: Tensor, *, num_things: int,
                  out_shape: Tuple[int, int], min_area: int = 4) -> Tuple[Tensor, List[Dict]]:
    """DETR's merge of the kept queries (see the module doc).

    Args:
        scores, labels: (K,) class scores and labels of the kept queries.
        mask_logits: (K, h, w) their mask logits at the image size.
        num_things: things are labels ``< num_things``.
        out_shape: the size of the returned map.
        min_area: segments of at most this many pixels (at ``out_shape``)
            are dropped.

    Returns:
        ``ids`` (H, W) int32 (0 only when nothing is kept) and segments with
        ``id``, ``label``, ``isthing``, ``score``, ``query`` and ``area``.
    """
    device = mask_logits.device
    alive = list(range(len(scores)))
    if not alive:
        return torch.zeros(out_shape, dtype=torch.int32, device=device), []
    labels_l = labels.tolist()
    first_of: Dict[int, int] = {}
    merge = {}
    for k, label in enumerate(labels_l):  # stuff queries of a class -> its first one
        if label >= num_things:
            merge[k] = first_of.setdefault(label, k)

    def assign(queries: List[int], dedup: bool) -> Tuple[Tensor, List[int]]:
        owner = mask_logits[queries].argmax(0)  # index into ``queries``
        if dedup:
            lut = torch.tensor([queries.index(merge.get(q, q)) for q in queries],
                               device=device)
            owner = lut[owner]
        owner = F.interpolate(owner[None, None].float(), size=tuple(out_shape),
                              mode='nearest-exact')[0, 0].long()
        return owner, torch.bincount(owner.flatten(), minlength=len(queries)).tolist()

    owner, areas = assign(alive, dedup=True)
    while True:
        small = [i for i, a in enumerate(areas) if a <= min_area]
        if not small:
            break
        alive = [q for i, q in enumerate(alive) if i not in small]
        if not alive:
            return torch.zeros(out_shape, dtype=torch.int32, device=device), []
        owner, areas = assign(alive, dedup=False)
    scores_l = scores.tolist()
    segments = [dict(id=i + 1, label=labels_l[q], isthing=labels_l[q] < num_things,
                     score=scores_l[q], query=q, area=int(areas[i]))
                for i, q in enumerate(alive)]
    return (owner + 1).to(torch.int32), segments


@MODELS.register_module()
class DETRPanopticFusion(PanopticFusion):
    """DETR's post-processing (see :mod:`.detr`).

    Args:
        num_things, num_stuff: the label split.
        object_mask_thr: minimum class score of a query (DETR: 0.85).
        min_area: the area a segment must exceed (DETR: 4 pixels).
        instance_on: also return the thing detections (DETR's boxes; each
            query's best class but "no object", the thing queries kept,
            masks ``logit > 0``), for box and mask AP.
    """

    input_keys = ('cls_logits', 'mask_logits')

    def __init__(self, *, num_things: int, num_stuff: int, object_mask_thr: float = 0.85,
                 min_area: int = 4, instance_on: bool = False) -> None:
        super().__init__(num_things=num_things, num_stuff=num_stuff)
        self.object_mask_thr = object_mask_thr
        self.min_area = min_area
        self.instance_on = instance_on
        if instance_on:
            self.input_keys = ('cls_logits', 'mask_logits', 'boxes')

    def fuse(self, outputs: Dict, img_metas: Sequence[dict], rescale: bool = True) -> List[Dict]:
        results = []
        for cls, masks, meta in zip(outputs['cls_logits'], outputs['mask_logits'], img_metas):
            keep, scores, labels = keep_queries(cls, num_classes=self.num_classes,
                                                object_mask_thr=self.object_mask_thr)
            h, w = meta['img_shape'][:2]
            pad = meta.get('batch_input_shape', (h, w))
            kept = masks[keep]
            if len(kept) and tuple(kept.shape[-2:]) != tuple(pad):
                kept = F.interpolate(kept[None], size=tuple(pad), mode='bilinear',
                                     align_corners=False)[0]
            kept = kept[:, :h, :w]
            out = tuple(meta['ori_shape'][:2]) if rescale else (h, w)
            index = keep.nonzero()[:, 0].tolist()
            ids, segments = detr_panoptic(scores[keep], labels[keep], kept,
                                          num_things=self.num_things, out_shape=out,
                                          min_area=self.min_area)
            for seg in segments:
                seg['query'] = index[seg['query']]
            result = dict(panoptic=(ids, segments))
            if self.instance_on:
                result['instances'] = self.detections(cls, masks, outputs['boxes'][len(results)],
                                                      meta, out)
            results.append(result)
        return results

    def detections(self, cls: Tensor, masks: Tensor, boxes: Tensor, meta: dict,
                   out: Tuple[int, int]) -> InstanceData:
        """Thing queries as instances at ``out`` size: score and label of the
        best real class, the box (normalised to the image inside the padding,
        so scaled straight to ``out``), the mask ``logit > 0``."""
        scores, labels = cls.softmax(-1)[:, :-1].max(-1)
        things = labels < self.num_things
        h, w = meta['img_shape'][:2]
        pad = meta.get('batch_input_shape', (h, w))
        kept = masks[things]
        if len(kept):
            kept = F.interpolate(kept[None], size=tuple(pad), mode='bilinear',
                                 align_corners=False)[0, :, :h, :w]
            kept = F.interpolate(kept[None], size=tuple(out), mode='bilinear',
                                 align_corners=False)[0]
        else:
            kept = masks.new_zeros((0, *out))
        scale = boxes.new_tensor([out[1], out[0], out[1], out[0]])
        return InstanceData(scores=scores[things], labels=labels[things],
                            bboxes=bbox_cxcywh_to_xyxy(boxes[things]) * scale, masks=kept > 0)
