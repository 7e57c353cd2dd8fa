"""ViP-DeepLab (Qiao et al., CVPR 2021): Panoptic-DeepLab plus a
next-frame instance branch, stitched frame to frame."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from torch import Tensor

from mmpanoptic.registry import MODELS

from ..builder import merged_config
from ..criteria.panoptic_deeplab_criterion import _weighted_mean
from ..criteria.targets import instance_masks
from ..fusion.base import add_pred_to_samples
from ..fusion.center_grouping import (
    at_output_size,
    find_centers,
    group_pixels,
    upsample_predictions,
)
from ..heads.panoptic_deeplab_head import _Predictor
from .video_segmentor import VideoPanopticSegmentor, check_frame_pairs


def next_offset_targets(ref: DetDataSample, key: DetDataSample) -> Tuple[Tensor, Tensor]:
    """ViP-DeepLab's next-frame offsets for a (frame t, frame t + 1) pair:
    every pixel of a thing of frame t + 1 whose track is in frame t points
    to that track's center *in frame t* (the rounded mask mean, as
    Panoptic-DeepLab's centers).  Returns ``offset`` (2, H, W) (dy, dx) and
    ``weight`` (1, H, W) (1 on those pixels).  Track ids:
    ``gt_instances.instances_ids`` (``LoadPanopticAnnotations(with_track_ids=True)``)."""
    shape = key.gt_sem_seg.sem_seg.shape[-2:]
    device = key.gt_sem_seg.sem_seg.device
    masks = {}
    for s, name in ((ref, 'ref'), (key, 'key')):
        inst = s.get('gt_instances')
        m = instance_masks(inst, tuple(shape), device)
        if len(m) and inst.get('instances_ids') is None:
            raise KeyError(f'image {s.metainfo.get("img_id")}: no track ids; load with '
                           'LoadPanopticAnnotations(with_track_ids=True)')
        if m.shape[-2:] != shape:
            raise ValueError(f'frames {ref.metainfo.get("img_id")} and '
                             f'{key.metainfo.get("img_id")} of a pair differ in size')
        masks[name] = dict(zip(inst.instances_ids.tolist(), m)) if len(m) else {}
    offset = torch.zeros((2, *shape), device=device)
    weight = torch.zeros((1, *shape), device=device)
    for tid, mask in masks['key'].items():
        prev = masks['ref'].get(tid)
        if prev is None or not prev.any() or not mask.any():
            continue
        py, px = prev.nonzero(as_tuple=True)
        cy, cx = py.float().mean().round(), px.float().mean().round()
        ky, kx = mask.nonzero(as_tuple=True)
        offset[0, ky, kx] = cy - ky.float()
        offset[1, ky, kx] = cx - kx.float()
        weight[0, ky, kx] = 1.0
    return offset, weight


@MODELS.register_module()
class ViPDeepLab(VideoPanopticSegmentor):
    """Panoptic-DeepLab (``detector``) on each frame, plus the next-frame
    instance branch: a DeepLabV3+ decoder on the backbone features of
    frames t and t + 1 concatenated (level by level) predicts, for every
    pixel of frame t + 1, the offset to its instance's center *in frame t*.

    Training: (t, t + 1) pairs (``VideoClipSampler(clip_length=2)``):
    Panoptic-DeepLab's losses on both frames and an L1 next-offset loss
    (``loss_next_offset``, weighted as the offset loss) on frame t + 1's
    pixels of tracks present in frame t.

    Inference, frame by frame (constant memory: the previous frame's
    features, centers and their track ids): the frame's panoptic map from
    Panoptic-DeepLab's fusion; its thing pixels grouped (offset + nearest
    center) around the previous frame's centers give the *propagated* map,
    each pixel carrying the track id of the previous frame's segment at
    that center; :class:`NextFrameStitcher` gives each segment the track
    it overlaps most.

    Differences from the paper on purpose: the two frames go through the
    backbone separately (shared weights) and are concatenated at every
    level the decoder reads (the paper concatenates the two frames'
    features too; its depth-estimation head is not built); stitching is
    one-to-one and class-aware (see :class:`NextFrameStitcher`).

    Args:
        detector: a :class:`PanopticDeepLab` config.
        next_decoder: changes to the ``DeepLabV3PlusDecoder`` of the next
            branch; by default the detector's instance decoder with its
            input widths doubled.
        next_head_channels: width of the next-offset predictor (the
            instance heads' by default).
        next_offset_weight: weight of ``loss_next_offset`` (the detector's
            offset weight by default).
        tracker: the stitcher.
    """

    def __init__(self, *, detector: dict, next_decoder: Optional[dict] = None,
                 next_head_channels: Optional[int] = None,
                 next_offset_weight: Optional[float] = None,
                 tracker: Union[dict, object] = dict(type='NextFrameStitcher'),
                 detector_changes: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if not isinstance(detector, dict):
            raise TypeError('ViPDeepLab needs the detector as a config dict')
        if detector_changes:
            detector = merged_config(detector, detector_changes)
        super().__init__(detector=detector, tracker=tracker, init_cfg=init_cfg)
        head_cfg = detector['decode_head']
        inst = head_cfg['instance_decoder']
        decoder = merged_config(inst, dict(in_channels=[2 * c for c in inst['in_channels']]))
        self.next_decoder = MODELS.build(merged_config(decoder, next_decoder or {}))
        channels = next_head_channels or head_cfg.get('instance_head_channels', 32)
        norm = head_cfg.get('norm_cfg') or dict(type='BN', requires_grad=True)
        act = head_cfg.get('act_cfg') or dict(type='ReLU')
        self.next_offset_predictor = _Predictor(self.next_decoder.out_channels, channels, 2,
                                                norm, act)
        self.next_offset_weight = (self.detector.criterion.loss_weights['offset']
                                   if next_offset_weight is None else next_offset_weight)
        self._previous: Optional[Dict] = None

    def next_offsets(self, feats_t: Sequence[Tensor], feats_next: Sequence[Tensor]) -> Tensor:
        """(B, 2, h, w) next-frame offsets at the decoder's resolution."""
        both = [torch.cat([a, b], 1) for a, b in zip(feats_t, feats_next)]
        return self.next_offset_predictor(self.next_decoder(both))

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """Panoptic-DeepLab's losses on every frame + the next-offset loss
        on each (t, t + 1) pair."""
        check_frame_pairs(data_samples, 'ViPDeepLab', 'VideoClipSampler(clip_length=2)')
        det = self.detector
        size = tuple(inputs.shape[-2:])
        feats = det.extract_feat(inputs)
        losses = det.criterion(upsample_predictions(det.decode_head(feats), size),
                               data_samples)
        pred = self.next_offsets([f[0::2] for f in feats], [f[1::2] for f in feats])
        pred = upsample_predictions(dict(offset=pred), size)['offset']
        targets = [next_offset_targets(r, k)
                   for r, k in zip(data_samples[0::2], data_samples[1::2])]
        target = torch.stack([t[0] for t in targets])
        weight = torch.stack([t[1] for t in targets])
        l1 = F.l1_loss(pred, target, reduction='none').sum(1, keepdim=True)
        losses['loss_next_offset'] = self.next_offset_weight * _weighted_mean(l1, weight)
        return losses

    def predict(self, inputs: Tensor, data_samples):
        """Per-frame panoptic predictions with stitched track ids."""
        det, fusion = self.detector, self.detector.fusion
        feats = det.extract_feat(inputs)
        size = tuple(inputs.shape[-2:])
        outputs = upsample_predictions(det.decode_head(feats), size)
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            if self._new_pass(sample):
                self.tracker.reset()
                self._previous = None
            frame = {k: v[i:i + 1] for k, v in outputs.items()}
            result = fusion(frame, [meta])[0]
            ids, segments = result['panoptic']
            frame_feats = [f[i:i + 1] for f in feats]
            propagated = None
            if self._previous is not None:
                nxt = self.next_offsets(self._previous['feats'], frame_feats)
                nxt = upsample_predictions(dict(offset=nxt), size)
                offset = at_output_size(nxt, meta)['offset'][0]
                propagated = self._propagate(ids, segments, offset)
            ids, segments = self.tracker.track(ids, segments, propagated=propagated)
            result['panoptic'] = (ids, segments)
            center = at_output_size(dict(center=frame['center']), meta)['center'][0, 0]
            centers = find_centers(center, threshold=fusion.center_threshold,
                                   nms_kernel=fusion.nms_kernel, top_k=fusion.top_k)
            self._previous = dict(feats=[f.detach() for f in frame_feats], centers=centers,
                                  center_ids=ids[centers[:, 0], centers[:, 1]].long())
            add_pred_to_samples([sample], [result])
        return data_samples

    def _propagate(self, ids: Tensor, segments: List[Dict], offset: Tensor) -> Tensor:
        """(H, W) previous track ids carried to this frame's thing pixels."""
        thing_ids = [s['id'] for s in segments if s['isthing']]
        prev = self._previous
        if not thing_ids or len(prev['centers']) == 0:
            return torch.zeros_like(ids)
        things = torch.isin(ids, torch.tensor(thing_ids, dtype=ids.dtype, device=ids.device))
        nearest = group_pixels(prev['centers'], offset, things)  # 1 + center index
        lut = torch.cat([prev['center_ids'].new_zeros(1), prev['center_ids']])
        return lut[nearest].to(ids.dtype)
