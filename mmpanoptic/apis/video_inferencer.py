"""Streaming video inference: frames in one at a time, results out one at a time."""
import glob
import os.path as osp
import time
from typing import Dict, Iterable, Iterator, Optional, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules

from .inferencer import class_palette, inference_pipeline

Source = Union[str, int, Iterable[np.ndarray]]


def open_frames(source: Source) -> Tuple[Optional[int], Iterator[np.ndarray], bool]:
    """``(number of frames or None, iterator of RGB uint8 frames, live)`` of
    a folder of pictures (name order), a video file, a camera index (an
    ``int``, or a string of digits: ``live``) or any iterable of RGB arrays.
    Frames are read one at a time: a long video is never held in memory."""
    if isinstance(source, str) and osp.isdir(source):
        files = sorted(f for ext in ('png', 'jpg', 'jpeg') for f in
                       glob.glob(osp.join(source, f'*.{ext}')))
        if not files:
            raise FileNotFoundError(f'no .png / .jpg frames in {source}')

        def pictures():
            for f in files:
                frame = cv2.imread(f)
                if frame is None:
                    raise OSError(f'cannot read frame {f}')
                yield frame[..., ::-1]
        return len(files), pictures(), False
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return None, _capture(cv2.VideoCapture(int(source)), f'camera {source}'), True
    if isinstance(source, str):
        cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            raise FileNotFoundError(f'cannot open {source} as a folder of frames or a video')
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None, _capture(cap, source), False

    def arrays():
        for i, frame in enumerate(source):
            frame = np.asarray(frame)
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise ValueError(f'frame {i}: expected an (H, W, 3) uint8 RGB array, got '
                                 f'{frame.shape} {frame.dtype}')
            yield frame
    return (len(source) if hasattr(source, '__len__') else None), arrays(), False


def _capture(cap, name: str) -> Iterator[np.ndarray]:
    if not cap.isOpened():
        raise FileNotFoundError(f'cannot open {name}')
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield frame[..., ::-1]
    finally:
        cap.release()


class VideoInferencer:
    """Segment a video frame by frame with a video config (an image model +
    a tracker, or VidEoMT's query propagation).

    ``inferencer(source)`` is a generator: it reads one frame, predicts it
    and yields its result before reading the next, so memory stays constant
    over the video for these online models.  Each result is
    :class:`PanopticInferencer`'s form -- ``ids`` (H, W) segment ids (0 =
    VOID), ``segments_info`` (``id``, ``label``, ``category``, ``isthing``,
    ...), ``image`` -- where ``id`` is the *track* id: the same object keeps
    it from frame to frame.  ``frame`` is the frame index.

    Args:
        config: a video config (``VideoPanopticSegmentor``).
        checkpoint: its checkpoint (its ``dataset_meta`` names the classes).
        device: ``'cpu'``, ``'cuda'``, ...

    >>> # for result in VideoInferencer('configs/video/....py', 'ckpt.pth')('clip.mp4'):
    >>> #     print(result['frame'], [(s['id'], s['category']) for s in result['segments_info']])
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None, *,
                 device: str = 'cpu') -> None:
        from mmengine.runner import load_checkpoint

        from mmpanoptic.engine.checkpoints import require_intact
        register_all_modules()
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        if 'detector' not in cfg.model:
            raise ValueError(f'{config}: not a video config (its model is '
                             f'{cfg.model.get("type")}, with no detector + tracker); use '
                             'PanopticInferencer for images')
        self.model = MODELS.build(cfg.model)
        meta = {}
        if checkpoint is not None:
            require_intact(checkpoint)
            ckpt = load_checkpoint(self.model, checkpoint, map_location='cpu')
            meta = (ckpt.get('meta') or {}).get('dataset_meta') or {}
        if not meta.get('classes'):
            raise ValueError(f'{checkpoint}: no dataset_meta with class names in the checkpoint'
                             if checkpoint else 'VideoInferencer needs a checkpoint (its '
                             'dataset_meta names the classes)')
        self.model.to(device).eval()
        self.classes = list(meta['classes'])
        self.category_ids = list(meta.get('category_ids') or []) or None
        self.palette = [tuple(c) for c in meta.get('palette') or class_palette(len(self.classes))]
        self.pipeline = inference_pipeline(cfg)
        self.needs_whole_video = bool(getattr(self.model, 'needs_whole_video', False))
        self.fps = None  # frames per second of the last call, so far
        self.num_frames = None  # frames in the source, when known

    @torch.no_grad()
    def __call__(self, source: Source, *, max_frames: Optional[int] = None
                 ) -> Iterator[Dict]:
        """Results of the frames of ``source`` (see :func:`open_frames`),
        one per frame, as they are computed."""
        self.num_frames, frames, live = open_frames(source)
        if live and self.needs_whole_video:
            raise ValueError(f'{type(self.model).__name__} refines the whole video at its '
                             'end (offline); it cannot run on a camera')
        self.model.tracker.reset()
        self.model._video = None  # the next frame starts a video
        start, n = time.perf_counter(), 0
        for t, rgb in enumerate(frames):
            if max_frames is not None and t >= max_frames:
                break
            packed = self.pipeline(dict(img=np.ascontiguousarray(rgb[..., ::-1]), img_id=t,
                                        video_id=0, frame_id=t))
            sample = self.model.test_step(pseudo_collate([packed]))[0]
            pred = sample.pred_panoptic_seg
            segments = [dict(s, category=self.classes[s['label']]) for s in pred.segments_info]
            if self.category_ids is not None:
                for s in segments:
                    s['category_id'] = self.category_ids[s['label']]
            n += 1
            self.fps = n / max(time.perf_counter() - start, 1e-9)
            yield dict(frame=t, ids=pred.sem_seg[0].cpu().numpy().astype(np.int64),
                       segments_info=segments, image=rgb)
