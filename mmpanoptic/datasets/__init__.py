from .ade20k_panoptic import ADE20KPanopticDataset
from .cityscapes_panoptic import CityscapesPanopticDataset
from .coco_panoptic import CocoPanopticDataset
from .samplers import (
                       PseudoVideoClipSampler,
                       VideoBatchSampler,
                       VideoClipSampler,
                       VideoPairSampler,
                       VideoSampler,
)
from .toy_panoptic import TOY_CATEGORIES, make_toy_panoptic, render_scene
from .toy_video import make_toy_video, render_video
from .transforms import *  # noqa: F401,F403
from .video_panoptic import VideoPanopticDataset

__all__ = [
    'VideoPanopticDataset', 'PseudoVideoClipSampler', 'VideoBatchSampler', 'VideoClipSampler',
    'VideoPairSampler', 'VideoSampler', 'make_toy_video', 'render_video',
    'ADE20KPanopticDataset', 'CityscapesPanopticDataset',
    'CocoPanopticDataset',
    'TOY_CATEGORIES', 'make_toy_panoptic', 'render_scene'
]
