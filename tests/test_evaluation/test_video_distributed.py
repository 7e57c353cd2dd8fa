"""Video evaluation over 2 processes (gloo on CPU): VideoSampler gives each
process whole videos in frame order and VideoPanopticMetric gathers per-video
statistics, so VPQ / STQ equal the single-process numbers exactly."""
import json
import os
import os.path as osp
import socket

import numpy as np
import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from .test_video_metric import sample

CATS = [dict(id=1, name='car', isthing=1), dict(id=7, name='road', isthing=0),
        dict(id=9, name='sky', isthing=0)]
META = dict(category_ids=[c['id'] for c in CATS], isthing=[c['isthing'] for c in CATS],
            classes=[c['name'] for c in CATS])


class FakeVideoDataset:
    """Frames of synthetic videos, in dataset order (video, frame)."""

    def __init__(self, seed=0, lengths=(6, 2, 5, 3, 7, 1)):
        rng = np.random.default_rng(seed)
        self.items = []
        for v, n in enumerate(lengths):
            shift = rng.integers(0, 3)
            for t in range(n):
                gt = np.full((12, 16), 7000, np.int64)
                gt[:4] = 9000
                x = (2 * t + shift) % 10
                gt[5:10, x:x + 5] = 1001
                gt[0, 0] = 0  # VOID
                pred = gt.copy()
                if rng.random() < 0.4:  # an id switch of the car
                    pred[pred == 1001] = 1002
                noise = rng.random(gt.shape) < 0.08
                pred[noise] = rng.choice([7000, 9000], noise.sum())
                self.items.append(dict(video_id=f'v{v}', frame_id=t, gt=gt, pred=pred))

    def __len__(self):
        return len(self.items)

    def get_data_info(self, i):
        return dict(video_id=self.items[i]['video_id'], frame_id=self.items[i]['frame_id'])

    def sample(self, i):
        it = self.items[i]
        return sample(it['video_id'], it['frame_id'], it['gt'], it['pred'], lambda s: s // 1000,
                      lambda s: META['category_ids'].index(s // 1000))


def _evaluate(dataset):
    from mmpanoptic.datasets import VideoSampler
    from mmpanoptic.evaluation.metrics import VideoPanopticMetric
    sampler = VideoSampler(dataset)
    metric = VideoPanopticMetric()
    metric.dataset_meta = META
    for i in sampler:
        metric.process({}, [dataset.sample(i)])
    return sampler.videos, metric.evaluate(len(dataset))


def _worker(rank, world_size, port, out_dir):
    os.chdir(out_dir)  # mmengine gathers through a temporary folder under the cwd
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world_size)
    try:
        videos, metrics = _evaluate(FakeVideoDataset())
        with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(videos=videos, metrics=metrics), f)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_give_the_single_process_vpq_and_stq(tmp_path):
    _, single = _evaluate(FakeVideoDataset())
    assert single['video/VPQ'] > 0 and 0 < single['video/STQ'] < 100
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    parts = [json.load(open(tmp_path / f'rank{r}.json')) for r in range(2)]
    # Whole videos per process, every video exactly once, loads balanced.
    videos = parts[0]['videos'] + parts[1]['videos']
    assert sorted(videos) == [f'v{i}' for i in range(6)]
    lengths = dict(v0=6, v1=2, v2=5, v3=3, v4=7, v5=1)
    loads = [sum(lengths[v] for v in p['videos']) for p in parts]
    assert abs(loads[0] - loads[1]) <= 1
    for p in parts:  # the metrics are broadcast to every process
        assert p['metrics'] == single


def test_default_sampler_split_is_refused(tmp_path):
    """The same data dealt frame by frame (DefaultSampler's way) is an error,
    not a silently wrong number."""
    from mmpanoptic.evaluation.metrics import VideoPanopticMetric
    from mmpanoptic.fileio import PanopticEvalError
    data = FakeVideoDataset()
    results = []
    for rank in range(2):
        metric = VideoPanopticMetric()
        metric.dataset_meta = META
        for i in range(rank, len(data), 2):  # gaps inside a video, order kept
            metric.process({}, [data.sample(i)])
        metric._finish_video()
        results += metric.results
    with pytest.raises(PanopticEvalError, match='evaluated in pieces'):
        metric.compute_metrics(results)


def test_video_sampler_orders_frames_and_refuses_shuffle():
    from mmpanoptic.datasets import VideoSampler
    data = FakeVideoDataset()
    data.items = data.items[::-1]  # dataset order reversed: the sampler restores frame order
    order = [data.get_data_info(i) for i in VideoSampler(data)]
    for a, b in zip(order, order[1:]):
        if a['video_id'] == b['video_id']:
            assert b['frame_id'] == a['frame_id'] + 1
    assert len(order) == len(data)
    with pytest.raises(ValueError, match='shuffle'):
        VideoSampler(data, shuffle=True)
