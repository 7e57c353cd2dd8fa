"""Near-online video: tube queries over clips of T frames, clips linked by
query matching."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..criteria import clip_targets
from ..fusion.base import add_pred_to_samples
from .mask_classification_segmentor import MaskClassificationSegmentor
from .video_segmentor import VideoPanopticSegmentor


@MODELS.register_module()
class TubeVideoSegmentor(VideoPanopticSegmentor):
    """A Mask2Former-style image model run on clips of ``clip_length``
    frames (Tube-Link / Video K-Net / TarViS style): each query attends to
    the features of the T frames of its clip at once
    (:meth:`Mask2FormerQueryHead.forward_clip`) and predicts a *tube*: one
    class for the clip and a mask in every frame, so inside a clip the
    query index is the track.  Clips are linked by query matching: at each
    clip's first frame the tracker (:class:`QueryPropagationTracker`) gives
    the clip's thing queries the live tracks whose query embeddings are
    most similar (cosine, Hungarian, same class).  ``clip_length=1`` is the
    online model (per-frame detection, linked by query embeddings); the
    same weights run any T.

    Training: N clips of T frames per batch (:class:`VideoClipSampler`,
    track ids from ``LoadPanopticAnnotations(with_track_ids=True)``) with
    :class:`TubeMaskSetCriterion` (one match per tube, the tube's class in
    every frame); by default built from the detector's criterion settings.

    Test batches are cut into clips where the video changes and every T
    frames, and a batch boundary ends a clip too: test with
    ``VideoBatchSampler(clip_length=T)`` (a batch = one clip; memory is
    one clip).

    Differences from Tube-Link: no temporal contrastive training of the
    query embeddings (the linking uses the decoder's output queries as they
    are) and clips do not overlap.

    Args:
        detector: a :class:`MaskClassificationSegmentor` config with a
            ``Mask2FormerQueryHead`` (not FC-CLIP: its CLIP ensemble is per
            frame).
        clip_length: T.
        tracker: the clip linker.
        criterion: the clip criterion (None: a :class:`TubeMaskSetCriterion`
            with the detector's cost and loss settings).
    """

    def __init__(self, *, detector: Union[dict, nn.Module], clip_length: int = 3,
                 tracker: dict = dict(type='QueryPropagationTracker', refresh_interval=None,
                                      sim_thr=0.5, max_age=5),
                 criterion: Optional[dict] = None, detector_changes: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if clip_length < 1:
            raise ValueError(f'clip_length must be >= 1, got {clip_length}')
        super().__init__(detector=detector, tracker=tracker, detector_changes=detector_changes,
                         init_cfg=init_cfg)
        det = self.detector
        if not hasattr(getattr(det, 'panoptic_head', None), 'forward_clip'):
            raise TypeError(f'tube queries need a head with forward_clip (Mask2FormerQueryHead),'
                            f' got {type(getattr(det, "panoptic_head", None)).__name__}')
        if type(det).adjust_outputs is not MaskClassificationSegmentor.adjust_outputs:
            raise TypeError(f'{type(det).__name__} adjusts its per-frame outputs '
                            '(adjust_outputs); tube queries use the head alone')
        self.clip_length = clip_length
        if criterion is None:
            c = det.criterion
            criterion = dict(
                type='TubeMaskSetCriterion', num_classes=det.num_classes, matcher=c.matcher,
                no_object_weight=float(c.class_weight[-1]), loss_cls_weight=c.loss_cls_weight,
                loss_mask_weight=c.loss_mask_weight, loss_dice_weight=c.loss_dice_weight,
                num_points=c.num_points, oversample_ratio=c.oversample_ratio,
                importance_sample_ratio=c.importance_sample_ratio,
                absent_as_no_object=False, reid_weight=0.0)
        self.clip_criterion = MODELS.build(criterion)

    @property
    def frames_per_step(self) -> int:
        """Frames a streaming caller should predict together (one clip)."""
        return self.clip_length

    def clip_outputs(self, inputs: Tensor, clip_length: int) -> Tuple[List[Tensor],
                                                                      List[Tensor], Tensor]:
        """Per layer (N, T, Q, K + 1) class and (N, T, Q, h, w) mask logits
        of N clips, and the (N, Q, C) queries."""
        feats = self.detector.extract_feat(inputs)
        cls, masks, queries = self.detector.panoptic_head.forward_clip(feats, clip_length)
        cls = [c[:, None].expand(-1, clip_length, -1, -1) for c in cls]
        masks = [m.transpose(1, 2) for m in masks]
        return cls, masks, queries

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        t = self.clip_length
        targets = clip_targets(data_samples, clip_length=t,
                               num_things=self.detector.num_things_classes,
                               num_classes=self.detector.num_classes)
        cls, masks, _ = self.clip_outputs(inputs, t)
        return self.clip_criterion(cls, masks, targets)

    def predict(self, inputs: Tensor, data_samples):
        """Per-frame predictions with track ids, clip by clip (a batch is
        split where the video changes and every ``clip_length`` frames)."""
        for start, stop in self._clips(data_samples):
            cls, masks, queries = self.clip_outputs(inputs[start:stop], stop - start)
            for t in range(stop - start):
                sample = data_samples[start + t]
                result = self.detector.fusion(
                    dict(cls_logits=cls[-1][:, t], mask_logits=masks[-1][:, t]),
                    [sample.metainfo])[0]
                ids, segments = result['panoptic']
                result['panoptic'] = self.tracker.track(ids, segments, queries=queries[0],
                                                        fresh=t == 0)
                add_pred_to_samples([sample], [result])
        return data_samples

    def _clips(self, samples: Sequence) -> List[Tuple[int, int]]:
        spans: List[Tuple[int, int]] = []
        for i, sample in enumerate(samples):
            if self._new_pass(sample):
                self.tracker.reset()
                spans.append((i, i + 1))
            elif spans and spans[-1][1] - spans[-1][0] < self.clip_length:
                spans[-1] = (spans[-1][0], i + 1)
            else:
                spans.append((i, i + 1))
        return spans
