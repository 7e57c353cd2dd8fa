"""Mask-classification targets (one binary mask + class per segment)."""
from typing import List, Tuple

import torch
from mmdet.structures import DetDataSample
from torch import Tensor


def instance_masks(instances, shape, device) -> Tensor:
    """(N, H, W) bool masks of ``instances`` (an ``InstanceData`` with
    ``masks``, or None); an empty (0, H, W) tensor when there are none."""
    if instances is None or len(instances) == 0:
        return torch.zeros((0, *shape), dtype=torch.bool, device=device)
    return instances.masks.to_tensor(dtype=torch.bool, device=device)


def panoptic_targets(sample: DetDataSample, *, num_things: int,
                     num_classes: int) -> Tuple[Tensor, Tensor]:
    """Labels and masks of every non-crowd thing and every stuff class.

    Things come from ``gt_instances`` (crowd ones are already split off into
    ``ignored_instances`` by the packer), stuff from ``gt_sem_seg``: one mask
    per stuff class present.  Both follow the training augmentations and the
    batch padding (padding is 255 in the semantic map, so it is in no mask).

    Args:
        sample: a packed training sample.
        num_things: thing labels are ``[0, num_things)``.
        num_classes: stuff labels are ``[num_things, num_classes)``.

    Returns:
        ``labels`` (N,) int64 and ``masks`` (N, H, W) bool.
    """
    inst = sample.gt_instances
    labels = inst.labels.long()
    if len(labels) and labels.max() >= num_things:
        raise ValueError(f'image {sample.metainfo.get("img_id")}: thing label '
                         f'{int(labels.max())} >= num_things={num_things}')
    if 'gt_sem_seg' not in sample:
        raise KeyError(f'image {sample.metainfo.get("img_id")}: no gt_sem_seg; load '
                       'panoptic annotations with with_seg=True for mask classification')
    sem = sample.gt_sem_seg.sem_seg[0]
    h, w = sem.shape
    masks = instance_masks(inst, (h, w), sem.device)
    if masks.shape[-2:] != (h, w):
        raise ValueError(f'image {sample.metainfo.get("img_id")}: instance masks are '
                         f'{tuple(masks.shape[-2:])} but the semantic map is {(h, w)}')
    present = torch.unique(sem)
    stuff = present[(present >= num_things) & (present < num_classes)].long()
    stuff_masks = sem[None] == stuff[:, None, None]
    return (torch.cat([labels.to(sem.device), stuff]), torch.cat([masks, stuff_masks]))


def batch_targets(samples: List[DetDataSample], *, num_things: int,
                  num_classes: int) -> List[Tuple[Tensor, Tensor]]:
    """:func:`panoptic_targets` for every sample of a batch."""
    return [panoptic_targets(s, num_things=num_things, num_classes=num_classes)
            for s in samples]
