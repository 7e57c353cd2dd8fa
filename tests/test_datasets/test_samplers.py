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


def test_clips_are_evenly_spaced_frames_of_one_video_in_order():
    from mmpanoptic.datasets import VideoClipSampler
    ds = FakeVideos()
    sampler = VideoClipSampler(ds, clip_length=3, max_gap=2, seed=0)
    stream = list(itertools.islice(iter(sampler), 3 * 200))
    gaps = set()
    for c in range(0, len(stream), 3):
        infos = [ds.infos[i] for i in stream[c:c + 3]]
        assert len({i['video_id'] for i in infos}) == 1
        frames = [i['frame_id'] for i in infos]
        steps = {b - a for a, b in zip(frames, frames[1:])}
        assert len(steps) == 1 and 1 <= min(steps) <= 2
        gaps |= steps
    assert gaps == {1}  # 3 frames 2 apart need 5 frames: no video has them
    unshuffled = list(itertools.islice(iter(VideoClipSampler(ds, clip_length=4,
                                                             shuffle=False, seed=0)), 8))
    assert [ds.infos[i]['frame_id'] for i in unshuffled] == [0, 1, 2, 3] * 2  # video 0 only
    with pytest.raises(ValueError, match='no video has 5 frames'):
        VideoClipSampler(ds, clip_length=5, seed=0)
    with pytest.raises(ValueError, match='clip_length'):
        VideoClipSampler(ds, clip_length=1, seed=0)


def test_pseudo_video_clips_repeat_each_image_and_visit_all():
    """OV-DVIS++'s pseudo videos: each image clip_length times in a row,
    every image once per pass."""
    from mmpanoptic.datasets import PseudoVideoClipSampler
    images = list(range(7))
    stream = list(itertools.islice(iter(PseudoVideoClipSampler(images, clip_length=3,
                                                               seed=0)), 3 * 7))
    clips = [stream[c:c + 3] for c in range(0, len(stream), 3)]
    assert all(len(set(c)) == 1 for c in clips)
    assert sorted(c[0] for c in clips) == images and [c[0] for c in clips] != images
    ordered = list(itertools.islice(iter(PseudoVideoClipSampler(images, clip_length=2,
                                                                shuffle=False)), 6))
    assert ordered == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match='clip_length'):
        PseudoVideoClipSampler(images, clip_length=1, seed=0)
    with pytest.raises(ValueError, match='empty'):
        PseudoVideoClipSampler([], seed=0)


def test_video_batches_are_whole_videos_in_frame_order():
    from mmpanoptic.datasets import VideoBatchSampler, VideoSampler
    ds = FakeVideos()
    batches = list(VideoBatchSampler(VideoSampler(ds), batch_size=4))
    assert [[(ds.infos[i]['video_id'], ds.infos[i]['frame_id']) for i in b]
            for b in batches] == [[(0, 0), (0, 1), (0, 2), (0, 3)], [(1, 0)],
                                  [(2, 0), (2, 1), (2, 2)]]
    with pytest.raises(ValueError, match='video 0 has 4 frames, more than max_frames=3'):
        VideoBatchSampler(VideoSampler(ds), max_frames=3)
    with pytest.raises(TypeError, match='wraps a VideoSampler'):
        VideoBatchSampler(iter([]))


def test_video_batches_in_clips_never_span_two_videos():
    from mmpanoptic.datasets import VideoBatchSampler, VideoSampler
    ds = FakeVideos()
    batches = list(VideoBatchSampler(VideoSampler(ds), clip_length=2))
    assert [[(ds.infos[i]['video_id'], ds.infos[i]['frame_id']) for i in b]
            for b in batches] == [[(0, 0), (0, 1)], [(0, 2), (0, 3)], [(1, 0)],
                                  [(2, 0), (2, 1)], [(2, 2)]]
