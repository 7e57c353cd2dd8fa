"""The test-time augmentation step every image segmentor declares.

A segmentor class sets ``tta_step`` (declared ``None`` on
:class:`~mmpanoptic.models.segmentors.base.PanopticPredictMixin`) to one
:class:`TTAStep` of this package: it says how one augmented view is run and
how the views of one image are merged into the fusion's inputs.
:class:`~.panoptic_tta.PanopticTTAModel` runs it; the model's own ``fusion``
then runs once on the merged outputs.

The family steps: :class:`~.query_tta.QueryTTA` (MaskFormer, Mask2Former,
K-Net, FC-CLIP), :class:`~.center_tta.CenterTTA` (Panoptic-DeepLab),
:class:`~.two_stage_tta.PanopticFPNTTA` and
:class:`~.two_stage_tta.UPSNetTTA`.
"""
from typing import Dict, List, Sequence, Tuple

import torch.nn.functional as F
from mmdet.structures import SampleList
from torch import Tensor, nn

# One view: the step's outputs, the metas of its images, the padded input (H, W).
View = Tuple[Dict, List[dict], Tuple[int, int]]


class TTAStep:
    """How one model family runs a view and merges the views of an image."""

    def view_outputs(self, model: nn.Module, inputs: Tensor, samples: SampleList) -> Dict:
        """One preprocessed view's outputs (the model's ``predict_outputs``
        unless the family needs more, e.g. features)."""
        return model.predict_outputs(inputs, samples)

    def merge(self, model: nn.Module, views: Sequence[View], b: int) -> Tuple[Dict, dict]:
        """Image ``b`` of every view -> ``(fusion inputs, meta)`` on the
        reference view (the first: the test scale, not flipped)."""
        raise NotImplementedError


def unflip(x: Tensor, meta: dict) -> Tensor:
    """Undo a view's flip on the last two dimensions of ``x``."""
    if not meta.get('flip', False):
        return x
    direction = meta.get('flip_direction', 'horizontal')
    dims = {'horizontal': [-1], 'vertical': [-2], 'diagonal': [-2, -1]}[direction]
    return x.flip(dims)


def merge_dense_maps(maps: Sequence[Tensor], metas: Sequence[dict],
                     size: Tuple[int, int]) -> Tensor:
    """Mean of (C, h, w) maps of one image, each already cropped to its
    view's image region: resized to ``size`` (bilinear), flips undone."""
    total = 0
    for x, meta in zip(maps, metas):
        if tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x[None], size=size, mode='bilinear', align_corners=False)[0]
        total = total + unflip(x, meta)
    return total / len(maps)
