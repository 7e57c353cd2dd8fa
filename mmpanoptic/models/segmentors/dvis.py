"""DVIS / DVIS++: a frozen query segmenter, a learned referring tracker and
an offline temporal refiner."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..builder import merged_config
from ..classifiers.text_classifier import text_classifier_like
from ..criteria import clip_targets
from ..fusion.base import add_pred_to_samples
from .video_segmentor import VideoPanopticSegmentor


@MODELS.register_module()
class DVIS(VideoPanopticSegmentor):
    """Decoupled video segmentation (DVIS / DVIS++) on any Mask2Former-style
    image model (a head with ``forward_with_queries``).

    The image model (``detector``) is frozen: it only gives each frame's
    output queries and mask features.  :class:`ReferringTracker` turns them
    into tracked queries whose index is the object (online, frame by
    frame); :class:`TemporalRefiner` refines the tracked queries of a
    whole video (offline).  Both re-predict classes and masks; the
    detector's own fusion makes the panoptic frame and
    ``QueryPropagationTracker(refresh_interval=None)`` names the ids by
    query index (a documented extension of the tracker interface: the
    learned part predicts, the :class:`BaseTracker` names).

    Training (clips of ``clip_length`` frames of one video,
    :class:`VideoClipSampler`; track ids from
    ``LoadPanopticAnnotations(with_track_ids=True)``), in DVIS's two stages:

    - ``train_part='tracker'``: the referring tracker with
      :class:`TubeMaskSetCriterion` (one match per track for the clip, every
      block supervised) and DVIS++'s contrastive term on its references;
      the tracker's denoising is on in training;
    - ``train_part='refiner'``: the refiner on the frozen tracker's outputs
      (load the stage-1 checkpoint), the same tube losses.

    Loading a checkpoint without the tracker (an image model's) starts the
    tracker from the segmenter's heads, and one without the refiner starts
    the refiner from the tracker's (``warm_start``: they then reproduce the
    part below them exactly; DVIS starts both at random).

    Inference: ``mode='online'`` (the tracker's predictions, streaming,
    constant memory) or ``mode='offline'`` (the refiner's, over each whole
    video; test batches must be whole videos: ``VideoBatchSampler``).  The
    same checkpoint runs both when it holds a refiner.

    Open vocabulary (OV-DVIS++): on a segmenter with a text classifier
    (``FCCLIP``, or a Mask2Former with ``TextEmbeddingClassifier``) the
    tracker and the refiner get text classifiers too (unless their config
    names a ``classifier``), in the same text space, sharing the
    segmenter's text encoder; :meth:`set_vocabulary` switches all of them.
    The segmenter's :meth:`adjust_outputs` (FC-CLIP's ensemble with the
    frozen CLIP's mask-pooled scores) is applied to the tracked masks of
    each frame; offline, the ensembled log-probabilities of a track are
    averaged over the video, so a track keeps one class.  (OV-DVIS++ pools
    the CLIP features of a track over the whole video before classifying;
    an online model here classifies each frame as it comes.)

    Args:
        detector: the image model config (its weights: ``load_from`` an
            image checkpoint; its keys go to ``detector.``).
        referring_tracker: :class:`ReferringTracker` config (``num_classes``,
            ``embed_dims`` and ``mask_dims`` are filled from the detector).
        refiner: :class:`TemporalRefiner` config, or None (online only).
        criterion: :class:`TubeMaskSetCriterion` config (``num_classes``
            filled in).
        clip_length: frames per training clip.
        mode: ``'online'`` or ``'offline'``.
        train_part: ``'tracker'`` or ``'refiner'``.
        tracker: the id namer (see above).
    """

    MODES = ('online', 'offline')
    PARTS = ('tracker', 'refiner')

    def __init__(self, *, detector: Union[dict, nn.Module], referring_tracker: dict,
                 refiner: Optional[dict] = None,
                 criterion: dict = dict(type='TubeMaskSetCriterion'), clip_length: int = 5,
                 mode: str = 'online', train_part: str = 'tracker',
                 tracker: dict = dict(type='QueryPropagationTracker', refresh_interval=None),
                 detector_changes: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got {mode!r}')
        if train_part not in self.PARTS:
            raise ValueError(f'train_part must be one of {self.PARTS}, got {train_part!r}')
        if (mode == 'offline' or train_part == 'refiner') and refiner is None:
            raise ValueError(f"DVIS(mode={mode!r}, train_part={train_part!r}) needs a refiner "
                             '(TemporalRefiner config)')
        super().__init__(detector=detector, tracker=tracker, detector_changes=detector_changes,
                         init_cfg=init_cfg)
        head = getattr(self.detector, 'panoptic_head', None)
        if not hasattr(head, 'query_feat') or not hasattr(head, 'forward_with_queries'):
            raise TypeError(f'DVIS needs a Mask2Former-style query head (queries and mask '
                            f'features per frame), got {type(head).__name__}')
        dims = dict(num_classes=self.detector.num_classes,
                    embed_dims=head.query_feat.embedding_dim,
                    mask_dims=head.mask_embed[-1].out_features)
        self.referring_tracker = MODELS.build(merged_config(dims, referring_tracker))
        self.refiner = MODELS.build(merged_config(dims, refiner)) if refiner else None
        self._text_class_layers(referring_tracker, refiner)
        self.criterion = MODELS.build(merged_config(
            dict(num_classes=self.detector.num_classes), criterion))
        self.clip_length = clip_length
        self.mode = mode
        self.train_part = train_part
        frozen = [self.detector] + ([self.referring_tracker] if train_part == 'refiner' else [])
        for part in frozen:
            part.requires_grad_(False)
        self.register_load_state_dict_post_hook(_warm_start_missing_parts)

    def _text_class_layers(self, tracker_cfg: dict, refiner_cfg: Optional[dict]) -> None:
        """On an open-vocabulary segmenter the tracker and the refiner
        classify in its text space (their configs may name their own
        ``classifier`` instead)."""
        texts = getattr(self.detector, 'text_classifiers', lambda: [])()
        if not texts:
            return
        for part, cfg in ((self.referring_tracker, tracker_cfg), (self.refiner, refiner_cfg)):
            if part is not None and not cfg.get('classifier'):
                part.class_embed = text_classifier_like(texts[0],
                                                        part.class_embed.in_features)

    def set_vocabulary(self, classes: Sequence, num_things: int) -> None:
        """The segmenter's, the tracker's and the refiner's classes (see
        :meth:`VideoPanopticSegmentor.set_vocabulary`)."""
        super().set_vocabulary(classes, num_things)
        for part in (self.referring_tracker, self.refiner):
            layer = getattr(part, 'class_embed', None)
            if hasattr(layer, 'set_vocabulary'):
                layer.set_vocabulary(classes)

    @property
    def needs_whole_video(self) -> bool:
        """Offline inference refines each video at its end."""
        return self.mode == 'offline'

    def train(self, mode: bool = True) -> 'DVIS':
        """The frozen parts stay in eval mode (BN statistics, no dropout)."""
        super().train(mode)
        self.detector.eval()
        if self.train_part == 'refiner':
            self.referring_tracker.eval()
        return self

    @torch.no_grad()
    def segment_frames(self, inputs: Tensor, samples, with_features: bool = False) -> Tuple:
        """The frozen segmenter on (B, 3, H, W) frames: raw queries and
        normed queries (B, Q, C), mask features (B, D, h, w) and, with
        ``with_features``, the last backbone level (what
        :meth:`adjust_outputs` pools, e.g. FC-CLIP's frozen CLIP features)."""
        head = self.detector.panoptic_head
        x = self.detector.extract_feat(inputs)
        _, _, queries, mask_features = head.forward_with_queries(
            x, [s.metainfo for s in samples], with_mask_features=True)
        out = (queries, head.transformer_decoder.post_norm(queries), mask_features)
        return out + (x[-1],) if with_features else out

    def _adjusted(self, cls: Tensor, masks: Tensor, features: Tensor) -> Tensor:
        """The segmenter's :meth:`adjust_outputs` on tracked (B, Q, ...)
        logits (FC-CLIP: the ensemble with CLIP's scores of the masks)."""
        return self.detector.adjust_outputs(dict(cls_logits=cls, mask_logits=masks),
                                            [features])['cls_logits']

    def track_clips(self, queries: Tensor, normed: Tensor,
                    mask_features: Tensor) -> Dict[str, Tensor]:
        """The referring tracker over N clips of T frames ((N, T, ...)
        inputs): ``cls`` (L, N, T, Q, K + 1), ``masks`` (L, N, T, Q, h, w),
        ``tracked`` / ``reference`` / ``aligned`` (N, T, Q, C)."""
        self.referring_tracker.reset()
        frames = [self.referring_tracker(queries[:, t], normed[:, t], mask_features[:, t])
                  for t in range(queries.shape[1])]
        self.referring_tracker.reset()
        out = {k: torch.stack([f[k] for f in frames], 2)
               for k in ('cls', 'masks')}  # (L, N, T, ...)
        out.update({k: torch.stack([f[k] for f in frames], 1)
                    for k in ('tracked', 'reference', 'aligned')})
        return out

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """Tube losses of the trained part on clips of ``clip_length``."""
        t = self.clip_length
        targets = clip_targets(data_samples, clip_length=t,
                               num_things=self.detector.num_things_classes,
                               num_classes=self.detector.num_classes)
        queries, normed, feats = (x.unflatten(0, (-1, t))
                                  for x in self.segment_frames(inputs, data_samples))
        if self.train_part == 'tracker':
            out = self.track_clips(queries, normed, feats)
            return self.criterion(list(out['cls']), list(out['masks']), targets,
                                  references=out['reference'])
        with torch.no_grad():
            out = self.track_clips(queries, normed, feats)
        cls, masks = self.refiner(out['tracked'], out['aligned'], feats)
        return self.criterion(list(cls), list(masks), targets)

    def predict(self, inputs: Tensor, data_samples):
        """Per-frame panoptic predictions with track ids (see the class doc)."""
        queries, normed, feats, image = self.segment_frames(inputs, data_samples,
                                                             with_features=True)
        if self.mode == 'online':
            for i, sample in enumerate(data_samples):
                new = self._new_pass(sample)
                if new:
                    self.referring_tracker.reset()
                    self.tracker.reset()
                out = self.referring_tracker(queries[i:i + 1], normed[i:i + 1],
                                             feats[i:i + 1])
                cls = self._adjusted(out['cls'][-1], out['masks'][-1], image[i:i + 1])
                self._finish(sample, cls, out['masks'][-1], out['tracked'][0], new)
            return data_samples
        for start, stop in self._whole_videos(data_samples):
            out = self.track_clips(queries[None, start:stop], normed[None, start:stop],
                                   feats[None, start:stop])
            cls, masks = self.refiner(out['tracked'], out['aligned'], feats[None, start:stop])
            cls, masks = cls[-1, 0], masks[-1, 0]  # (T, Q, ...)
            adjusted = self._adjusted(cls, masks, image[start:stop])
            if adjusted is not cls:  # one class per track: the mean over the video
                adjusted = adjusted.mean(0, keepdim=True).expand_as(adjusted)
            self.tracker.reset()
            for t in range(stop - start):
                self._finish(data_samples[start + t], adjusted[t:t + 1], masks[t:t + 1],
                             out['tracked'][0, t], t == 0)
        return data_samples

    def _finish(self, sample, cls: Tensor, masks: Tensor, tracked: Tensor, new: bool) -> None:
        """Fuse one frame's (1, Q, ...) logits and name its ids."""
        result = self.detector.fusion(dict(cls_logits=cls, mask_logits=masks),
                                      [sample.metainfo])[0]
        ids, segments = result['panoptic']
        result['panoptic'] = self.tracker.track(ids, segments, queries=tracked, fresh=new)
        add_pred_to_samples([sample], [result])

    def _whole_videos(self, samples: Sequence) -> List[Tuple[int, int]]:
        """``(start, stop)`` of each video in an offline batch; a video that
        continues from the previous batch is an error (it would be refined
        in pieces)."""
        spans: List[Tuple[int, int]] = []
        for i, sample in enumerate(samples):
            if self._new_pass(sample):
                spans.append((i, i + 1))
            elif not spans:
                raise ValueError(
                    f'DVIS(mode=offline) refines whole videos: frame '
                    f'{sample.metainfo.get("frame_id")} of video '
                    f'{sample.metainfo.get("video_id")} continues a video of an earlier '
                    'batch; give each video as one batch (test_dataloader batch_sampler='
                    "dict(type='VideoBatchSampler'))")
            else:
                spans[-1] = (spans[-1][0], i + 1)
        return spans


def _warm_start_missing_parts(module: DVIS, incompatible) -> None:
    """After a checkpoint without tracker weights (an image model's, e.g.
    ``load_from=IMAGE.pth`` for stage 1) the referring tracker starts from
    the loaded segmenter's heads; after one without refiner weights (the
    stage-1 checkpoint for stage 2) the refiner starts from the tracker's
    (:meth:`ReferringTracker.warm_start`, :meth:`TemporalRefiner.warm_start`)."""
    missing = incompatible.missing_keys
    if any(k.startswith('referring_tracker.') for k in missing) and \
            not any(k.startswith('detector.') for k in missing):
        module.referring_tracker.warm_start(module.detector.panoptic_head)
    if module.refiner is not None and any(k.startswith('refiner.') for k in missing) and \
            not any(k.startswith('referring_tracker.') for k in missing):
        module.refiner.warm_start(module.referring_tracker)
