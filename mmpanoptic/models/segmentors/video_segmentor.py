"""A video panoptic model = an image panoptic model + a tracker."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmpanoptic.registry import MODELS, TASK_UTILS

from ..builder import build_part, merged_config
from ..criteria import batch_targets
from ..fusion.base import add_pred_to_samples
from ..trackers.appearance import color_histogram_embeddings


@MODELS.register_module()
class VideoPanopticSegmentor(BaseModel):
    """Runs any mmpanoptic image model on each frame and relabels its
    segments with a tracker, so ids persist over time.

    Training trains the image model on the frames as images (no fork of the
    image heads).  With ``train_propagation=True`` (query models) batches are
    (reference, key) frame pairs of one video (:class:`VideoPairSampler`):
    the head runs on the reference frame from its learned queries and on the
    key frame from the reference frame's output queries (detached), and both
    are supervised, so the model learns to continue from propagated queries
    as :class:`QueryPropagationTracker` uses it.

    At test time frames must arrive in order, video by video
    (:class:`VideoPanopticDataset` sorts them; use a non-shuffled loader and
    one process): the tracker is reset whenever ``video_id`` changes or the
    frame id does not increase (the same video evaluated again).

    Args:
        detector: the image model (config or module), e.g. ``Mask2Former``.
        tracker: e.g. ``OnlineMaskTracker`` (``PerFrameIds`` = no tracking).
        appearance: ``None`` or ``'color'``: give the tracker an embedding
            per segment, the colour histogram of its pixels in the frame
            (:func:`color_histogram_embeddings`; needs no extra network).
        train_propagation: train on (reference, key) pairs as above.
        detector_changes: merged into the ``detector`` config key by key
            before it is built (a config that wraps ``{{_base_.model}}``
            changes its parts this way, e.g. a text classifier for an open
            vocabulary).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint=...)``.
    """

    APPEARANCE = (None, 'color')

    def __init__(self, *, detector: Union[dict, nn.Module], tracker: Union[dict, object],
                 appearance: Optional[str] = None, train_propagation: bool = False,
                 detector_changes: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if appearance not in self.APPEARANCE:
            raise ValueError(f'appearance must be one of {self.APPEARANCE}, got {appearance!r}')
        if detector_changes:
            if not isinstance(detector, dict):
                raise TypeError('detector_changes needs the detector as a config dict')
            detector = merged_config(detector, detector_changes)
        detector = build_part(detector, name='detector')
        super().__init__(data_preprocessor=detector.data_preprocessor, init_cfg=init_cfg)
        self.detector = detector
        self.tracker = TASK_UTILS.build(tracker) if isinstance(tracker, dict) else tracker
        self.appearance = appearance
        self.train_propagation = train_propagation
        self._video = None
        self.register_load_state_dict_pre_hook(_image_checkpoint_into_detector)

    def set_vocabulary(self, classes: Sequence, num_things: int) -> None:
        """Segment these classes from now on (an image model with a text
        classifier: :meth:`MaskClassificationSegmentor.set_vocabulary`); the
        tracks restart, as their labels belonged to the old vocabulary."""
        if not hasattr(self.detector, 'set_vocabulary'):
            raise TypeError(f'{type(self.detector).__name__} has a fixed class layer: no open '
                            'vocabulary')
        self.detector.set_vocabulary(classes, num_things)
        self.tracker.reset()
        self._video = None

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return self.detector._forward(inputs, data_samples)

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """The image model's losses on a batch of frames (or of frame pairs
        with ``train_propagation``)."""
        if not self.train_propagation:
            return self.detector.loss(inputs, data_samples)
        self._check_query_propagation()
        check_frame_pairs(data_samples, 'train_propagation', 'VideoPairSampler')
        refs, keys = list(data_samples[0::2]), list(data_samples[1::2])
        cls_r, masks_r, queries, _ = self.detector.head_outputs(inputs[0::2], refs,
                                                                with_queries=True)
        cls_k, masks_k, _, _ = self.detector.head_outputs(inputs[1::2], keys,
                                                          init_queries=queries.detach())
        cls = [torch.cat(pair) for pair in zip(cls_r, cls_k)]
        masks = [torch.cat(pair) for pair in zip(masks_r, masks_k)]
        ordered = list(data_samples[0::2]) + list(data_samples[1::2])
        targets = batch_targets(ordered, num_things=self.detector.num_things_classes,
                                num_classes=self.detector.num_classes)
        return self.detector.criterion(cls, masks, targets)

    def _check_query_propagation(self) -> None:
        """A clear error for image models whose queries cannot be carried
        over (query propagation needs ``head_outputs(init_queries=...)``:
        EoMT / VidEoMT, or a head with ``forward_with_queries``)."""
        if getattr(self.detector, 'supports_query_propagation', False):
            return
        head = getattr(self.detector, 'panoptic_head', None)
        if not hasattr(head, 'forward_with_queries'):
            raise TypeError(f'query propagation needs a query head with forward_with_queries '
                            f'(Mask2FormerQueryHead, KNetKernelHead) or EoMT / VidEoMT, got '
                            f'{type(self.detector).__name__} with {type(head).__name__}')

    def predict(self, inputs: Tensor, data_samples):
        """Per-frame panoptic predictions with track ids as segment ids.

        One path for every tracker (:mod:`..trackers.base`): frame by frame,
        the image model's own ``predict_outputs`` (from the tracker's
        queries when it propagates them) and ``fusion``, then
        ``tracker.track``.
        """
        uses_queries = self.tracker.uses_queries
        if uses_queries:
            self._check_query_propagation()
        for i, sample in enumerate(data_samples):
            if self._new_pass(sample):  # a new video, or the same one again
                self.tracker.reset()
            init, fresh = self.tracker.init_queries()
            kwargs = dict(with_queries=True, init_queries=init) if uses_queries else {}
            outputs = self.detector.predict_outputs(inputs[i:i + 1], [sample], **kwargs)
            result = self.detector.fusion(outputs, [sample.metainfo])[0]
            ids, segments = result['panoptic']
            embeddings = None
            if self.appearance == 'color':
                embeddings = color_histogram_embeddings(
                    self._frame_colours(inputs[i], sample.metainfo, ids.shape[-2:]), ids,
                    segments)
            queries = outputs['queries'][0] if uses_queries else None
            result['panoptic'] = self.tracker.track(ids, segments, embeddings=embeddings,
                                                    queries=queries, fresh=fresh)
            add_pred_to_samples([sample], [result])
        return data_samples

    def _frame_colours(self, image: Tensor, meta: dict, size) -> Tensor:
        """The (3, H, W) frame in [0, 255] at the prediction's size: the
        normalisation undone, padding cropped, resized like the prediction."""
        h, w = meta.get('img_shape', image.shape[-2:])[:2]
        pre = self.data_preprocessor
        image = image[:, :h, :w].float()
        if getattr(pre, '_enable_normalize', False):
            image = image * pre.std + pre.mean
        if tuple(size) != (h, w):
            image = F.interpolate(image[None], size=tuple(size), mode='bilinear',
                                  align_corners=False)[0]
        return image

    def _new_pass(self, sample) -> bool:
        """Whether this frame starts a video (or the same video again)."""
        video = sample.metainfo.get('video_id')
        if video is None:
            raise KeyError(f'frame {sample.metainfo.get("img_id")}: no video_id in the '
                           'metainfo (pack it with PackPanopticInputs meta_keys)')
        frame = sample.metainfo.get('frame_id', 0)
        new = self._video is None or video != self._video[0] or frame <= self._video[1]
        self._video = (video, frame)
        return new


def check_frame_pairs(samples, who: str, sampler: str) -> None:
    """A clear error unless ``samples`` are (frame, later frame) pairs of
    one video each (the batches of ``sampler``)."""
    if len(samples) % 2:
        raise ValueError(f'{who} needs (reference, key) frame pairs: got a batch of '
                         f'{len(samples)}; use {sampler} and an even batch size')
    for ref, key in zip(samples[0::2], samples[1::2]):
        if ref.metainfo.get('video_id') != key.metainfo.get('video_id'):
            raise ValueError(f'{who}: frames {ref.metainfo.get("img_id")} and '
                             f'{key.metainfo.get("img_id")} of a pair come from videos '
                             f'{ref.metainfo.get("video_id")} and '
                             f'{key.metainfo.get("video_id")}; use {sampler}')


def _image_checkpoint_into_detector(module: VideoPanopticSegmentor, state_dict: dict,
                                    prefix: str, *args) -> None:
    """Load an image model's checkpoint (keys without ``detector.``, e.g.
    ``load_from=EOMT.pth`` in a VidEoMT config, or a trained Mask2Former
    for its video config) into the detector, by prefixing its keys.

    Without this, mmengine's ``load_from`` (not strict) would report every
    key as unexpected and load nothing.  A checkpoint with any
    ``detector.`` key is a video model's and is left as it is.
    """
    own = prefix + 'detector.'
    keys = [k for k in state_dict if k.startswith(prefix)]
    if not keys or any(k.startswith(own) for k in keys):
        return
    detector_keys = set(module.detector.state_dict())
    if not any(k[len(prefix):] in detector_keys for k in keys):
        return  # not an image checkpoint of this detector: let the loader report it
    for k in keys:
        state_dict[own + k[len(prefix):]] = state_dict.pop(k)

