"""Near-online tube queries: Mask2Former's decoder over clips of T frames."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

from mmpanoptic.registry import MODELS

from .test_dvis import clip_sample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/video/mask2former_r18_tube-clip2_toy-video.py'


def build(**changes):
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.model.update(changes)
    return MODELS.build(cfg.model)


def test_a_clip_of_one_frame_repeated_is_that_frame_and_t1_is_the_image_model():
    """Tube attention over T copies of a frame attends to each token T
    times: the softmax weights split evenly, so the tube's class and every
    frame's mask equal the image model's on that frame (no new weights)."""
    torch.manual_seed(0)
    model = build().eval()
    head = model.detector.panoptic_head
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = model.detector.extract_feat(x)
        image_cls, image_masks, _ = head.forward_with_queries(feats)  # eval: last layer
        one = head.forward_clip(feats, 1)
        feats3 = model.detector.extract_feat(x.expand(3, -1, -1, -1))
        three = head.forward_clip(feats3, 3)
    torch.testing.assert_close(one[0][-1], image_cls[-1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(one[1][-1][:, :, 0], image_masks[-1], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(three[0][-1], image_cls[-1], atol=1e-4, rtol=1e-4)
    for t in range(3):
        torch.testing.assert_close(three[1][-1][:, :, t], image_masks[-1], atol=1e-3,
                                   rtol=1e-3)
    with pytest.raises(ValueError, match='not made of clips of 2'):
        head.forward_clip(feats3, 2)


def test_tube_model_trains_on_clips_with_one_class_per_tube():
    torch.manual_seed(0)
    model = build().train()
    samples = [clip_sample(c, t, [(1, 0, (4 + 4 * t, 8)), (2, 1, (40, 40 - 4 * t))], size=64,
                           num_things=4, stuff=5) for c in range(2) for t in range(2)]
    inputs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8) for _ in samples]
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_cls', 'loss_mask', 'loss_dice', 'd0.loss_cls'} <= set(losses)
    assert not model.clip_criterion.absent_as_no_object
    model.parse_losses(losses)[0].backward()
    assert model.detector.panoptic_head.query_feat.weight.grad.abs().sum() > 0


def test_clips_are_cut_per_video_and_every_t_frames_and_linked_by_queries():
    torch.manual_seed(0)
    model = build(clip_length=3).eval()
    fresh = []
    original = model.tracker.track

    def spy(ids, segments, **kwargs):
        fresh.append(kwargs['fresh'])
        return original(ids, segments, **kwargs)

    model.tracker.track = spy
    metas = [dict(video_id=v, frame_id=t, img_shape=(64, 64), ori_shape=(64, 64),
                  batch_input_shape=(64, 64)) for v, t in
             [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]]
    with torch.no_grad():
        out = model.predict(torch.randn(6, 3, 64, 64), [DetDataSample(metainfo=m)
                                                         for m in metas])
    assert fresh == [True, False, False, True, True, False]
    assert all(o.pred_panoptic_seg.sem_seg.shape == (1, 64, 64) for o in out)
    with pytest.raises(ValueError, match='clip_length'):
        build(clip_length=0)
