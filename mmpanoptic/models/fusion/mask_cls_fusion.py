"""Registered wrapper of the shared mask-classification inference."""
from typing import Dict, List, Sequence

from mmengine.structures import PixelData
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from .mask_classification import (
    instances_from_queries,
    keep_queries,
    panoptic_from_queries,
    semantic_from_queries,
    upsample_masks,
)


@MODELS.register_module()
class MaskClassificationFusion(nn.Module):
    """Panoptic / semantic / instance results from query classes and masks.

    One post-processor for MaskFormer, Mask2Former, K-Net and the
    open-vocabulary and video models (see :mod:`.mask_classification`).

    Args:
        num_things: thing classes are labels ``[0, num_things)``.
        num_stuff: stuff classes follow.
        object_mask_thr: minimum class score of a query (panoptic).
        iou_thr: minimum share of a query's mask it must keep (panoptic).
        filter_low_score: drop owned pixels whose mask probability < 0.5.
        panoptic_on, semantic_on, instance_on: which results to return.
        max_per_image: instances kept before the thing filter.

    >>> import torch
    >>> fusion = MaskClassificationFusion(num_things=1, num_stuff=1, semantic_on=True)
    >>> out = fusion(torch.randn(1, 5, 3), torch.randn(1, 5, 8, 8),
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
                 panoptic_on: bool = True,
                 semantic_on: bool = False,
                 instance_on: bool = False,
                 max_per_image: int = 100) -> None:
        super().__init__()
        self.num_things = num_things
        self.num_stuff = num_stuff
        self.num_classes = num_things + num_stuff
        self.object_mask_thr = object_mask_thr
        self.iou_thr = iou_thr
        self.filter_low_score = filter_low_score
        self.panoptic_on = panoptic_on
        self.semantic_on = semantic_on
        self.instance_on = instance_on
        self.max_per_image = max_per_image

    def forward(self, cls_logits: Tensor, mask_logits: Tensor,
                img_metas: Sequence[dict], rescale: bool = True) -> List[Dict]:
        """Results per image.

        Args:
            cls_logits: (B, Q, C + 1) class logits.
            mask_logits: (B, Q, h, w) mask logits at the padded input size
                (any resolution: they are resized to it first).
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
        for cls, masks, meta in zip(cls_logits, mask_logits, img_metas):
            size = dict(img_shape=meta['img_shape'][:2],
                        ori_shape=meta['ori_shape'][:2] if rescale else None,
                        pad_shape=meta.get('batch_input_shape', meta['img_shape'][:2]))
            out = {}
            if self.panoptic_on:
                keep, scores, labels = keep_queries(
                    cls, num_classes=self.num_classes, object_mask_thr=self.object_mask_thr)
                # Only the kept queries are resized (twice, as mmdet does for all).
                kept = upsample_masks(masks[keep], **size)
                ids, segments = panoptic_from_queries(
                    scores[keep], labels[keep], kept, num_things=self.num_things,
                    iou_thr=self.iou_thr, filter_low_score=self.filter_low_score)
                kept_index = keep.nonzero()[:, 0].tolist()
                for seg in segments:  # query index among all queries
                    seg['query'] = kept_index[seg['query']]
                out['panoptic'] = (ids, segments)
            if self.semantic_on or self.instance_on:
                full = upsample_masks(masks, **size)
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
