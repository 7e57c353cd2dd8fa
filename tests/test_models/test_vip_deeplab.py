"""ViP-DeepLab: next-frame offsets, their targets and the stitching."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

from mmpanoptic.models.segmentors.vip_deeplab import next_offset_targets
from mmpanoptic.models.trackers import NextFrameStitcher
from mmpanoptic.registry import MODELS

from .test_dvis import clip_sample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/video/vip-deeplab_r18_toy-video.py'


def test_next_offsets_point_to_the_track_center_in_the_previous_frame():
    ref = clip_sample(0, 0, [(7, 0, (2, 2)), (9, 1, (20, 20))])
    key = clip_sample(0, 1, [(7, 0, (4, 6)), (5, 1, (20, 20))])  # 9 left, 5 is new
    offset, weight = next_offset_targets(ref, key)
    # track 7: an 8 px square at (2, 2) has its center at (5.5, 5.5) -> (6, 6) rounded
    assert offset[:, 4, 6].tolist() == [2.0, 0.0]
    assert offset[:, 11, 13].tolist() == [-5.0, -7.0]
    assert weight.sum() == 64  # only track 7's pixels in frame t + 1
    assert weight[0, 20:28, 20:28].sum() == 0
    del key.gt_instances.instances_ids
    with pytest.raises(KeyError, match='with_track_ids=True'):
        next_offset_targets(ref, key)


def frame(segs, h=8, w=8):
    """An id map of (id, label, isthing, (y0, y1, x0, x1)) boxes."""
    ids = torch.zeros((h, w), dtype=torch.int32)
    info = []
    for sid, label, thing, (y0, y1, x0, x1) in segs:
        ids[y0:y1, x0:x1] = sid
        info.append(dict(id=sid, label=label, isthing=thing))
    return ids, info


def test_stitcher_follows_the_propagated_map_one_to_one_and_by_class():
    st = NextFrameStitcher(iou_thr=0.3)
    ids, segs = frame([(1, 0, True, (0, 4, 0, 4)), (2, 1, True, (4, 8, 4, 8)),
                       (3, 5, False, (0, 4, 4, 8))])
    out0, s0 = st.track(ids, segs)
    track = {s['label']: s['id'] for s in s0}
    # Frame 2: the two things swapped places; the model's propagated map says so.
    ids, segs = frame([(1, 0, True, (4, 8, 4, 8)), (2, 1, True, (0, 4, 0, 4)),
                       (3, 5, False, (0, 4, 4, 8)), (4, 0, True, (4, 8, 0, 2))])
    propagated = torch.zeros_like(ids)
    propagated[4:8, 4:8] = track[0]
    propagated[0:4, 0:4] = track[1]
    propagated[4:8, 0:2] = track[1]  # a wrong-class overlap is never taken
    out1, s1 = st.track(ids, segs, propagated=propagated)
    assert out1[5, 5] == track[0] and out1[1, 1] == track[1] and out1[1, 5] == track[5]
    assert out1[5, 0] not in (track[0], track[1], 0)  # the new thing: a new track
    assert len({s['id'] for s in s1}) == len(s1) == 4
    with pytest.raises(ValueError, match='propagated map'):
        st.track(ids, segs, propagated=propagated[:4])


def test_vip_deeplab_trains_both_branches_and_stitches_frame_by_frame():
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    model = MODELS.build(cfg.model)
    samples = [clip_sample(c, t, [(1, 0, (4 + 4 * t, 8)), (2, 1, (40, 40 - 4 * t))], size=64,
                           num_things=4, stuff=5) for c in range(2) for t in range(2)]
    inputs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8) for _ in samples]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_sem', 'loss_center', 'loss_offset', 'loss_next_offset'} <= set(losses)
    assert losses['loss_next_offset'] > 0
    model.parse_losses(losses)[0].backward()
    assert model.next_offset_predictor[-1].weight.grad.abs().sum() > 0
    assert model.detector.backbone.conv1.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='come from videos'):
        model.loss(data['inputs'][1:3], data['data_samples'][1:3])

    model.eval()
    metas = [dict(video_id=0, frame_id=t, img_shape=(64, 64), ori_shape=(64, 64),
                  batch_input_shape=(64, 64)) for t in range(3)]
    calls = []
    original = model.tracker.track

    def spy(ids, segments, **kwargs):
        calls.append(kwargs.get('propagated'))
        return original(ids, segments, **kwargs)

    model.tracker.track = spy
    with torch.no_grad():
        out = model.predict(torch.randn(3, 3, 64, 64), [DetDataSample(metainfo=m)
                                                         for m in metas])
    assert [o.pred_panoptic_seg.sem_seg.shape for o in out] == [(1, 64, 64)] * 3
    assert calls[0] is None and all(c.shape == (64, 64) for c in calls[1:])
