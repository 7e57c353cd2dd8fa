"""Panoptic FPN's heuristic merge: the pure function and its fusion.

:func:`heuristic_merge` returns ``(panoptic_ids, segments_info)``: an
``(H, W)`` int32 map of segment ids (0 = VOID, 1..K = segments) and one dict
per segment.  Nothing is packed as ``instance * 1000 + label``, so any
number of classes works.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmpanoptic.registry import MODELS

from .base import PanopticFusion


def heuristic_merge(masks: Tensor,
                    labels: Tensor,
                    scores: Tensor,
                    sem_seg: Tensor,
                    *,
                    num_things: int,
                    score_thr: float = 0.5,
                    overlap_thr: float = 0.5,
                    stuff_area_limit: int = 4096,
                    num_stuff: Optional[int] = None) -> Tuple[Tensor, List[Dict]]:
    """Panoptic FPN's heuristic merge (Kirillov et al., 2019).

    Instances are pasted in decreasing score order; an instance whose
    already-covered fraction exceeds ``overlap_thr`` is dropped, otherwise it
    keeps only its uncovered pixels.  Then every stuff class predicted by the
    semantic head on still-free pixels becomes a segment when its area is at
    least ``stuff_area_limit``.  Pixels left over stay VOID.  The loop runs
    over instances (at most a few hundred), never over pixels.

    Args:
        masks: (N, H, W) bool instance masks.
        labels: (N,) int64 thing labels in ``[0, num_things)``.
        scores: (N,) float instance scores.
        sem_seg: (S + 1, H, W) semantic logits of Panoptic FPN's semantic
            head: channel ``s < S`` is stuff label ``num_things + s``, channel
            ``S`` is "any thing" and never becomes a segment; or an (H, W)
            int64 map of such channel indices (then ``num_stuff`` = S is
            needed: the map alone does not say which index is "any thing").
        num_things: number of thing classes.
        score_thr: instances scoring below this are ignored.
        overlap_thr: max fraction of an instance that may already be covered.
        stuff_area_limit: minimum area (pixels) of a stuff segment.
        num_stuff: S, required with an (H, W) ``sem_seg``.

    Returns:
        ``ids`` (H, W) int32 and ``segments_info``: dicts with ``id``,
        ``label``, ``isthing``, ``score`` (1.0 for stuff) and ``area``.

    >>> m = torch.zeros(1, 4, 4, dtype=torch.bool); m[0, :2, :2] = True
    >>> sem = torch.zeros(2, 4, 4); sem[0] = 1.0      # stuff channel 0 wins
    >>> ids, info = heuristic_merge(m, torch.tensor([0]), torch.tensor([0.9]),
    ...                              sem, num_things=1, stuff_area_limit=1)
    >>> ids.tolist()[0], [(s['label'], s['area']) for s in info]
    ([1, 1, 2, 2], [(0, 4), (1, 12)])
    """
    if sem_seg.dim() == 3:
        if num_stuff is not None and sem_seg.shape[0] != num_stuff + 1:
            raise ValueError(f'semantic logits have {sem_seg.shape[0]} channels, expected '
                             f'num_stuff + 1 = {num_stuff + 1} (stuff classes, then "things")')
        sem_labels = sem_seg.argmax(0)
    elif sem_seg.dim() == 2:
        if num_stuff is None:
            raise ValueError('an (H, W) sem_seg holds channel indices; pass num_stuff (S) so '
                             'that channel S is known to be "any thing"')
        sem_labels = sem_seg.long()
        if sem_labels.numel() and not 0 <= int(sem_labels.min()) <= int(sem_labels.max()) \
                <= num_stuff:
            raise ValueError(f'sem_seg channel indices must be in [0, {num_stuff}], found '
                             f'{int(sem_labels.min())}..{int(sem_labels.max())}')
    else:
        raise ValueError(f'sem_seg must be (C, H, W) or (H, W), got {tuple(sem_seg.shape)}')
    h, w = sem_labels.shape
    if masks.numel() and masks.shape[-2:] != (h, w):
        raise ValueError(f'instance masks are {tuple(masks.shape[-2:])} but the '
                         f'semantic map is {(h, w)}')
    ids = torch.zeros((h, w), dtype=torch.int32, device=sem_labels.device)
    covered = torch.zeros((h, w), dtype=torch.bool, device=sem_labels.device)
    segments: List[Dict] = []

    index = torch.nonzero(scores >= score_thr).flatten()
    # argsort of the negated scores, as mmdet's HeuristicFusionHead: ties keep
    # the same order as there.  One gather of the masks, not two.
    index = index[torch.argsort(-scores[index])]
    masks_k, labels_k, scores_k = masks[index].bool(), labels[index], scores[index]
    areas = masks_k.flatten(1).sum(1).tolist() if len(masks_k) else []
    for i, area in enumerate(areas):
        if area == 0:
            continue
        mask = masks_k[i]
        overlap = (mask & covered).sum().item()
        if overlap / area > overlap_thr:
            continue
        if overlap:
            mask = mask & ~covered
        seg_id = len(segments) + 1
        ids[mask] = seg_id
        covered |= mask
        segments.append(
            dict(id=seg_id,
                 label=int(labels_k[i]),
                 isthing=True,
                 score=float(scores_k[i]),
                 area=int(area - overlap)))

    num_channels = int(sem_seg.shape[0]) if sem_seg.dim() == 3 else num_stuff + 1
    thing_channel = num_channels - 1
    uncovered = ~covered
    stuff_area = torch.bincount(sem_labels[uncovered], minlength=num_channels)
    # Channel -> segment id, then one lookup paints every stuff segment.
    lut = torch.zeros(num_channels, dtype=torch.int32, device=ids.device)
    for ch in torch.nonzero(stuff_area >= max(stuff_area_limit, 1)).flatten().tolist():
        if ch == thing_channel:
            continue
        seg_id = len(segments) + 1
        lut[ch] = seg_id
        segments.append(
            dict(id=seg_id,
                 label=num_things + ch,
                 isthing=False,
                 score=1.0,
                 area=int(stuff_area[ch])))
    if len(segments) and not segments[-1]['isthing']:
        ids = torch.where(uncovered, lut[sem_labels], ids)
    return ids, segments


@MODELS.register_module()
class HeuristicFusion(PanopticFusion):
    """Panoptic FPN's merge of instances and semantic stuff.

    Why ours: mmdet's ``HeuristicFusionHead`` packs ``instance * 1000 +
    label`` into one id (breaks above 1000 classes) and its knobs live in
    ``test_cfg``.  This one returns an id map plus ``segments_info`` and
    takes its knobs here.

    Args:
        num_things: number of thing classes (labels ``[0, num_things)``).
        num_stuff: number of stuff classes; when given, semantic logits must
            have ``num_stuff + 1`` channels (stuff, then "things").
        score_thr: minimum instance score.
        overlap_thr: maximum covered fraction for an instance to be pasted.
        stuff_area_limit: minimum stuff segment area in pixels.

    Reads ``instances`` (per image ``InstanceData`` with ``masks``,
    ``labels``, ``scores``) and ``sem_logits`` (per image (S + 1, H, W)),
    both already at the output size; the instances are also returned.
    """

    input_keys = ('instances', 'sem_logits')

    def __init__(self, *, num_things: int, num_stuff: Optional[int] = None,
                 score_thr: float = 0.5, overlap_thr: float = 0.5,
                 stuff_area_limit: int = 4096) -> None:
        super().__init__(num_things=num_things, num_stuff=num_stuff)
        self.score_thr = score_thr
        self.overlap_thr = overlap_thr
        self.stuff_area_limit = stuff_area_limit

    def fuse(self, outputs: Dict, batch_img_metas: Sequence[dict],
             rescale: bool = True) -> List[Dict]:
        """Fuse each image's instances with its semantic logits."""
        results = []
        for inst, sem in zip(outputs['instances'], outputs['sem_logits']):
            ids, segments = heuristic_merge(
                inst.masks, inst.labels, inst.scores, sem, num_things=self.num_things,
                score_thr=self.score_thr, overlap_thr=self.overlap_thr,
                stuff_area_limit=self.stuff_area_limit, num_stuff=self.num_stuff)
            results.append(dict(panoptic=(ids, segments), instances=inst))
        return results

    def extra_repr(self) -> str:
        return (f'num_things={self.num_things}, score_thr={self.score_thr}, '
                f'overlap_thr={self.overlap_thr}, stuff_area_limit={self.stuff_area_limit}')
