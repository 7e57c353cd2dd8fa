"""VideoPanopticMetric on in-memory data samples (dicts, as the runner passes them)."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmpanoptic.evaluation.metrics import VideoPanopticMetric
from mmpanoptic.fileio import PanopticEvalError

from ..e2e_utils import read_json, run_tool

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


def test_class_groups_score_each_group_of_classes(tmp_path):
    """``class_groups``: VPQ_<group> averages the group's per-class VPQ (the
    file evaluator's ``per_class``); STQ_<group> restricts STQ's two means to
    the group (IoU over its classes, AQ over its ground-truth tracks); a
    group of all classes gives the overall figures."""
    from mmpanoptic.evaluation.functional import VPQStream, vpq_summary
    rng = np.random.default_rng(0)
    cats = {1: 1, 2: 1, 7: 0, 8: 0}  # id: isthing
    names = {1: 'car', 2: 'person', 7: 'road', 8: 'sky'}
    videos = []
    for v in range(2):
        frames = []
        for t in range(4):
            gt = np.full((12, 16), 7000, np.int64)  # id = category * 1000 + instance
            gt[:4] = 8000
            pred = gt.copy()
            for inst, (cat, y, x) in enumerate([(1, 4, 2), (2, 6, 9), (1, 8, 4)]):
                gt[y:y + 3, x + t:x + t + 4] = cat * 1000 + inst + 1
                shift = int(rng.integers(-1, 2))
                pcat = cat if rng.random() > 0.25 else 3 - cat  # some thing classes swapped
                pinst = inst + 1 if rng.random() > 0.2 else inst + 5  # some id switches
                pred[y:y + 3, x + t + shift:x + t + shift + 4] = pcat * 1000 + pinst
            frames.append((gt, pred))
        videos.append(frames)
    ids = list(cats)
    groups = dict(novel=['person', 'sky'], all=[names[c] for c in ids])
    metric = VideoPanopticMetric(window_frames=(1, 2), class_groups=groups)
    metric.dataset_meta = dict(category_ids=ids, isthing=[cats[c] for c in ids],
                               classes=[names[c] for c in ids])
    for v, frames in enumerate(videos):
        for t, (g, p) in enumerate(frames):
            metric.process({}, [sample(v, t, g, p, lambda s: s // 1000,
                                       lambda s: ids.index(s // 1000))])
    out = {k.split('/')[-1]: v for k, v in metric.evaluate(8).items()}
    assert out['VPQ_all'] == pytest.approx(out['VPQ']) and 0 < out['VPQ'] < 100
    assert out['STQ_all'] == pytest.approx(out['STQ']) and 0 < out['STQ'] < 100

    # VPQ_novel from the per-class table.
    info = {c: dict(isthing=cats[c]) for c in ids}
    per_k = []
    for k in (1, 2):
        stats = None
        for v, frames in enumerate(videos):
            stream = VPQStream(info, (k,), f'video {v}')
            for g, p in frames:
                segs = [[dict(id=int(s), category_id=int(s) // 1000, iscrowd=0,
                              area=int((m == s).sum())) for s in np.unique(m)] for m in (g, p)]
                stream.add(g, segs[0], p, segs[1])
            if stats is None:
                stats = stream.stats
            else:
                stats[k].add(stream.stats[k].per_cat)
        table = vpq_summary(stats, info)[str(k)]['per_class']
        per_k.append(np.mean([table[str(c)]['pq'] for c in (2, 8)]))
        assert out[f'VPQ@{k}_novel'] == pytest.approx(100 * per_k[-1])
    assert out['VPQ_novel'] == pytest.approx(100 * np.mean(per_k))

    # STQ_novel by its definition: IoU = mean IoU of the group's classes,
    # AQ = mean over the group's ground-truth tracks (person: sky is stuff)
    # of sum_p TPA(p, g) IoU(p, g) / |g| over predicted thing tracks p.
    inter, union = {}, {}
    aq_sum, tubes = 0.0, 0
    for frames in videos:
        gts = np.stack([g for g, _ in frames])
        preds = np.stack([p for _, p in frames])
        for c in (2, 8):
            i = np.sum((gts // 1000 == c) & (preds // 1000 == c))
            inter[c] = inter.get(c, 0) + i
            union[c] = union.get(c, 0) + np.sum(gts // 1000 == c) + np.sum(preds // 1000 == c) - i
        for g in np.unique(gts[gts // 1000 == 2]):
            size_g = np.sum(gts == g)
            total = 0.0
            for p in np.unique(preds[(gts == g) & (preds // 1000 < 3)]):
                tpa = np.sum((gts == g) & (preds == p))
                total += tpa * tpa / (np.sum(preds == p) + size_g - tpa)
            aq_sum += total / size_g
            tubes += 1
    iou = np.mean([inter[c] / union[c] for c in (2, 8)])
    assert out['SQ_novel'] == pytest.approx(100 * iou)
    assert out['AQ_novel'] == pytest.approx(100 * aq_sum / tubes)
    assert out['STQ_novel'] == pytest.approx(100 * np.sqrt(iou * aq_sum / tubes))
    assert out['STQ_novel'] != pytest.approx(out['STQ'])

    # The file evaluator (video_eval.py --group) gives the same figures.
    import json

    from mmpanoptic.fileio import write_step_frame
    for kind, pos in (('gt', 0), ('pred', 1)):
        for v, frames in enumerate(videos):
            for t, pair in enumerate(frames):
                m = pair[pos]
                write_step_frame(str(tmp_path / kind / f'{v:04d}' / f'{t:04d}.png'), m // 1000,
                                 np.where(m // 1000 < 3, m % 1000, 0))
    (tmp_path / 'cats.json').write_text(json.dumps(
        [dict(id=c, name=names[c], isthing=cats[c]) for c in ids]))
    run_tool('tools/analysis_tools/video_eval.py', '--gt', str(tmp_path / 'gt'), '--pred',
             str(tmp_path / 'pred'), '--categories', str(tmp_path / 'cats.json'),
             '--window-frames', '1', '2', '--group', 'novel=person,sky', '--out',
             str(tmp_path / 'eval.json'))
    files = read_json(str(tmp_path / 'eval.json'))['groups']['novel']
    assert 100 * files['vpq']['mean'] == pytest.approx(out['VPQ_novel'])
    assert 100 * files['stq']['stq'] == pytest.approx(out['STQ_novel'])
