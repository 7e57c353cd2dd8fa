"""Set-prediction losses over clips: one match per track for the whole clip."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.ops import point_sample
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from mmdet.utils import reduce_mean
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mmpanoptic.registry import MODELS

from .losses import dice_loss, pairwise_dice, pairwise_sigmoid_ce, sigmoid_ce_loss
from .matcher import finite_costs
from .set_criterion import MaskSetCriterion
from .targets import panoptic_targets

# (labels (M,), masks (M, T, H, W) bool, present (M, T) bool) of one clip
TubeTargets = Tuple[Tensor, Tensor, Tensor]


def clip_targets(samples: Sequence, *, clip_length: int, num_things: int,
                 num_classes: int) -> List[TubeTargets]:
    """Tube targets of a batch of clips (``clip_length`` consecutive
    samples each, :class:`VideoClipSampler`): one tube per thing track
    (``gt_instances.instances_ids``, load with
    ``LoadPanopticAnnotations(with_track_ids=True)``) and per stuff class
    present in the clip; a tube's masks are empty in the frames it is not
    in (``present`` False there)."""
    if len(samples) % clip_length:
        raise ValueError(f'a batch of {len(samples)} frames is not made of clips of '
                         f'{clip_length}; use VideoClipSampler(clip_length={clip_length}) and '
                         'a batch size that is a multiple of it')
    out = []
    for c in range(0, len(samples), clip_length):
        clip = samples[c:c + clip_length]
        videos = {s.metainfo.get('video_id') for s in clip}
        if len(videos) != 1:
            raise ValueError(f'frames {[s.metainfo.get("img_id") for s in clip]} of a clip '
                             f'come from videos {sorted(map(str, videos))}; use '
                             'VideoClipSampler')
        tubes: Dict[Tuple[bool, int], int] = {}
        labels: List[int] = []
        per_frame = []
        for t, s in enumerate(clip):
            lab, masks = panoptic_targets(s, num_things=num_things, num_classes=num_classes)
            ids = s.gt_instances.get('instances_ids')
            n_things = len(s.gt_instances)
            if n_things and ids is None:
                raise KeyError(f'image {s.metainfo.get("img_id")}: no track ids; load with '
                               'LoadPanopticAnnotations(with_track_ids=True)')
            keys = [(True, int(i)) for i in (ids.tolist() if n_things else [])]
            keys += [(False, int(k)) for k in lab[n_things:].tolist()]
            for key, label in zip(keys, lab.tolist()):
                if key not in tubes:
                    tubes[key] = len(labels)
                    labels.append(label)
                elif labels[tubes[key]] != label:
                    raise ValueError(f'image {s.metainfo.get("img_id")}: track {key[1]} has '
                                     f'label {label} here and {labels[tubes[key]]} earlier in '
                                     'the clip')
            per_frame.append((keys, masks))
        shapes = {m.shape[-2:] for _, m in per_frame}
        if len(shapes) != 1:
            raise ValueError(f'frames of a clip have target sizes {sorted(shapes)}; pad the '
                             'batch (pad_mask / pad_seg in the data preprocessor)')
        h, w = shapes.pop()
        device = per_frame[0][1].device
        tube_masks = torch.zeros((len(labels), clip_length, h, w), dtype=torch.bool,
                                 device=device)
        present = torch.zeros((len(labels), clip_length), dtype=torch.bool, device=device)
        for t, (keys, masks) in enumerate(per_frame):
            for key, m in zip(keys, masks):
                tube_masks[tubes[key], t] = m
                present[tubes[key], t] = True
        out.append((torch.as_tensor(labels, dtype=torch.long, device=device), tube_masks,
                    present))
    return out


@MODELS.register_module()
class TubeMaskSetCriterion(MaskSetCriterion):
    """:class:`MaskSetCriterion` over clips: each query is matched to one
    tube (a track or a stuff class over the clip's T frames) for the whole
    clip, so it must follow that object -- the supervision of learned
    trackers (DVIS's referring tracker and temporal refiner).

    Matching cost: the class cost averaged over the frames the tube is in,
    plus BCE and dice costs of the T masks taken together (the same random
    points in every frame; an absent frame's target mask is empty).
    Losses: cross-entropy per frame (a matched query learns its tube's
    class where the tube is present and, with ``absent_as_no_object``,
    "no object" elsewhere -- a tracker that re-predicts every frame; tube
    queries with one class per clip learn the tube's class in every
    frame), mask BCE
    and dice over the tube (uncertainty-sampled points per frame), averaged
    over the tubes of the batch.

    With ``reid_weight`` > 0 and the tracker's per-frame *references*
    given, DVIS++'s contrastive term is added (``loss_reid``, and the cosine
    term ``loss_aux_reid`` weighted ``aux_reid_weight``): a matched query's
    reference in frame t is the anchor, its own reference in frames t - 1
    and t + 1 the positive and the other queries' there the negatives
    (IDOL's multi-positive form ``log(1 + sum exp(neg - pos))``).

    Args:
        absent_as_no_object: see the losses above.
        reid_weight, aux_reid_weight: contrastive term weights (0: off).
        others: as :class:`MaskSetCriterion` (the matcher's cost weights
            and ``num_points`` are used for the tube matching).
    """

    def __init__(self, *, absent_as_no_object: bool = True, reid_weight: float = 2.0,
                 aux_reid_weight: float = 3.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.mask_loss != 'bce':
            raise ValueError("TubeMaskSetCriterion supports mask_loss='bce' only")
        self.absent_as_no_object = absent_as_no_object
        self.reid_weight = reid_weight
        self.aux_reid_weight = aux_reid_weight

    def forward(self, all_cls_logits: Sequence[Tensor], all_mask_logits: Sequence[Tensor],
                targets: List[TubeTargets],
                references: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Losses of every layer.

        Args:
            all_cls_logits: per layer (N, T, Q, K + 1) for N clips.
            all_mask_logits: per layer (N, T, Q, h, w).
            targets: per clip, :func:`clip_targets`.
            references: (N, T, Q, C) per-frame reference embeddings for the
                contrastive term (matched as the last layer).
        """
        num = sum(len(labels) for labels, _, _ in targets)
        device = all_cls_logits[-1].device
        num = max(float(reduce_mean(torch.tensor(float(num), device=device))), 1.0)
        losses: Dict[str, Tensor] = {}
        last = len(all_cls_logits) - 1
        for i, (cls, masks) in enumerate(zip(all_cls_logits, all_mask_logits)):
            matches = [self.match(c, m, tgt) for c, m, tgt in zip(cls, masks, targets)]
            layer = self.tube_losses(cls, masks, targets, matches, num)
            prefix = '' if i == last else f'd{i}.'
            losses.update({prefix + k: v for k, v in layer.items()})
        if references is not None and self.reid_weight > 0:
            losses.update(self.contrastive(references, targets, matches))
        return losses

    @torch.no_grad()
    def match(self, cls: Tensor, masks: Tensor, target: TubeTargets) -> Tuple[Tensor, Tensor]:
        """``(query index, tube index)`` of one clip: cls (T, Q, K + 1),
        masks (T, Q, h, w)."""
        labels, tube_masks, present = target
        empty = torch.zeros(0, dtype=torch.long, device=cls.device)
        if len(labels) == 0:
            return empty, empty
        t, q = cls.shape[:2]
        probs = cls.float().softmax(-1)[..., labels]  # (T, Q, M)
        frames = present.t().float()[:, None]  # (T, 1, M)
        cost = -(probs * frames).sum(0) / frames.sum(0).clamp(min=1)
        points = self.matcher.num_points or 12544
        coords = torch.rand(1, points, 2, device=cls.device)
        pred = point_sample(masks.transpose(0, 1).flatten(0, 1)[:, None].float(),
                            coords.expand(q * t, -1, -1))[:, 0].view(q, t * points)
        gt = point_sample(tube_masks.flatten(0, 1)[:, None].float(),
                          coords.expand(len(labels) * t, -1, -1))[:, 0].view(len(labels), -1)
        cost = (self.matcher.cost_class * cost
                + self.matcher.cost_mask * pairwise_sigmoid_ce(pred, gt)
                + self.matcher.cost_dice * pairwise_dice(pred, gt))
        rows, cols = linear_sum_assignment(finite_costs(cost))
        return (torch.as_tensor(rows, dtype=torch.long, device=cls.device),
                torch.as_tensor(cols, dtype=torch.long, device=cls.device))

    def tube_losses(self, cls: Tensor, masks: Tensor, targets: List[TubeTargets],
                    matches: List[Tuple[Tensor, Tensor]], num: float) -> Dict[str, Tensor]:
        n, t, q = cls.shape[:3]
        if cls.shape[-1] != self.num_classes + 1:
            raise ValueError(f'class logits have {cls.shape[-1]} columns, expected '
                             f'{self.num_classes + 1}')
        target_classes = torch.full((n, t, q), self.num_classes, dtype=torch.long,
                                    device=cls.device)
        preds, gts = [], []
        for c, ((labels, tube_masks, present), (qi, gi)) in enumerate(zip(targets, matches)):
            lab = labels[gi][None].expand(t, -1)
            if self.absent_as_no_object:
                lab = torch.where(present[gi].t(), lab, torch.full_like(lab, self.num_classes))
            target_classes[c][:, qi] = lab
            preds.append(masks[c][:, qi].transpose(0, 1))  # (m, T, h, w)
            gts.append(tube_masks[gi])
        loss_cls = F.cross_entropy(cls.flatten(0, 2).float(), target_classes.flatten(),
                                   weight=self.class_weight.float())
        pred = torch.cat(preds)
        if len(pred) == 0:
            zero = masks.sum() * 0
            return dict(loss_cls=loss_cls * self.loss_cls_weight, loss_mask=zero,
                        loss_dice=zero)
        m = len(pred)
        gt = torch.cat(gts).flatten(0, 1)[:, None].to(pred.dtype)
        pred = pred.flatten(0, 1)[:, None]
        points = self.num_points or 12544
        with torch.no_grad():
            coords = get_uncertain_point_coords_with_randomness(
                pred, None, points, self.oversample_ratio, self.importance_sample_ratio)
            gt = point_sample(gt, coords)[:, 0].view(m, -1)
        pred = point_sample(pred, coords)[:, 0].view(m, -1)
        return dict(loss_cls=loss_cls * self.loss_cls_weight,
                    loss_mask=sigmoid_ce_loss(pred, gt, num) * self.loss_mask_weight,
                    loss_dice=dice_loss(pred, gt, num) * self.loss_dice_weight)

    def contrastive(self, references: Tensor, targets: List[TubeTargets],
                    matches: List[Tuple[Tensor, Tensor]]) -> Dict[str, Tensor]:
        """DVIS++'s ``loss_reid`` / ``loss_aux_reid`` (see the class doc)."""
        main, aux, count = references.sum() * 0, references.sum() * 0, 0
        for ref, (_, _, present), (qi, gi) in zip(references, targets, matches):
            t, q = ref.shape[:2]
            for frame in range(1, t):
                for query, tube in zip(qi.tolist(), gi.tolist()):
                    if not present[tube, frame]:
                        continue
                    anchor = ref[frame, query]
                    for other in (frame - 1, frame + 1):
                        if other >= t:
                            continue
                        keys = ref[other]
                        label = torch.zeros(q, device=ref.device)
                        label[query] = 1
                        dots = keys @ anchor
                        neg = torch.cat([dots[:query], dots[query + 1:]])
                        main = main + torch.logsumexp(F.pad(neg - dots[query], (1, 0)), 0)
                        cos = F.normalize(keys, dim=-1) @ F.normalize(anchor, dim=0)
                        aux = aux + ((cos - label) ** 2).mean()
                        count += 1
        count = max(count, 1)
        return dict(loss_reid=main / count * self.reid_weight,
                    loss_aux_reid=aux / count * self.aux_reid_weight)
