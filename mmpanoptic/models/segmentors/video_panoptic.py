"""A video panoptic model = an image panoptic model + a tracker."""
from typing import Dict, Optional, Union

from mmengine.model import BaseModel
from torch import Tensor, nn

from mmpanoptic.registry import MODELS, TASK_UTILS

from .panoptic_fpn import build_part


@MODELS.register_module()
class VideoPanopticSegmentor(BaseModel):
    """Runs any mmpanoptic image model on each frame and relabels its
    segments with a tracker, so ids persist over time.

    Training trains the image model on the frames as images (no fork of the
    image heads).  At test time frames must arrive in order, video by video
    (:class:`VideoPanopticDataset` sorts them; use a non-shuffled loader and
    one process): the tracker is reset whenever ``video_id`` changes or the
    frame id does not increase (the same video evaluated again).

    Args:
        detector: the image model (config or module), e.g. ``Mask2Former``.
        tracker: e.g. ``OnlineMaskTracker`` (``PerFrameIds`` = no tracking).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint=...)``.
    """

    def __init__(self, *, detector: Union[dict, nn.Module], tracker: Union[dict, object],
                 init_cfg: Optional[dict] = None) -> None:
        detector = build_part(detector)
        super().__init__(data_preprocessor=detector.data_preprocessor, init_cfg=init_cfg)
        self.detector = detector
        self.tracker = TASK_UTILS.build(tracker) if isinstance(tracker, dict) else tracker
        self._video = None

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return self.detector._forward(inputs, data_samples)

    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """The image model's losses on a batch of frames."""
        return self.detector.loss(inputs, data_samples)

    def predict(self, inputs: Tensor, data_samples):
        """Per-frame panoptic predictions with track ids as segment ids."""
        samples = self.detector.predict(inputs, data_samples)
        for sample in samples:
            video = sample.metainfo.get('video_id')
            if video is None:
                raise KeyError(f'frame {sample.metainfo.get("img_id")}: no video_id in the '
                               'metainfo (pack it with PackPanopticInputs meta_keys)')
            frame = sample.metainfo.get('frame_id', 0)
            # A new video, or the same one again (e.g. the next evaluation).
            if self._video is None or video != self._video[0] or frame <= self._video[1]:
                self.tracker.reset()
            self._video = (video, frame)
            pred = sample.pred_panoptic_seg
            ids, segments = self.tracker.track(pred.sem_seg[0], pred.segments_info)
            pred.sem_seg = ids[None]
            pred.set_metainfo(dict(segments_info=segments))
        return samples
