"""Streaming video inference: frames in one at a time, results out one at a time."""
import glob
import itertools
import os.path as osp
import time
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmpanoptic.fileio import PanopticFileError, write_json, write_step_frame
from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules
from mmpanoptic.vocabularies import parse_vocabulary

from .inferencer import class_palette, inference_pipeline

Source = Union[str, int, Iterable[np.ndarray]]


def open_frames(source: Source) -> Tuple[Optional[int], Iterator[np.ndarray], bool]:
    """``(number of frames or None, iterator of RGB uint8 frames, live)`` of
    a folder of pictures (name order), a video file, a camera index (an
    ``int``, or a string of digits: ``live``) or any iterable of RGB arrays.
    Frames are read one at a time: a long video is never held in memory."""
    if isinstance(source, str) and osp.isdir(source):
        files = frame_files(source)

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


def frame_files(folder: str) -> List[str]:
    """The ``.png`` / ``.jpg`` pictures of a folder of frames, in name order."""
    files = sorted(f for ext in ('png', 'jpg', 'jpeg') for f in
                   glob.glob(osp.join(folder, f'*.{ext}')))
    if not files:
        raise FileNotFoundError(f'no .png / .jpg frames in {folder}')
    return files


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
    """Segment a video with any video config: an image model + a tracker,
    VidEoMT, DVIS (online or offline), ViP-DeepLab, tube queries.

    ``inferencer(source)`` is a generator: for online models it reads one
    frame, predicts it and yields its result before reading the next, so
    memory stays constant over the video; a clip model
    (:class:`TubeVideoSegmentor`) reads and predicts one clip at a time
    (memory: one clip); a model that refines the whole video (DVIS offline)
    reads the whole video first and refuses a camera.  Each result is
    :class:`PanopticInferencer`'s form -- ``ids`` (H, W) segment ids (0 =
    VOID), ``segments_info`` (``id``, ``label``, ``category``, ``isthing``,
    ...), ``image`` -- where ``id`` is the *track* id: the same object keeps
    it from frame to frame.  ``frame`` is the frame index, ``name`` the
    frame's file name without extension (a folder of frames) or ``frame`` as six
    digits.

    Args:
        config: a video config (``VideoPanopticSegmentor``).
        checkpoint: its checkpoint (its ``dataset_meta`` names the classes).
        device: ``'cpu'``, ``'cuda'``, ...
        classes, things: an open vocabulary for a video model whose image
            model has a text classifier (as :class:`PanopticInferencer`:
            comma-separated names, synonyms joined by ``/``); switch later
            with :meth:`set_vocabulary`, no retraining.

    >>> # for result in VideoInferencer('configs/video/....py', 'ckpt.pth')('clip.mp4'):
    >>> #     print(result['frame'], [(s['id'], s['category']) for s in result['segments_info']])
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None, *,
                 device: str = 'cpu', classes: Optional[Union[str, Sequence[str]]] = None,
                 things: Optional[Union[str, Sequence[str]]] = None) -> None:
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
        self.model.to(device).eval()
        if classes is not None:
            self.set_vocabulary(classes, things)
        elif meta.get('classes'):
            self.classes = list(meta['classes'])
            self.category_ids = list(meta.get('category_ids') or []) or None
            self.palette = [tuple(c) for c in meta.get('palette') or
                            class_palette(len(self.classes))]
        else:
            raise ValueError(f'{checkpoint}: no dataset_meta with class names in the checkpoint'
                             ' (or give classes=... for an open-vocabulary model)'
                             if checkpoint else 'VideoInferencer needs a checkpoint (its '
                             'dataset_meta names the classes)')
        self.pipeline = inference_pipeline(cfg)
        self.needs_whole_video = bool(getattr(self.model, 'needs_whole_video', False))
        # Frames predicted together: a clip model's clip (TubeVideoSegmentor).
        self.frames_per_step = int(getattr(self.model, 'frames_per_step', 1))
        self.fps = None  # frames per second of the last call, so far
        self.num_frames = None  # frames in the source, when known

    @property
    def num_things(self) -> int:
        """Classes with instances (the first ``num_things`` of ``classes``)."""
        return int(self.model.detector.num_things_classes)

    def set_vocabulary(self, classes: Union[str, Sequence[str]],
                       things: Optional[Union[str, Sequence[str]]] = None) -> None:
        """Segment these classes from the next video on (the image model
        needs a text classifier); ids restart."""
        vocab = parse_vocabulary(classes, things)
        self.model.set_vocabulary(vocab.classes, vocab.num_things)
        self.classes = [c.split(',')[0] for c in vocab.classes]
        self.category_ids = None
        self.palette = class_palette(len(self.classes))

    @torch.no_grad()
    def __call__(self, source: Source, *, max_frames: Optional[int] = None
                 ) -> Iterator[Dict]:
        """Results of the frames of ``source`` (see :func:`open_frames`),
        one per frame, as they are computed."""
        self.num_frames, frames, live = open_frames(source)
        names = ([osp.splitext(osp.basename(f))[0] for f in frame_files(source)]
                 if isinstance(source, str) and osp.isdir(source) else None)
        if live and self.needs_whole_video:
            raise ValueError(f'{type(self.model).__name__} refines the whole video at its '
                             'end (offline); it cannot run on a camera')
        self.model.tracker.reset()
        self.model._video = None  # the next frame starts a video
        start, n = time.perf_counter(), 0
        for t, rgb, sample in self._predicted(frames, max_frames):
            pred = sample.pred_panoptic_seg
            segments = [dict(s, category=self.classes[s['label']]) for s in pred.segments_info]
            if self.category_ids is not None:
                for s in segments:
                    s['category_id'] = self.category_ids[s['label']]
            n += 1
            self.fps = n / max(time.perf_counter() - start, 1e-9)
            yield dict(frame=t, name=names[t] if names else f'{t:06d}',
                       ids=pred.sem_seg[0].cpu().numpy().astype(np.int64),
                       segments_info=segments, image=rgb)

    def _predicted(self, frames: Iterator[np.ndarray], max_frames: Optional[int]
                   ) -> Iterator[Tuple[int, np.ndarray, object]]:
        """``(index, frame, predicted sample)``: one frame at a time for an
        online model, one clip at a time for a clip model
        (``frames_per_step`` frames: memory is one clip); for a model that
        needs the whole video (offline refinement) every frame is read
        first and predicted in one batch, so memory grows with the video."""
        frames = enumerate(itertools.islice(frames, max_frames))  # None: all
        step = None if self.needs_whole_video else self.frames_per_step
        while True:
            chunk = list(itertools.islice(frames, step))
            if not chunk:
                return
            samples = self.model.test_step(pseudo_collate([
                self.pipeline(dict(img=np.ascontiguousarray(rgb[..., ::-1]), img_id=t,
                                   video_id=0, frame_id=t)) for t, rgb in chunk]))
            yield from ((t, rgb, s) for (t, rgb), s in zip(chunk, samples))


class StepPredictionWriter:
    """Write a video model's per-frame results in the STEP layout that
    ``tools/analysis_tools/video_eval.py --layout step`` reads:
    ``<root>/<video>/<frame>.png`` (R = category id, G * 256 + B = the track
    id for things, 0 for stuff) and ``<root>/categories.json``, the
    vocabulary used (``id``, ``name``, ``isthing``).

    Category ids: ``category_ids[label]`` when given (a dataset's ids, so
    the files score against its ground truth), else the label index.

    Args:
        root: the output folder.
        classes: class names, things first.
        num_things: how many of them are things.
        category_ids: each label's category id (< 255, the STEP void).
    """

    def __init__(self, root: str, classes: Sequence[str], num_things: int,
                 category_ids: Optional[Sequence[int]] = None) -> None:
        ids = list(category_ids) if category_ids is not None else list(range(len(classes)))
        if len(ids) != len(classes):
            raise ValueError(f'{len(ids)} category ids for {len(classes)} classes')
        if max(ids, default=0) >= 255 or min(ids, default=0) < 0:
            raise PanopticFileError(f'{root}: STEP frames hold category ids 0..254, the '
                                    f'vocabulary has ids {min(ids)}..{max(ids)}')
        self.root = root
        self.lut = np.asarray(ids, np.int64)
        self.categories = [dict(id=int(i), name=str(n), isthing=int(k < num_things))
                           for k, (i, n) in enumerate(zip(ids, classes))]
        write_json(osp.join(root, 'categories.json'), self.categories)

    def write(self, video: str, frame: str, result: Mapping) -> str:
        """One frame (a :class:`VideoInferencer` result) as
        ``<root>/<video>/<frame>.png``; returns the path."""
        ids = np.asarray(result['ids'])
        category = np.full(ids.shape, 255, np.int64)
        instance = np.zeros(ids.shape, np.int64)
        for s in result['segments_info']:
            m = ids == s['id']
            category[m] = self.lut[s['label']]
            if s['isthing']:
                instance[m] = s['id']
        return write_step_frame(osp.join(self.root, video, f'{frame}.png'), category, instance)


def match_category_ids(classes: Sequence[str], categories: List[Mapping],
                       where: str) -> List[int]:
    """Each class's id in a dataset's category list, matched by name (the
    first synonym); a class the list lacks is an error naming it."""
    by_name = {str(c['name']).split(',')[0].strip().lower(): int(c['id']) for c in categories}
    missing = [c for c in classes if c.split(',')[0].strip().lower() not in by_name]
    if missing:
        raise ValueError(f'{where}: no category named {missing[0]!r} (classes {missing})')
    return [by_name[c.split(',')[0].strip().lower()] for c in classes]
