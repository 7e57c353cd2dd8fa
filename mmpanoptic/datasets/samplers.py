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
        videos: Dict[object, List] = defaultdict(list)
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            if 'video_id' not in info or 'frame_id' not in info:
                raise KeyError(f'{type(dataset).__name__} item {i} has no video_id / frame_id: '
                               'VideoPairSampler needs a video dataset')
            videos[info['video_id']].append((info['frame_id'], i))
        # Per reference frame: the indices of the frames that may follow it.
        self.refs: List[int] = []
        self.followers: List[List[int]] = []
        for frames in videos.values():
            order = [i for _, i in sorted(frames)]
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
        videos: Dict[object, List] = {}
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            if 'video_id' not in info or 'frame_id' not in info:
                raise KeyError(f'{type(dataset).__name__} item {i} has no video_id / frame_id: '
                               'VideoSampler needs a video dataset')
            videos.setdefault(info['video_id'], []).append((info['frame_id'], i))
        order = list(videos)  # dataset order
        load = [0] * self.world_size
        owner = {}
        for video in sorted(order, key=lambda v: (-len(videos[v]), order.index(v))):
            rank = min(range(self.world_size), key=lambda r: (load[r], r))
            owner[video] = rank
            load[rank] += len(videos[video])
        self.videos = [v for v in order if owner[v] == self.rank]
        self.indices = [i for v in self.videos for _, i in sorted(videos[v])]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Nothing to do: the order is fixed."""
