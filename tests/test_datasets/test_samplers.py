"""VideoPairSampler yields (reference, key) pairs of one video."""
import itertools

import pytest

from mmpanoptic.datasets import VideoPairSampler


class FakeVideos:
    """3 videos of 4, 1 and 3 frames, listed out of order."""

    def __init__(self):
        frames = [(0, 2), (1, 0), (0, 0), (2, 1), (0, 3), (2, 0), (0, 1), (2, 2)]
        self.infos = [dict(video_id=v, frame_id=f) for v, f in frames]

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def test_pairs_are_same_video_and_forward_within_gap():
    ds = FakeVideos()
    sampler = VideoPairSampler(ds, max_gap=2, seed=0)
    stream = list(itertools.islice(iter(sampler), 400))
    pairs = list(zip(stream[0::2], stream[1::2]))
    gaps = set()
    for ref, key in pairs:
        r, k = ds.infos[ref], ds.infos[key]
        assert r['video_id'] == k['video_id'] != 1  # video 1 has one frame: never used
        assert 1 <= k['frame_id'] - r['frame_id'] <= 2
        gaps.add(k['frame_id'] - r['frame_id'])
    assert gaps == {1, 2}
    assert len(sampler) == 2 * 5  # 3 + 2 reference frames
    # Reproducible from the seed.
    assert stream == list(itertools.islice(iter(VideoPairSampler(ds, max_gap=2, seed=0)), 400))


def test_unshuffled_pairs_are_consecutive_frames_in_order():
    ds = FakeVideos()
    stream = list(itertools.islice(iter(VideoPairSampler(ds, shuffle=False, seed=0)), 10))
    pairs = [(ds.infos[a]['video_id'], ds.infos[a]['frame_id'], ds.infos[b]['frame_id'])
             for a, b in zip(stream[0::2], stream[1::2])]
    assert pairs == [(0, 0, 1), (0, 1, 2), (0, 2, 3), (2, 0, 1), (2, 1, 2)]


def test_bad_inputs():
    with pytest.raises(ValueError, match='max_gap'):
        VideoPairSampler(FakeVideos(), max_gap=0, seed=0)
    ds = FakeVideos()
    ds.infos = [dict(video_id=0, frame_id=0)]
    with pytest.raises(ValueError, match='two frames'):
        VideoPairSampler(ds, seed=0)
    ds.infos = [dict(img_id=3)]
    with pytest.raises(KeyError, match='video_id'):
        VideoPairSampler(ds, seed=0)
