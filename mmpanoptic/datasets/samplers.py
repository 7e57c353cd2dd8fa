"""Samplers that keep frames of one video together for training."""
import itertools
from collections import defaultdict
from typing import Dict, Iterator, List, Optional

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmpanoptic.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class VideoPairSampler(Sampler):
    """An endless stream of (reference, key) frame pairs of the same video.

    Each pair is two consecutive indices: a reference frame and a later key
    frame 1..``max_gap`` frames after it (in the video's frame order), so a
    batch of size 2k holds k pairs.  Used to train query propagation
    (:class:`VideoPanopticSegmentor` with ``train_propagation=True``).
    Works with ``IterBasedTrainLoop`` like mmengine's ``InfiniteSampler``;
    in distributed training each rank takes every ``world_size``-th pair.

    Args:
        dataset: a dataset whose ``get_data_info(i)`` has ``video_id`` and
            ``frame_id`` (e.g. :class:`VideoPanopticDataset`).
        max_gap: the largest frame distance of a pair.
        shuffle: random reference frames (else in dataset order).
        seed: random seed (synchronised across ranks when None).
    """

    def __init__(self, dataset, *, max_gap: int = 1, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if max_gap < 1:
            raise ValueError(f'max_gap must be >= 1, got {max_gap}')
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.max_gap = max_gap
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        # Per reference frame: the indices of the frames that may follow it.
        self.refs: List[int] = []
        self.followers: List[List[int]] = []
        for order in frames_by_video(dataset, 'VideoPairSampler').values():
            for p, ref in enumerate(order[:-1]):
                self.refs.append(ref)
                self.followers.append(order[p + 1:p + 1 + max_gap])
        if not self.refs:
            raise ValueError('VideoPairSampler: no video has two frames')

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        n = len(self.refs)
        pairs = itertools.count()
        while True:
            order = torch.randperm(n, generator=g).tolist() if self.shuffle else range(n)
            for r in order:
                nxt = self.followers[r]
                key = nxt[int(torch.randint(len(nxt), (1,), generator=g))] if self.shuffle \
                    else nxt[0]
                if next(pairs) % self.world_size == self.rank:
                    yield self.refs[r]
                    yield key

    def __len__(self) -> int:
        return 2 * len(self.refs) // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Not used: the stream is endless."""


def frames_by_video(dataset, who: str) -> Dict[object, List[int]]:
    """Dataset indices of each video's frames in ``frame_id`` order (videos
    in dataset order); an item without ``video_id`` / ``frame_id`` is an
    error naming it."""
    videos: Dict[object, List] = defaultdict(list)
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if 'video_id' not in info or 'frame_id' not in info:
            raise KeyError(f'{type(dataset).__name__} item {i} has no video_id / frame_id: '
                           f'{who} needs a video dataset')
        videos[info['video_id']].append((info['frame_id'], i))
    return {v: [i for _, i in sorted(frames)] for v, frames in videos.items()}


@DATA_SAMPLERS.register_module()
class VideoClipSampler(Sampler):
    """An endless stream of clips: ``clip_length`` frames of one video in
    frame order, consecutive frames 1..``max_gap`` frames apart (the same
    gap inside a clip), so a batch of ``k * clip_length`` holds k clips.
    The training sampler of learned trackers (:class:`DVIS`), which are
    supervised over a clip.  ``clip_length=2`` gives (reference, key)
    pairs like :class:`VideoPairSampler`.

    Args:
        dataset: a video dataset (``video_id`` and ``frame_id`` per item).
        clip_length: frames per clip (>= 2).
        max_gap: the largest distance of two consecutive frames of a clip.
        shuffle: random clips (else the first clip of each video in turn).
        seed: random seed (synchronised across ranks when None).
    """

    def __init__(self, dataset, *, clip_length: int = 5, max_gap: int = 1,
                 shuffle: bool = True, seed: Optional[int] = None) -> None:
        if clip_length < 2:
            raise ValueError(f'clip_length must be >= 2, got {clip_length}')
        if max_gap < 1:
            raise ValueError(f'max_gap must be >= 1, got {max_gap}')
        self.rank, self.world_size = get_dist_info()
        self.clip_length, self.max_gap, self.shuffle = clip_length, max_gap, shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.videos = [f for f in frames_by_video(dataset, 'VideoClipSampler').values()
                       if len(f) >= clip_length]
        if not self.videos:
            raise ValueError(f'VideoClipSampler: no video has {clip_length} frames')

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        clips = itertools.count()
        n = len(self.videos)
        while True:
            order = torch.randperm(n, generator=g).tolist() if self.shuffle else range(n)
            for v in order:
                frames = self.videos[v]
                span = len(frames) - 1  # the largest gap that fits
                gap = min(self.max_gap, span // (self.clip_length - 1))
                if self.shuffle:
                    gap = int(torch.randint(1, gap + 1, (1,), generator=g))
                last_start = len(frames) - 1 - gap * (self.clip_length - 1)
                start = int(torch.randint(last_start + 1, (1,), generator=g)) \
                    if self.shuffle else 0
                if next(clips) % self.world_size == self.rank:
                    yield from frames[start:start + gap * self.clip_length:gap]

    def __len__(self) -> int:
        return self.clip_length * len(self.videos) // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Not used: the stream is endless."""


@DATA_SAMPLERS.register_module()
class PseudoVideoClipSampler(Sampler):
    """An endless stream of pseudo-video clips from an *image* dataset:
    each image ``clip_length`` times in a row.  The training pipeline's
    random resize / crop then makes every copy a different frame, and an
    image's segment ids are the clip's track ids
    (``LoadPanopticAnnotations(with_track_ids=True)``): OV-DVIS++ trains
    its tracker on COCO this way (``coco_panoptic_video_ov``) so that the
    video model never sees a video dataset.  (OV-DVIS++ also rotates the
    copies; left to the pipeline here.)

    Args:
        dataset: any dataset (its length is used).
        clip_length: copies per clip (>= 2).
        shuffle: random image order per pass (else dataset order).
        seed: random seed (synchronised across ranks when None).
    """

    def __init__(self, dataset, *, clip_length: int = 5, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if clip_length < 2:
            raise ValueError(f'clip_length must be >= 2, got {clip_length}')
        if len(dataset) == 0:
            raise ValueError('PseudoVideoClipSampler: the dataset is empty')
        self.rank, self.world_size = get_dist_info()
        self.clip_length, self.shuffle = clip_length, shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        clips = itertools.count()
        while True:
            order = torch.randperm(self.size, generator=g).tolist() if self.shuffle \
                else range(self.size)
            for i in order:
                if next(clips) % self.world_size == self.rank:
                    yield from [i] * self.clip_length

    def __len__(self) -> int:
        return self.clip_length * self.size // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Not used: the stream is endless."""


@DATA_SAMPLERS.register_module()
class VideoBatchSampler:
    """One batch per video -- all its frames, in order (the test batches of
    a model that needs a whole video at once, e.g. :class:`DVIS` with its
    offline temporal refiner) -- or, with ``clip_length``, one batch per
    clip: a video's frames in consecutive chunks of ``clip_length`` (the
    last may be shorter; a batch never spans two videos), for
    :class:`TubeVideoSegmentor`.  Wraps :class:`VideoSampler` (mmengine
    passes the loader's ``sampler`` and ``batch_size``; the batch size is
    ignored).

    Args:
        sampler: a :class:`VideoSampler`.
        batch_size: unused.
        max_frames: refuse a video longer than this (its frames would all
            be in memory at once); None: no limit.
        clip_length: chunk videos into clips of this many frames.
    """

    def __init__(self, sampler, batch_size: Optional[int] = None, *,
                 max_frames: Optional[int] = None, clip_length: Optional[int] = None) -> None:
        if not isinstance(sampler, VideoSampler):
            raise TypeError(f'VideoBatchSampler wraps a VideoSampler, got '
                            f'{type(sampler).__name__}')
        if clip_length is not None and clip_length < 1:
            raise ValueError(f'clip_length must be >= 1, got {clip_length}')
        for video, frames in zip(sampler.videos, sampler.batches):
            if max_frames is not None and clip_length is None and len(frames) > max_frames:
                raise ValueError(f'video {video} has {len(frames)} frames, more than '
                                 f'max_frames={max_frames} of VideoBatchSampler')
        step = clip_length
        self.batches = [list(b[i:i + (step or len(b))])
                        for b in sampler.batches for i in range(0, len(b), step or len(b))]

    def __iter__(self) -> Iterator[List[int]]:
        return iter([list(b) for b in self.batches])

    def __len__(self) -> int:
        return len(self.batches)


@DATA_SAMPLERS.register_module()
class VideoSampler(Sampler):
    """Whole videos per process, frames in order: the val / test sampler of
    video datasets.

    mmengine's ``DefaultSampler`` deals frames to processes in turn, so with
    several processes each tracker would see every other frame of a video
    and the video metric would get pieces.  Here every video goes whole to
    one process (longest videos first, each to the process with the fewest
    frames so far, so the loads stay even), its frames in ``frame_id``
    order; nothing is padded or repeated.  With one process it yields the
    videos in dataset order.

    Args:
        dataset: a dataset whose ``get_data_info(i)`` has ``video_id`` and
            ``frame_id`` (e.g. :class:`VideoPanopticDataset`).
        shuffle: accepted for config compatibility; must be False.
        seed: unused (nothing is random).
    """

    def __init__(self, dataset, *, shuffle: bool = False, seed: Optional[int] = None) -> None:
        if shuffle:
            raise ValueError('VideoSampler keeps frames in order; shuffle=True is not supported')
        self.rank, self.world_size = get_dist_info()
        videos = frames_by_video(dataset, 'VideoSampler')
        order = list(videos)  # dataset order
        load = [0] * self.world_size
        owner = {}
        for video in sorted(order, key=lambda v: (-len(videos[v]), order.index(v))):
            rank = min(range(self.world_size), key=lambda r: (load[r], r))
            owner[video] = rank
            load[rank] += len(videos[video])
        self.videos = [v for v in order if owner[v] == self.rank]
        self.batches = [videos[v] for v in self.videos]  # frame indices per video
        self.indices = [i for b in self.batches for i in b]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Nothing to do: the order is fixed."""
