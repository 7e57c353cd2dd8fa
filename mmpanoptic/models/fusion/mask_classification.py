"""Inference for mask-classification models (MaskFormer, Mask2Former, K-Net).

Every query (or kernel) predicts class logits ``(Q, C + 1)`` (the last column
is "no object") and mask logits ``(Q, H, W)``.  These pure functions turn them
into panoptic, semantic and instance results.  They are shared by all query
models, the open-vocabulary classifier and the video trackers.

Why not mmdet's ``MaskFormerFusionHead``: it applies the sigmoid to every
query's full-resolution mask before filtering, then loops over the kept
queries with three full-image compares and a masked write each, and packs ids
as ``label + instance * 1000``.  Here the sigmoid runs only on kept queries,
the per-query areas come from one ``bincount`` and the map is painted with one
lookup, because the argmax regions are disjoint and painting order cannot
matter.  The panoptic partition and labels are identical to mmdet's (tested).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures.mask import mask2bbox
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmpanoptic.registry import MODELS

from .base import PanopticFusion


def keep_queries(cls_logits: Tensor, *, num_classes: int,
                 object_mask_thr: float) -> Tuple[Tensor, Tensor, Tensor]:
    """Queries whose best class is not "no object" and scores above a threshold.

    Args:
        cls_logits: (Q, C + 1) class logits; column ``C`` is "no object".
        num_classes: C.
        object_mask_thr: minimum softmax score of the best class.

    Returns:
        ``keep`` (Q,) bool, ``scores`` (Q,) and ``labels`` (Q,) int64 of the
        best class of every query.
    """
    if cls_logits.shape[-1] != num_classes + 1:
        raise ValueError(f'class logits have {cls_logits.shape[-1]} columns, expected '
                         f'num_classes + 1 = {num_classes + 1} (the last is "no object")')
    scores, labels = F.softmax(cls_logits, dim=-1).max(-1)
    keep = labels.ne(num_classes) & (scores > object_mask_thr)
    return keep, scores, labels


def panoptic_from_queries(scores: Tensor,
                          labels: Tensor,
                          mask_logits: Tensor,
                          *,
                          num_things: int,
                          keep: Optional[Tensor] = None,
                          iou_thr: float = 0.8,
                          filter_low_score: bool = False,
                          compete_only: Optional[Tensor] = None,
                          probabilities: bool = False,
                          mask_thr: float = 0.5,
                          strict_overlap: bool = False,
                          score_weighted_area: bool = False,
                          merge_stuff: bool = True,
                          band_bytes: int = 2**21) -> Tuple[Tensor, List[Dict]]:
    """Compose a panoptic map from the kept queries.

    A pixel goes to the kept query maximizing ``score * sigmoid(mask)``.  A
    query keeps its pixels when it owns some, has a non-empty mask
    (sigmoid >= ``mask_thr``) and owns at least ``iou_thr`` of that mask;
    otherwise they stay VOID.  Stuff queries of one class become one segment.

    The defaults are detectron2's / mmdet's rules.  transformers'
    ``post_process_panoptic_segmentation`` differs, and its rules are
    settings here: a query must own *more than* ``iou_thr``
    (``strict_overlap``); Mask2Former's and MaskFormer's processors measure
    the mask on ``score * sigmoid`` (``score_weighted_area``); stuff is
    merged only for the classes the caller names (``merge_stuff=False``: every
    query its own segment, their default).

    On CPU the image is processed in bands of rows whose (K, rows, W) buffer
    is about ``band_bytes``: the sigmoid, area count, product and argmax then
    run in cache instead of streaming four full-size buffers through memory
    (66 ms instead of ~600 ms for 60 queries at 800x1200 on 2 cores).

    Args:
        scores: (Q,) class scores.
        labels: (Q,) int64 class labels; things are ``< num_things``.
        mask_logits: (Q, H, W) mask logits.
        num_things: number of thing classes.
        keep: (Q,) bool of the queries to use (all when None).
        iou_thr: minimum fraction of a query's mask left after the argmax.
        filter_low_score: also drop the query's pixels whose own mask
            probability is below 0.5 (mmdet's ``filter_low_score``).
        compete_only: (Q,) bool of queries that take part in the argmax but
            never become segments: the pixels they win stay VOID (K-Net's
            things below ``instance_score_thr``).
        probabilities: ``mask_logits`` already holds probabilities (K-Net
            resizes after the sigmoid); no sigmoid is applied.
        mask_thr: the mask probability that counts as foreground (for the
            mask area and ``filter_low_score``).
        strict_overlap: keep a query only if the share it owns exceeds
            ``iou_thr`` (transformers) instead of reaching it (detectron2).
        score_weighted_area: the mask area is that of ``score * sigmoid >=
            mask_thr`` (transformers' Mask2Former / MaskFormer processors).
        merge_stuff: stuff queries of one class become one segment.
        band_bytes: size of one band's buffer on CPU; a single band on GPU.

    Returns:
        ``ids`` (H, W) int32 (0 = VOID, segments 1..S in query order) and
        ``segments_info``: dicts with ``id``, ``label``, ``isthing``,
        ``score`` (the best query of the segment), ``query`` (index of its
        first query in ``mask_logits``, for query-based trackers) and ``area``.

    >>> logits = torch.full((2, 2, 3), -9.0); logits[0, :, :2] = 9; logits[1, :, 2] = 9
    >>> ids, segs = panoptic_from_queries(torch.tensor([0.9, 0.95]),
    ...                                   torch.tensor([0, 3]), logits, num_things=2)
    >>> ids.tolist(), [(s['label'], s['isthing'], s['area']) for s in segs]
    ([[1, 1, 2], [1, 1, 2]], [(0, True, 4), (3, False, 2)])
    """
    if keep is not None:
        index = keep.nonzero()[:, 0]
        scores, labels = scores[index], labels[index]
        query_of = index.tolist()
    else:
        index = None
        query_of = list(range(len(scores)))
    k = len(scores)
    h, w = mask_logits.shape[-2:]
    device = mask_logits.device
    if k == 0:
        return torch.zeros((h, w), dtype=torch.int32, device=device), []
    rows = h if device.type != 'cpu' else max(1, band_bytes // (4 * k * w))
    owner = torch.empty((h, w), dtype=torch.long, device=device)
    own_prob = torch.empty((h, w), device=device) if filter_low_score else None
    mask_areas = torch.zeros(k, dtype=torch.long, device=device)
    weights = scores.view(-1, 1, 1).to(mask_logits.dtype)
    for r0 in range(0, h, rows):
        band = mask_logits[:, r0:r0 + rows]
        band = band[index] if index is not None else band.clone()  # a fresh buffer
        if not probabilities:
            band.sigmoid_()
        probs = band.clone() if filter_low_score else None
        if not score_weighted_area:
            mask_areas += (band >= mask_thr).sum((1, 2))
        band.mul_(weights)
        if score_weighted_area:
            mask_areas += (band >= mask_thr).sum((1, 2))
        # torch.max(dim) returns the first maximum, as mmdet's argmax does.
        owner[r0:r0 + rows] = band.max(0).indices
        if filter_low_score:
            own_prob[r0:r0 + rows] = probs.gather(0, owner[None, r0:r0 + rows])[0]
    owned = torch.bincount(owner.flatten(), minlength=k)
    # mmdet's test, in double as Python does it: owned / area < iou_thr drops
    # (transformers': owned / area > iou_thr keeps).
    ratio = owned.double() / mask_areas.clamp(min=1).double()
    enough = ratio > iou_thr if strict_overlap else ~(ratio < iou_thr)
    valid = (owned > 0) & (mask_areas > 0) & enough
    if compete_only is not None:
        valid &= ~(compete_only[index] if index is not None else compete_only).to(device)

    lut = torch.zeros(k, dtype=torch.int32)
    segments: List[Dict] = []
    stuff_ids: Dict[int, Dict] = {}
    labels_l, scores_l, valid_l = labels.tolist(), scores.tolist(), valid.tolist()
    for q in range(k):  # Q <= a few hundred queries; no pixel work here
        if not valid_l[q]:
            continue
        label, isthing = labels_l[q], labels_l[q] < num_things
        if not isthing and merge_stuff and label in stuff_ids:
            seg = stuff_ids[label]
            seg['score'] = max(seg['score'], scores_l[q])
        else:
            seg = dict(id=len(segments) + 1, label=label, isthing=isthing,
                       score=scores_l[q], query=query_of[q])
            segments.append(seg)
            if not isthing:
                stuff_ids[label] = seg
        lut[q] = seg['id']
    ids = lut.to(device)[owner]
    if filter_low_score:
        ids = torch.where(own_prob >= mask_thr, ids, ids.new_zeros(()))
    areas = torch.bincount(ids.flatten().long(), minlength=len(segments) + 1).tolist()
    kept = []
    for seg in segments:  # filter_low_score can empty a segment
        seg['area'] = int(areas[seg['id']])
        if seg['area'] > 0:
            kept.append(seg)
    if len(kept) != len(segments):  # renumber 1..S without gaps
        remap = torch.zeros(len(segments) + 1, dtype=torch.int32, device=device)
        for new_id, seg in enumerate(kept, 1):
            remap[seg['id']] = new_id
            seg['id'] = new_id
        ids = remap[ids.long()]
    return ids.to(torch.int32), kept


def semantic_from_queries(cls_logits: Tensor, mask_logits: Tensor) -> Tensor:
    """Per-class scores ``sum_q softmax(cls)_qc * sigmoid(mask)_q``.

    Args:
        cls_logits: (Q, C + 1) logits; the "no object" column is dropped.
        mask_logits: (Q, H, W).

    Returns:
        (C, H, W) semantic scores (MaskFormer's semantic inference).
    """
    probs = F.softmax(cls_logits, dim=-1)[:, :-1]
    q, h, w = mask_logits.shape
    return (probs.t() @ mask_logits.sigmoid().view(q, -1)).view(-1, h, w)


def instances_from_queries(cls_logits: Tensor,
                           mask_logits: Tensor,
                           *,
                           num_things: int,
                           max_per_image: int = 100) -> InstanceData:
    """Top-k (query, class) pairs over thing classes, as mmdet's MaskFormer.

    The score is the class probability times the mean mask probability
    inside the binary mask (logit > 0).

    Args:
        cls_logits: (Q, C + 1) logits.
        mask_logits: (Q, H, W) logits.
        num_things: thing classes are ``< num_things``.
        max_per_image: k of the top-k before keeping things only.

    Returns:
        InstanceData with ``scores`` (N,), ``labels`` (N,), ``bboxes``
        (N, 4) xyxy and ``masks`` (N, H, W) bool.
    """
    num_classes = cls_logits.shape[1] - 1
    probs = F.softmax(cls_logits, dim=-1)[:, :-1].flatten()
    top_scores, top = probs.topk(min(max_per_image, probs.numel()), sorted=False)
    labels = top % num_classes
    queries = torch.div(top, num_classes, rounding_mode='floor')
    things = labels < num_things
    top_scores, labels, queries = top_scores[things], labels[things], queries[things]
    masks = mask_logits[queries]
    binary = masks > 0
    inside = binary.flatten(1).sum(1)
    mask_scores = (masks.sigmoid() * binary).flatten(1).sum(1) / (inside + 1e-6)
    return InstanceData(scores=top_scores * mask_scores, labels=labels,
                        bboxes=mask2bbox(binary), masks=binary)


def upsample_masks(mask_logits: Tensor, *, img_shape: Tuple[int, int],
                   ori_shape: Optional[Tuple[int, int]],
                   pad_shape: Optional[Tuple[int, int]] = None,
                   mode: str = 'crop',
                   fixed_size: Optional[Tuple[int, int]] = None) -> Tensor:
    """Mask logits at the model's resolution -> logits on the image.

    Resize to the padded input ``pad_shape`` (when given and different),
    crop the batch padding to ``img_shape``, then resize to ``ori_shape``:
    the same two interpolations as mmdet's Mask2Former, applied only to the
    masks passed in (callers pass the kept queries).

    ``mode='transformers'``: take the sigmoid at the model's resolution (or,
    with ``fixed_size``, after resizing the logits to that size, as
    transformers' Mask2Former processor does with 384 x 384) and resize the
    *probabilities* straight to the output size, the padding included
    (transformers' MaskFormer / Mask2Former / DETR post-processing); the
    result then holds probabilities.

    Args:
        mask_logits: (K, h, w) logits.
        img_shape: (H, W) of the resized image inside the padding.
        ori_shape: (H, W) to resize to, or None to stay at ``img_shape``.
        pad_shape: (H, W) of the padded batch input, or None when the
            logits are already at that size.
        mode: ``'crop'`` (detectron2, mmdet), ``'transformers'``, or
            ``'direct'``: the logits resized straight to the output size in
            one step (transformers' VidEoMT; only without batch padding).
        fixed_size: with ``'transformers'``, the size the logits are
            resized to before the sigmoid (None: none).
    """
    masks = mask_logits
    if mode not in ('crop', 'transformers', 'direct'):
        raise ValueError(f"mask resize mode {mode!r}: 'crop', 'transformers' or 'direct'")
    if mode == 'direct':  # logits straight to the output size (transformers' VidEoMT)
        out = tuple(ori_shape if ori_shape is not None else img_shape)
        if pad_shape is not None and tuple(pad_shape) != tuple(img_shape):
            raise ValueError(f"mask_resize='direct' resizes the whole mask map, which here "
                             f"holds padding ({tuple(pad_shape)} padded, image "
                             f"{tuple(img_shape)}); use 'crop'")
        if masks.shape[0] == 0 or tuple(masks.shape[-2:]) == out:
            return masks.new_zeros((0, *out)) if masks.shape[0] == 0 else masks
        return F.interpolate(masks[None], size=out, mode='bilinear', align_corners=False)[0]
    if mode == 'transformers':
        out = tuple(ori_shape if ori_shape is not None else img_shape)
        if masks.shape[0] == 0:
            return masks.new_zeros((0, *out))
        if fixed_size is not None:
            masks = F.interpolate(masks[None], size=tuple(fixed_size), mode='bilinear',
                                  align_corners=False)[0]
        masks = masks.sigmoid()
        if tuple(masks.shape[-2:]) == out:
            return masks
        return F.interpolate(masks[None], size=out, mode='bilinear', align_corners=False)[0]
    if pad_shape is not None and tuple(masks.shape[-2:]) != tuple(pad_shape) and len(masks):
        masks = F.interpolate(masks[None], size=tuple(pad_shape), mode='bilinear',
                              align_corners=False)[0]
    masks = masks[:, :img_shape[0], :img_shape[1]]
    if ori_shape is not None and tuple(masks.shape[-2:]) != tuple(ori_shape):
        if masks.shape[0] == 0:
            return masks.new_zeros((0, *ori_shape))
        masks = F.interpolate(masks[:, None], size=tuple(ori_shape), mode='bilinear',
                              align_corners=False)[:, 0]
    return masks


@MODELS.register_module()
class MaskClassificationFusion(PanopticFusion):
    """Panoptic / semantic / instance results from query classes and masks.

    One post-processor for MaskFormer, Mask2Former, K-Net and the
    open-vocabulary and video models (see :mod:`.mask_classification`).

    Args:
        num_things: thing classes are labels ``[0, num_things)``.
        num_stuff: stuff classes follow.
        object_mask_thr: minimum class score of a query (panoptic).
        iou_thr: minimum share of a query's mask it must keep (panoptic).
        filter_low_score: drop owned pixels whose mask probability <
            ``mask_thr``.
        mask_thr, strict_overlap, score_weighted_area, merge_stuff: see
            :func:`panoptic_from_queries` (detectron2's rules by default;
            transformers' processors are reproduced by the configs that
            ``tools/model_converters/hf_to_mmpanoptic.py`` writes).
        mask_resize: ``'crop'`` (the padding cropped before resizing to the
            image, as detectron2 and mmdet do), ``'transformers'``
            (probabilities resized with the padding) or ``'direct'`` (logits
            straight to the image, one resize: VidEoMT), see
            :func:`upsample_masks`.
        fixed_mask_size: with ``'transformers'``, the size the logits are
            resized to first (transformers' Mask2Former: 384 x 384); given
            alone it implies ``'transformers'``.
        panoptic_on, semantic_on, instance_on: which results to return.
        max_per_image: instances kept before the thing filter.

    >>> import torch
    >>> fusion = MaskClassificationFusion(num_things=1, num_stuff=1, semantic_on=True)
    >>> out = fusion(dict(cls_logits=torch.randn(1, 5, 3), mask_logits=torch.randn(1, 5, 8, 8)),
    ...              [dict(img_shape=(8, 8), ori_shape=(16, 16))])
    >>> out[0]['panoptic'][0].shape, out[0]['semantic'].sem_seg.shape
    (torch.Size([16, 16]), torch.Size([1, 16, 16]))
    """

    def __init__(self,
                 *,
                 num_things: int,
                 num_stuff: int,
                 object_mask_thr: float = 0.8,
                 iou_thr: float = 0.8,
                 filter_low_score: bool = False,
                 mask_thr: float = 0.5,
                 strict_overlap: bool = False,
                 score_weighted_area: bool = False,
                 merge_stuff: bool = True,
                 mask_resize: Optional[str] = None,
                 fixed_mask_size: Optional[Sequence[int]] = None,
                 panoptic_on: bool = True,
                 semantic_on: bool = False,
                 instance_on: bool = False,
                 max_per_image: int = 100) -> None:
        super().__init__(num_things=num_things, num_stuff=num_stuff)
        self.object_mask_thr = object_mask_thr
        self.iou_thr = iou_thr
        self.filter_low_score = filter_low_score
        self.mask_thr = mask_thr
        self.strict_overlap = strict_overlap
        self.score_weighted_area = score_weighted_area
        self.merge_stuff = merge_stuff
        self.fixed_mask_size = tuple(fixed_mask_size) if fixed_mask_size is not None else None
        if mask_resize is None:
            mask_resize = 'crop' if fixed_mask_size is None else 'transformers'
        if mask_resize not in ('crop', 'transformers', 'direct'):
            raise ValueError(f"mask_resize={mask_resize!r}: 'crop', 'transformers' or "
                             "'direct'")
        if mask_resize == 'crop' and fixed_mask_size is not None:
            raise ValueError("fixed_mask_size needs mask_resize='transformers'")
        self.mask_resize = mask_resize
        self.panoptic_on = panoptic_on
        self.semantic_on = semantic_on
        self.instance_on = instance_on
        self.max_per_image = max_per_image

    input_keys = ('cls_logits', 'mask_logits')

    def fuse(self, outputs: Dict, img_metas: Sequence[dict], rescale: bool = True) -> List[Dict]:
        """Results per image.

        Args:
            outputs: ``cls_logits`` (B, Q, C + 1) class logits and
                ``mask_logits`` (B, Q, h, w) mask logits at the padded
                input size (any resolution: they are resized to it first).
            img_metas: per image ``img_shape`` (H, W) inside the padding and,
                when ``rescale``, ``ori_shape``; ``batch_input_shape`` when
                the masks are smaller than the padded input.
            rescale: return results at ``ori_shape``.

        Returns:
            One dict per image with, as enabled, ``panoptic`` =
            ``(ids (H, W) int32, segments_info)``, ``semantic`` = PixelData
            (``sem_seg`` (1, H, W) labels, ``logits`` (C, H, W)) and
            ``instances`` = InstanceData.
        """
        results = []
        for cls, masks, meta in zip(outputs['cls_logits'], outputs['mask_logits'], img_metas):
            size = dict(img_shape=meta['img_shape'][:2],
                        ori_shape=meta['ori_shape'][:2] if rescale else None,
                        pad_shape=meta.get('batch_input_shape', meta['img_shape'][:2]))
            out = {}
            if self.panoptic_on:
                keep, scores, labels = keep_queries(
                    cls, num_classes=self.num_classes, object_mask_thr=self.object_mask_thr)
                # Only the kept queries are resized (twice, as mmdet does for all).
                kept = upsample_masks(masks[keep], mode=self.mask_resize,
                                      fixed_size=self.fixed_mask_size, **size)
                ids, segments = panoptic_from_queries(
                    scores[keep], labels[keep], kept, num_things=self.num_things,
                    iou_thr=self.iou_thr, filter_low_score=self.filter_low_score,
                    mask_thr=self.mask_thr, strict_overlap=self.strict_overlap,
                    score_weighted_area=self.score_weighted_area,
                    merge_stuff=self.merge_stuff,
                    probabilities=self.mask_resize == 'transformers')
                kept_index = keep.nonzero()[:, 0].tolist()
                for seg in segments:  # query index among all queries
                    seg['query'] = kept_index[seg['query']]
                out['panoptic'] = (ids, segments)
            if self.semantic_on or self.instance_on:
                full = upsample_masks(masks, mode=self.mask_resize,
                                      fixed_size=self.fixed_mask_size, **size)
                if self.mask_resize == 'transformers':  # back to logits for these two
                    full = torch.logit(full.clamp(1e-6, 1 - 1e-6))
                if self.semantic_on:
                    logits = semantic_from_queries(cls, full)
                    out['semantic'] = PixelData(sem_seg=logits.argmax(0, keepdim=True),
                                                logits=logits)
                if self.instance_on:
                    out['instances'] = instances_from_queries(
                        cls, full, num_things=self.num_things,
                        max_per_image=self.max_per_image)
            results.append(out)
        return results
