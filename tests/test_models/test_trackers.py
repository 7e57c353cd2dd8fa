"""Trackers on hand-made frames whose correct ids are known."""
import pytest
import torch

from mmpanoptic.models.trackers import OnlineMaskTracker, PerFrameIds


def frame(boxes, h=20, w=30, stuff_label=5):
    """Id map + segments: stuff everywhere, then boxes (y, x, label) of 4x4."""
    ids = torch.ones((h, w), dtype=torch.int32)
    segs = [dict(id=1, label=stuff_label, isthing=False, score=1.0)]
    for k, (y, x, label) in enumerate(boxes):
        ids[y:y + 4, x:x + 4] = k + 2
        segs.append(dict(id=k + 2, label=label, isthing=True, score=0.9))
    return ids, segs


def track_ids(tracker, ids, segs):
    out, out_segs = tracker.track(ids, segs)
    # id of the segment covering each box's top-left pixel, and the stuff id
    return out, {s['id']: s for s in out_segs}


def test_moving_objects_keep_ids_and_stuff_keeps_one_id():
    tr = OnlineMaskTracker(iou_thr=0.2, max_age=3)
    seen = []
    for t in range(5):  # two objects moving right by 2 px per frame
        ids, segs = frame([(2, 2 + 2 * t, 0), (12, 20 - 2 * t, 1)])
        out, _ = track_ids(tr, ids, segs)
        seen.append((int(out[2, 2 + 2 * t]), int(out[12, 20 - 2 * t]), int(out[19, 0])))
    assert len(set(seen)) == 1
    a, b, stuff = seen[0]
    assert len({a, b, stuff}) == 3


def test_occluded_object_gets_its_id_back_within_max_age():
    tr = OnlineMaskTracker(iou_thr=0.2, max_age=3, warp=True)
    out, _ = track_ids(tr, *frame([(2, 2, 0)]))
    first = int(out[2, 2])
    track_ids(tr, *frame([(2, 4, 0)]))
    for _ in range(2):  # hidden for two frames, still moving 2 px per frame
        track_ids(tr, *frame([]))
    out, _ = track_ids(tr, *frame([(2, 10, 0)]))  # reappears where it was heading
    assert int(out[2, 10]) == first
    # Hidden longer than max_age: a new id.
    tr = OnlineMaskTracker(iou_thr=0.2, max_age=1, warp=False)
    out, _ = track_ids(tr, *frame([(2, 2, 0)]))
    first = int(out[2, 2])
    for _ in range(3):
        track_ids(tr, *frame([]))
    out, _ = track_ids(tr, *frame([(2, 2, 0)]))
    assert int(out[2, 2]) != first


def test_class_change_starts_a_new_track_and_ids_stay_unique():
    tr = OnlineMaskTracker(iou_thr=0.2)
    out, _ = track_ids(tr, *frame([(2, 2, 0)]))
    before = int(out[2, 2])
    out, segs = track_ids(tr, *frame([(2, 2, 1)]))  # same place, other class
    assert int(out[2, 2]) != before
    assert len(segs) == 2 and sorted(torch.unique(out).tolist()) == sorted(segs)


def test_per_frame_ids_never_repeat():
    tr = PerFrameIds()
    all_ids = set()
    for t in range(3):
        out, segs = tr.track(*frame([(2, 2, 0)]))
        ids = {s['id'] for s in segs}
        assert not ids & all_ids and set(torch.unique(out).tolist()) == ids
        all_ids |= ids


class StubDetector(torch.nn.Module):
    """The image-model contract the video model uses: predict_outputs, fusion;
    every frame holds one stuff segment."""
    data_preprocessor = torch.nn.Identity()

    def predict_outputs(self, inputs, samples):
        return dict(frames=inputs)

    def fusion(self, outputs, metas):
        return [dict(panoptic=frame([(2, 2, 0)])) for _ in metas]


def test_video_model_resets_the_tracker_per_video_and_per_pass():
    from mmdet.structures import DetDataSample

    from mmpanoptic.models.segmentors import VideoPanopticSegmentor

    model = VideoPanopticSegmentor(detector=StubDetector(), tracker=PerFrameIds())

    def run(video, frames):
        samples = [DetDataSample(metainfo=dict(video_id=video, frame_id=f)) for f in frames]
        out = model.predict(torch.zeros(len(frames), 3, 2, 2), samples)
        return [s.pred_panoptic_seg.segments_info[0]['id'] for s in out]

    assert run(0, [0, 1]) == [1, 3]  # PerFrameIds counts on within a video
    assert run(1, [0]) == [1]  # new video: reset
    assert run(1, [0]) == [1]  # the same video again (next evaluation): reset


def test_query_tracker_keeps_ids_through_propagation_and_reassociates_fresh():
    from mmpanoptic.models.trackers import QueryPropagationTracker
    tr = QueryPropagationTracker(refresh_interval=3, sim_thr=0.5, max_age=5)
    q = torch.eye(4)  # query embeddings: query k points along axis k

    def segs(*pairs):  # (segment id, query, label)
        return [dict(id=i, query=k, label=lab, isthing=True) for i, k, lab in pairs]

    ids = torch.tensor([[1, 2]])
    init, fresh = tr.init_queries()
    assert init is None and fresh  # first frame: fresh detection
    out, s0 = tr.track(ids, segs((1, 0, 0), (2, 1, 0)), queries=q, fresh=fresh)
    first = {x['query']: x['id'] for x in s0}
    init, fresh = tr.init_queries()
    assert not fresh and init.shape == (1, 4, 4)  # propagated
    # Propagated: the query index is the association, whatever the segment ids.
    _, s1 = tr.track(torch.tensor([[5, 6]]), segs((5, 1, 0), (6, 0, 0)), queries=q, fresh=fresh)
    assert {x['query']: x['id'] for x in s1} == first
    tr.track(ids, segs((1, 0, 0), (2, 1, 0)), queries=q, fresh=False)
    init, fresh = tr.init_queries()
    assert fresh  # frame 3 of refresh_interval 3
    # Fresh: other query slots, but embeddings close to the tracked ones.
    fresh_q = torch.stack([q[1] + 0.1, q[0] + 0.1, q[2], q[3]])
    _, s3 = tr.track(torch.tensor([[1, 2, 3]]), segs((1, 1, 0), (2, 0, 0), (3, 2, 0)),
                     queries=fresh_q, fresh=fresh)
    got = {x['query']: x['id'] for x in s3}
    assert got[1] == first[0] and got[0] == first[1]  # re-associated by embedding
    assert got[2] not in first.values()  # a new object: a new track


def test_video_model_with_query_tracker_runs_and_rejects_other_heads():
    import os.path as osp

    import pytest
    from mmdet.structures import DetDataSample
    from mmengine.config import Config

    from mmpanoptic.registry import MODELS
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    config = 'configs/video/mask2former_r18_query-tracker_toy-video.py'
    cfg = Config.fromfile(osp.join(root, config))
    cfg.model.tracker.refresh_interval = 2
    model = MODELS.build(cfg.model).eval()
    metas = [dict(video_id=0, frame_id=t, img_shape=(64, 64), ori_shape=(64, 64),
                  batch_input_shape=(64, 64)) for t in range(3)]
    with torch.no_grad():
        out = model.predict(torch.randn(3, 3, 64, 64), [DetDataSample(metainfo=m) for m in metas])
    assert [o.pred_panoptic_seg.sem_seg.shape for o in out] == [(1, 64, 64)] * 3

    class NoQueries(torch.nn.Module):
        data_preprocessor = torch.nn.Identity()
        panoptic_head = torch.nn.Identity()
    video = MODELS.build(dict(type='VideoPanopticSegmentor', detector=NoQueries(),
                              tracker=dict(type='QueryPropagationTracker')))
    with pytest.raises(TypeError, match='forward_with_queries'):
        video.predict(None, [DetDataSample(metainfo=metas[0])])


def test_appearance_reidentifies_objects_that_swapped_places_while_hidden():
    """Two same-class objects vanish and come back at each other's places:
    mask IoU alone swaps their ids, the colour embeddings do not."""
    red, blue = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])
    stuff = torch.tensor([0.0, 1.0, 0.0])

    def run(appearance):
        tr = OnlineMaskTracker(iou_thr=0.2, max_age=3, warp=False,
                               appearance_weight=0.7 if appearance else 0.0)
        ids, segs = frame([(2, 2, 0), (2, 20, 0)])  # red left, blue right
        emb = torch.stack([stuff, red, blue])
        out, _ = tr.track(ids, segs, embeddings=emb if appearance else None)
        red_id, blue_id = int(out[2, 2]), int(out[2, 20])
        tr.track(*frame([]))  # both hidden
        ids, segs = frame([(2, 2, 0), (2, 20, 0)])
        emb = torch.stack([stuff, blue, red])  # blue is now left, red right
        out, _ = tr.track(ids, segs, embeddings=emb if appearance else None)
        return (int(out[2, 2]), int(out[2, 20])) == (blue_id, red_id)

    assert not run(appearance=False)  # position only: the ids are swapped
    assert run(appearance=True)


def test_appearance_embedding_count_must_match_segments():
    import pytest
    tr = OnlineMaskTracker()
    ids, segs = frame([(2, 2, 0)])
    with pytest.raises(ValueError, match='2 segments'):
        tr.track(ids, segs, embeddings=torch.zeros(3, 4))
    with pytest.raises(ValueError, match='appearance_weight'):
        OnlineMaskTracker(appearance_weight=2.0)


def test_color_histogram_embeddings_by_hand():
    from mmpanoptic.models.trackers import color_histogram_embeddings
    img = torch.zeros(3, 4, 4)
    img[0, :, 2:] = 255  # right half red
    img[2, 2:, :] = 200  # bottom half blue-ish
    ids = torch.tensor([[1, 1, 2, 2]] * 4)
    e = color_histogram_embeddings(img, ids, [dict(id=2), dict(id=1)], bins=2)
    # id 1 (left): 4 black + 4 blue pixels -> bins 0 and 1, sqrt(4) each, normalised
    assert torch.allclose(e[1], torch.tensor([1, 1, 0, 0, 0, 0, 0, 0]) / 2 ** 0.5)
    # id 2 (right): 4 red + 4 magenta -> bins 4 and 5
    assert torch.allclose(e[0], torch.tensor([0, 0, 0, 0, 1, 1, 0, 0]) / 2 ** 0.5)
    assert torch.isclose(e[0] @ e[1], torch.tensor(0.0))  # nothing in common


def test_video_model_passes_colour_embeddings_to_the_tracker():
    from mmdet.structures import DetDataSample

    from mmpanoptic.models.segmentors import VideoPanopticSegmentor

    seen = []

    class Recorder(PerFrameIds):
        def track(self, ids, segments, *, embeddings=None, queries=None, fresh=True):
            seen.append(embeddings)
            return super().track(ids, segments)

    model = VideoPanopticSegmentor(detector=StubDetector(), tracker=Recorder(), appearance='color')
    img = torch.zeros(1, 3, 20, 30)
    img[0, 0, 2:6, 2:6] = 255  # the object is red, the rest black
    model.predict(img, [DetDataSample(metainfo=dict(video_id=0, frame_id=0,
                                                     img_shape=(20, 30)))])
    emb = seen[0]
    assert emb.shape == (2, 512)
    assert int(emb[1].argmax()) == 7 * 64 and int(emb[0].argmax()) == 0  # red / black
    import pytest
    with pytest.raises(ValueError, match='appearance'):
        VideoPanopticSegmentor(detector=StubDetector(), tracker=Recorder(), appearance='deep')


def test_knet_kernels_propagate_through_the_query_tracker():
    import os.path as osp

    import pytest
    from mmdet.structures import DetDataSample
    from mmengine.config import Config

    from mmpanoptic.registry import MODELS
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs/knet/knet-s3_r18_fpn_toy.py'))
    detector = MODELS.build(cfg.model).eval()
    head = detector.panoptic_head
    torch.manual_seed(0)
    with torch.no_grad():
        feats = detector.extract_feat(torch.randn(1, 3, 64, 64))
        cls, masks = head(feats)
        cls2, masks2, kernels = head.forward_with_queries(feats)
        assert torch.equal(cls[-1], cls2[-1]) and torch.equal(masks[-1], masks2[-1])
        k = head.num_proposals + cfg.num_stuff_classes
        assert kernels.shape == (1, k, 64)
        # Started from its own output kernels, the head runs and keeps the slots.
        cls3, masks3, kernels3 = head.forward_with_queries(feats, init_queries=kernels)
        assert masks3[-1].shape == masks[-1].shape and kernels3.shape == kernels.shape
        with pytest.raises(ValueError, match='init_queries'):
            head.forward_with_queries(feats, init_queries=kernels[:, :3])
    video = MODELS.build(dict(type='VideoPanopticSegmentor', detector=detector,
                              tracker=dict(type='QueryPropagationTracker',
                                           refresh_interval=2))).eval()
    metas = [dict(video_id=0, frame_id=t, img_shape=(64, 64), ori_shape=(64, 64),
                  batch_input_shape=(64, 64)) for t in range(3)]
    with torch.no_grad():
        out = video.predict(torch.randn(3, 3, 64, 64), [DetDataSample(metainfo=m) for m in metas])
    assert [o.pred_panoptic_seg.sem_seg.shape for o in out] == [(1, 64, 64)] * 3
    assert video.tracker.frame == 2 and video.tracker.queries.shape == (1, k, 64)


def test_propagation_training_supervises_reference_and_key_frames():
    import os.path as osp

    import pytest
    from mmengine.config import Config

    from mmpanoptic.registry import MODELS

    from .test_query_configs import tiny_batch
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(
        root, 'configs/video/mask2former_r18_propagation-trained_toy-video.py'))
    model = MODELS.build(cfg.model)
    inputs, samples = tiny_batch(4, 4)  # two frames: one (reference, key) pair
    for t, s in enumerate(samples):
        s.set_metainfo(dict(video_id=7, frame_id=t))
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=samples), True)
    calls = []
    head = model.detector.panoptic_head
    original = head.forward_with_queries

    def spy(feats, metas, init_queries=None):
        calls.append(init_queries)
        return original(feats, metas, init_queries=init_queries)

    head.forward_with_queries = spy
    losses = model.loss(data['inputs'], data['data_samples'])
    assert calls[0] is None and calls[1] is not None  # key frame starts from the reference
    assert not calls[1].requires_grad  # detached
    total, _ = model.parse_losses(losses)
    total.backward()
    assert head.query_feat.weight.grad is not None
    for s in data['data_samples'][1:]:
        s.set_metainfo(dict(video_id=8))
    with pytest.raises(ValueError, match='come from videos 7 and 8'):
        model.loss(data['inputs'], data['data_samples'])
    with pytest.raises(ValueError, match='batch of 1'):
        model.loss(data['inputs'][:1], data['data_samples'][:1])


def test_one_tracker_interface():
    """Every registered tracker is a BaseTracker with one track() signature."""
    import inspect

    from mmpanoptic.models.trackers import BaseTracker
    from mmpanoptic.registry import TASK_UTILS
    names = ['OnlineMaskTracker', 'PerFrameIds', 'QueryPropagationTracker', 'NextFrameStitcher']
    base = inspect.signature(BaseTracker.track)
    for name in names:
        cls = TASK_UTILS.get(name)
        assert issubclass(cls, BaseTracker), name
        assert inspect.signature(cls.track) == base, name
    with pytest.raises(ValueError, match='needs the frame'):
        TASK_UTILS.build(dict(type='QueryPropagationTracker')).track(
            torch.zeros(2, 2, dtype=torch.int32), [])
