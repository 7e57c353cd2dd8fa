"""VideoPanopticMetric on in-memory data samples (dicts, as the runner passes them)."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmpanoptic.evaluation.metrics import VideoPanopticMetric
from mmpanoptic.fileio import PanopticEvalError

from ..e2e_utils import read_json

CASES = osp.join(osp.dirname(osp.dirname(__file__)), 'data', 'video_eval_cases')


def sample(video, frame, gt_ids, pred_ids, cat_of, label_of):
    gt_segs = [dict(id=int(s), category_id=cat_of(int(s)), iscrowd=0,
                    area=int((gt_ids == s).sum())) for s in np.unique(gt_ids) if s]
    pred_segs = [dict(id=int(s), label=label_of(int(s))) for s in np.unique(pred_ids) if s]
    return dict(video_id=video, frame_id=frame,
                gt_panoptic_seg=PixelData(sem_seg=torch.from_numpy(gt_ids[None]),
                                          metainfo=dict(segments_info=gt_segs)).to_dict(),
                pred_panoptic_seg=PixelData(sem_seg=torch.from_numpy(pred_ids[None]),
                                            metainfo=dict(segments_info=pred_segs)).to_dict())


def test_metric_reproduces_the_published_id_switch_case():
    data = read_json(osp.join(CASES, 'vpq_edge_id_switch.json'))
    cats = data['inputs']['categories']
    metric = VideoPanopticMetric(window_frames=(1, 2))
    metric.dataset_meta = dict(category_ids=[c['id'] for c in cats],
                               isthing=[c['isthing'] for c in cats],
                               classes=[c['name'] for c in cats])
    ids = [c['id'] for c in cats]
    frames = list(zip(data['inputs']['gt_ids'], data['inputs']['pred_ids']))
    samples = [sample('v', t, np.array(g), np.array(p), lambda s: s // 1000,
                      lambda s: ids.index(s // 1000)) for t, (g, p) in enumerate(frames)]
    for s in samples:
        metric.process({}, [s])
    # Scored as the frames came: what is kept is one small record per video.
    assert metric.results == []
    out = {k.split('/')[-1]: v for k, v in metric.evaluate(len(samples)).items()}
    assert out['VPQ@1'] == pytest.approx(100.0) and out['VPQ@2'] == pytest.approx(50.0)
    assert out['VPQ'] == pytest.approx(75.0)
    assert out['STQ'] == pytest.approx(100 * data['stq']['STQ'])
    assert out['AQ'] == pytest.approx(50.0) and out['SQ'] == pytest.approx(100.0)


def test_metric_needs_video_and_frame_ids():
    metric = VideoPanopticMetric()
    metric.dataset_meta = dict(category_ids=[1], isthing=[0], classes=['road'])
    s = sample('v', 0, np.ones((2, 2), np.int64), np.ones((2, 2), np.int64), lambda s: 1,
               lambda s: 0)
    del s['frame_id']
    with pytest.raises(PanopticEvalError, match='frame_id'):
        metric.process({}, [s])
    with pytest.raises(ValueError, match='unknown metrics'):
        VideoPanopticMetric(metrics=('vpq', 'tq'))


def test_metric_refuses_frames_out_of_order_or_split_videos():
    metric = VideoPanopticMetric()
    metric.dataset_meta = dict(category_ids=[1], isthing=[0], classes=['road'])

    def s(video, frame):
        return sample(video, frame, np.ones((2, 2), np.int64), np.ones((2, 2), np.int64),
                      lambda s: 1, lambda s: 0)

    metric.process({}, [s('a', 0), s('a', 1)])
    with pytest.raises(PanopticEvalError, match='frame 0 arrives after frame 1'):
        metric.process({}, [s('a', 0)])
    metric = VideoPanopticMetric()
    metric.dataset_meta = dict(category_ids=[1], isthing=[0], classes=['road'])
    metric.process({}, [s('a', 0), s('b', 0)])
    with pytest.raises(PanopticEvalError, match='video a continues after other videos'):
        metric.process({}, [s('a', 1)])
    # Two processes that each saw part of video "a" (DefaultSampler): refused.
    one, two = (VideoPanopticMetric() for _ in range(2))
    for m, frame in ((one, 0), (two, 1)):
        m.dataset_meta = dict(category_ids=[1], isthing=[0], classes=['road'])
        m.process({}, [s('a', frame)])
        m._finish_video()
    with pytest.raises(PanopticEvalError, match='evaluated in pieces'):
        one.compute_metrics(one.results + two.results)
