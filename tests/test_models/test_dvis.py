"""DVIS++-style decoupled tracking: the referring tracker, the temporal
refiner, the tube criterion and the DVIS video model."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from mmpanoptic.models.criteria import TubeMaskSetCriterion, clip_targets
from mmpanoptic.models.heads import ReferringTracker, TemporalRefiner
from mmpanoptic.models.heads.dvis_tracker import match_to_previous
from mmpanoptic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ONLINE = 'configs/video/dvis_mask2former_r18_toy-video.py'
OFFLINE = 'configs/video/dvis-offline_mask2former_r18_toy-video.py'


def clip_sample(video, frame, things, size=32, num_things=2, stuff=2):
    """A frame whose things are ``(track id, label, (y, x))`` 8 px squares
    on stuff class ``stuff``."""
    sem = np.full((size, size), stuff, np.int64)
    masks = np.zeros((len(things), size, size), np.uint8)
    for k, (_, label, (y, x)) in enumerate(things):
        masks[k, y:y + 8, x:x + 8] = 1
        sem[masks[k].astype(bool)] = label
    s = DetDataSample(metainfo=dict(img_id=f'{video}/{frame}', video_id=video, frame_id=frame,
                                    img_shape=(size, size), ori_shape=(size, size),
                                    batch_input_shape=(size, size)))
    s.gt_instances = InstanceData(labels=torch.tensor([t[1] for t in things], dtype=torch.long),
                                  masks=BitmapMasks(masks, size, size),
                                  instances_ids=torch.tensor([t[0] for t in things]))
    s.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(sem[None]))
    return s


def test_match_to_previous_undoes_a_permutation():
    prev = torch.randn(6, 16)
    perm = torch.randperm(6)
    current = prev[perm] + 0.01 * torch.randn(6, 16)
    order = match_to_previous(prev, current)
    assert torch.equal(perm[order], torch.arange(6))  # row i of current[order] is track i


def test_referring_tracker_ignores_the_segmenter_query_order_after_the_first_frame():
    """Re-identification aligns the current queries to the tracks, so the
    tracked predictions do not depend on the order the segmenter returns
    its queries in (eval mode: no denoising)."""
    torch.manual_seed(0)
    tracker = ReferringTracker(num_classes=3, embed_dims=16, mask_dims=8, num_heads=2,
                               num_layers=2, feedforward_channels=32).eval()
    q = [torch.randn(1, 5, 16) for _ in range(3)]
    feats = [torch.randn(1, 8, 6, 6) for _ in range(3)]

    def run(frames):
        tracker.reset()
        return [tracker(x, x, f) for x, f in zip(frames, feats)]

    ref = run(q)
    perm = torch.tensor([3, 0, 4, 1, 2])
    shuffled = run([q[0], q[1][:, perm], q[2][:, torch.randperm(5)]])
    for a, b in zip(ref[1:], shuffled[1:]):
        torch.testing.assert_close(a['cls'], b['cls'])
        torch.testing.assert_close(a['masks'], b['masks'])
    assert ref[0]['cls'].shape == (2, 1, 5, 4) and ref[0]['masks'].shape == (2, 1, 5, 6, 6)
    # the same segmenter query is picked for each track, wherever it was listed
    assert torch.equal(perm[shuffled[1]['order'][0]], ref[1]['order'][0])


def test_denoising_only_in_training_and_only_after_the_first_frame():
    torch.manual_seed(0)
    tracker = ReferringTracker(num_classes=3, embed_dims=16, mask_dims=8, num_heads=2,
                               num_layers=1, feedforward_channels=32, noise='rs',
                               noise_ratio=1.0)
    aligned = torch.randn(5, 16)
    assert not torch.equal(tracker._noised(aligned), aligned)
    assert sorted(tracker._noised(aligned).sum(1).tolist()) == sorted(aligned.sum(1).tolist())
    tracker.eval()
    assert torch.equal(tracker._noised(aligned), aligned)
    with pytest.raises(ValueError, match='noise must be one of'):
        ReferringTracker(num_classes=3, noise='gaussian')


def test_clip_targets_build_tubes_from_track_ids():
    a = clip_sample(0, 0, [(7, 0, (2, 2)), (9, 1, (20, 20))])
    b = clip_sample(0, 1, [(9, 1, (18, 20))])  # track 7 left
    labels, masks, present = clip_targets([a, b], clip_length=2, num_things=2,
                                          num_classes=3)[0]
    assert labels.tolist() == [0, 1, 2]  # track 7, track 9, the stuff class
    assert present.tolist() == [[True, False], [True, True], [True, True]]
    assert masks[0, 1].sum() == 0 and masks[1, 1].sum() == 64 and masks[0, 0].sum() == 64
    with pytest.raises(ValueError, match='come from videos'):
        clip_targets([a, clip_sample(1, 1, [])], clip_length=2, num_things=2, num_classes=3)
    with pytest.raises(ValueError, match='track 9 has label 0'):
        clip_targets([a, clip_sample(0, 1, [(9, 0, (0, 0))])], clip_length=2, num_things=2,
                     num_classes=3)
    with pytest.raises(ValueError, match='not made of clips of 2'):
        clip_targets([a], clip_length=2, num_things=2, num_classes=3)
    del a.gt_instances.instances_ids
    with pytest.raises(KeyError, match='with_track_ids=True'):
        clip_targets([a, b], clip_length=2, num_things=2, num_classes=3)


def perfect_logits(targets, order, q=4, num_classes=3):
    """Class and mask logits of one clip where query ``order[t][g]`` holds
    tube g in frame t."""
    labels, masks, present = targets
    t = masks.shape[1]
    cls = torch.full((t, q, num_classes + 1), -8.0)
    cls[..., num_classes] = 8.0
    logits = torch.full((t, q) + masks.shape[-2:], -8.0)
    for f in range(t):
        for g, query in enumerate(order[f]):
            if present[g, f]:
                cls[f, query, labels[g]], cls[f, query, num_classes] = 8.0, -8.0
                logits[f, query][masks[g, f]] = 8.0
    return cls, logits


def test_tube_criterion_rewards_a_query_that_keeps_its_object():
    crit = TubeMaskSetCriterion(num_classes=3, matcher=dict(type='HungarianMaskMatcher',
                                                          num_points=256),
                                num_points=256, reid_weight=0)
    clip = [clip_sample(0, t, [(1, 0, (2, 2 + 2 * t)), (2, 1, (20, 20 - 2 * t))])
            for t in range(3)]
    targets = clip_targets(clip, clip_length=3, num_things=2, num_classes=3)
    kept = perfect_logits(targets[0], [[0, 1, 2]] * 3)
    swapped = perfect_logits(targets[0], [[0, 1, 2], [1, 0, 2], [0, 1, 2]])
    qi, gi = crit.match(*kept, targets[0])
    assert dict(zip(gi.tolist(), qi.tolist())) == {0: 0, 1: 1, 2: 2}

    good = crit([kept[0][None]], [kept[1][None]], targets)
    bad = crit([swapped[0][None]], [swapped[1][None]], targets)
    # An identity switch costs even when every frame is perfect on its own
    # (mask terms are not 0 for perfect masks: points on the square edges
    # sample soft targets).
    assert good['loss_cls'] < 1e-3 and bad['loss_cls'] > 1.0
    for k in ('loss_mask', 'loss_dice'):
        assert bad[k] > 1.5 * good[k]


def test_contrastive_term_prefers_consistent_references():
    crit = TubeMaskSetCriterion(num_classes=3, matcher=dict(type='HungarianMaskMatcher',
                                                          num_points=256), num_points=256)
    clip = [clip_sample(0, t, [(1, 0, (2, 2)), (2, 1, (20, 20))]) for t in range(3)]
    targets = clip_targets(clip, clip_length=3, num_things=2, num_classes=3)
    matches = [(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2]))]
    base = 4 * torch.eye(4, 8)
    consistent = base.expand(3, 4, 8)[None]
    switching = torch.stack([base, base[[1, 0, 2, 3]], base])[None]
    good = crit.contrastive(consistent, targets, matches)
    bad = crit.contrastive(switching, targets, matches)
    assert good['loss_reid'] < 0.01 and bad['loss_reid'] > 1.0
    assert good['loss_aux_reid'] < 0.01 < bad['loss_aux_reid']


def test_temporal_refiner_gives_one_class_per_track_for_the_whole_video():
    torch.manual_seed(0)
    refiner = TemporalRefiner(num_classes=3, embed_dims=16, mask_dims=8, num_heads=2,
                              num_layers=2, feedforward_channels=32, kernel_size=3)
    cls, masks = refiner(torch.randn(1, 6, 5, 16), torch.randn(1, 6, 5, 16),
                         torch.randn(1, 6, 8, 4, 4))
    assert cls.shape == (2, 1, 6, 5, 4) and masks.shape == (2, 1, 6, 5, 4, 4)
    assert torch.equal(cls[:, :, :1].expand_as(cls), cls)
    with pytest.raises(ValueError, match='odd'):
        TemporalRefiner(num_classes=3, kernel_size=4)


def build(config, **changes):
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.update(changes)
    return MODELS.build(cfg.model)


def toy_clip_batch(model, clips=2, clip_length=5, size=64):
    samples = [clip_sample(c, t, [(1, 0, (4 + 2 * t, 4)), (2, 1, (40, 40 - 3 * t))],
                           size=size, num_things=4, stuff=5)
               for c in range(clips) for t in range(clip_length)]
    inputs = [torch.randint(0, 255, (3, size, size), dtype=torch.uint8) for _ in samples]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)


def test_dvis_trains_only_the_tracker_then_only_the_refiner():
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, ONLINE))
    # DVIS++'s contrastive term and denoising (off in the toy config) on.
    model = build(ONLINE, criterion=dict(cfg.model.criterion, reid_weight=2.0),
                  referring_tracker=dict(cfg.model.referring_tracker, noise='wa')).train()
    assert not model.detector.training  # the frozen segmenter stays in eval mode
    data = toy_clip_batch(model)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'loss_cls', 'loss_mask', 'loss_dice', 'loss_reid', 'loss_aux_reid',
            'd0.loss_cls'} <= set(losses)
    total, _ = model.parse_losses(losses)
    total.backward()
    grads = {n.split('.')[0] for n, p in model.named_parameters() if p.grad is not None}
    assert grads == {'referring_tracker'}

    model = build(OFFLINE).train()
    assert not model.referring_tracker.training
    losses = model.loss(data['inputs'], data['data_samples'])
    assert 'loss_reid' not in losses
    model.parse_losses(losses)[0].backward()
    grads = {n.split('.')[0] for n, p in model.named_parameters() if p.grad is not None}
    assert grads == {'refiner'}
    with pytest.raises(ValueError, match='needs a refiner'):
        build(ONLINE, mode='offline')


def test_dvis_online_and_offline_inference_from_one_model():
    torch.manual_seed(0)
    model = build(OFFLINE).eval()
    frames = torch.randn(4, 3, 64, 64)

    def samples(video, first=0):
        return [DetDataSample(metainfo=dict(video_id=video, frame_id=first + t,
                                            img_shape=(64, 64), ori_shape=(64, 64),
                                            batch_input_shape=(64, 64))) for t in range(4)]

    with torch.no_grad():
        offline = model.predict(frames, samples(0))
        assert len(offline) == 4 and all('pred_panoptic_seg' in s for s in offline)
        with pytest.raises(ValueError, match='VideoBatchSampler'):
            model.predict(frames, samples(0, first=4))  # the same video continues
        model.mode = 'online'
        online = model.predict(frames[:2], samples(1)[:2])
        online += model.predict(frames[2:], samples(1, first=2)[:2])  # streams across batches
    assert [s.pred_panoptic_seg.sem_seg.shape for s in online] == [(1, 64, 64)] * 4
    assert model.needs_whole_video is False


def test_tracked_ids_follow_queries_across_frames():
    """Query i of the tracker is one track: its id is the same in every
    frame where it holds a thing segment."""
    torch.manual_seed(0)
    model = build(ONLINE).eval()
    head = model.referring_tracker
    with torch.no_grad():  # confident: query 0 is a thing of class 0 everywhere
        head.class_embed.weight.zero_()
        head.class_embed.bias.copy_(torch.tensor([9.] + [-9.] * 8))
    frames = torch.randn(3, 3, 64, 64)
    metas = [dict(video_id=3, frame_id=t, img_shape=(64, 64), ori_shape=(64, 64),
                  batch_input_shape=(64, 64)) for t in range(3)]
    with torch.no_grad():
        out = model.predict(frames, [DetDataSample(metainfo=m) for m in metas])
    by_query = [{s['query']: s['id'] for s in o.pred_panoptic_seg.segments_info} for o in out]
    assert by_query[0]
    for q, tid in by_query[0].items():
        assert all(f.get(q, tid) == tid for f in by_query[1:])


def test_loading_an_image_checkpoint_warm_starts_the_tracker_on_the_segmenter():
    """After ``load_from`` an image model's checkpoint the tracker predicts
    exactly the segmenter's classes and masks (in track order), and after
    the stage-1 checkpoint the refiner predicts the tracker's masks and its
    classes averaged over the frames."""
    from mmengine.runner.checkpoint import load_state_dict
    torch.manual_seed(0)
    model = build(OFFLINE).eval()
    image = MODELS.build(Config.fromfile(osp.join(ROOT, 'configs/mask2former/'
                                                  'mask2former_r18_toy.py')).model).eval()
    load_state_dict(model, image.state_dict())  # keys without 'detector.'
    frames = torch.randn(3, 3, 64, 64)
    samples = [DetDataSample(metainfo=dict(img_shape=(64, 64))) for _ in range(3)]
    tracker = model.referring_tracker
    head = image.panoptic_head
    with torch.no_grad():
        queries, normed, feats = model.segment_frames(frames, samples)
        tracker.reset()
        for t in range(3):
            out = tracker(queries[t:t + 1], normed[t:t + 1], feats[t:t + 1])
            order = out['order'][0]
            seg_cls = head.cls_embed(normed[t])[order]
            seg_masks = torch.einsum('qc,chw->qhw', head.mask_embed(normed[t]), feats[t])[order]
            torch.testing.assert_close(out['cls'][-1, 0], seg_cls, atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(out['masks'][-1, 0], seg_masks, atol=1e-4, rtol=1e-4)
        clip = model.track_clips(queries[None], normed[None], feats[None])
        # Stage 2 from a stage-1 state: the refiner starts from the tracker.
        state = {k: v for k, v in model.state_dict().items() if not k.startswith('refiner.')}
        load_state_dict(model, state)
        cls, masks = model.refiner(clip['tracked'], clip['aligned'], feats[None])
        torch.testing.assert_close(masks[-1], clip['masks'][-1], atol=1e-4, rtol=1e-4)
        c = normed.shape[-1]
        mean = tracker.decoder_norm(clip['tracked']).mean(1)  # (1, Q, C)
        expected = mean @ tracker.class_embed.weight[:, -c:].t() + tracker.class_embed.bias
        for t in range(3):
            torch.testing.assert_close(cls[-1, :, t], expected, atol=1e-4, rtol=1e-4)


def ov_dvis():
    """OV-DVIS++ in small: DVIS on a tiny FC-CLIP (random CLIP towers), and
    the FC-CLIP image model with the same weights; both keep every query
    (random weights: low scores) so that there are segments to compare."""
    from mmengine.runner.checkpoint import load_state_dict

    from mmpanoptic.models.segmentors import DVIS

    from .test_open_vocab_models import tiny_fcclip
    torch.manual_seed(0)
    image = tiny_fcclip()
    with torch.no_grad():  # masks that vary over the image: several segments
        image.panoptic_head.mask_embed[-1].weight.normal_(0, 1)
        image.panoptic_head.mask_embed[-1].bias.zero_()
        image.panoptic_head.cls_embed.proj.weight.normal_(0, 1)
    torch.manual_seed(0)
    blocks = dict(num_layers=1, num_heads=8, feedforward_channels=64)
    model = DVIS(detector=tiny_fcclip(),
                 referring_tracker=dict(type='ReferringTracker', noise=None, **blocks),
                 refiner=dict(type='TemporalRefiner', kernel_size=3, **blocks)).eval()
    load_state_dict(model, image.state_dict())  # the image checkpoint: warm start
    for m in (image, model):  # mostly things: a segment per query
        m.set_vocabulary(['person', 'car', 'dog', 'bird', 'sky'], num_things=4)
    for m in (image, model.detector):
        m.fusion.object_mask_thr, m.fusion.iou_thr = 0.0, 0.0
    return image, model


def video_samples(n, video=0, size=64):
    return [DetDataSample(metainfo=dict(video_id=video, frame_id=t, img_shape=(size, size),
                                        ori_shape=(size, size), batch_input_shape=(size, size),
                                        pad_shape=(size, size))) for t in range(n)]


def labelled(pred):
    """(H, W) label map of a panoptic prediction (-1: no segment)."""
    ids = pred.pred_panoptic_seg.sem_seg[0]
    out = torch.full_like(ids, -1)
    for s in pred.pred_panoptic_seg.segments_info:
        out[ids == s['id']] = s['label']
    return out


def test_open_vocabulary_dvis_reproduces_fcclip_with_its_ensemble():
    """On an FC-CLIP segmenter the tracker gets a text classifier in CLIP's
    text space (sharing the encoder, stored once) and, warm-started from the
    image checkpoint, the video model predicts FC-CLIP's own panoptic frames
    (FC-CLIP's ensemble applied to the tracked masks)."""
    image, model = ov_dvis()
    cls_layer = model.referring_tracker.class_embed
    assert type(cls_layer).__name__ == 'TextEmbeddingClassifier'
    assert cls_layer.text_encoder is model.detector.classifier.text_encoder
    assert cls_layer.vocabulary == model.detector.classifier.vocabulary
    assert not any(k.startswith(('referring_tracker.class_embed.text_encoder',
                                 'refiner.class_embed.text_encoder'))
                   for k in model.state_dict())
    frames = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        video = model.predict(frames, video_samples(3))
        for t in range(3):
            single = image.predict(frames[t:t + 1], video_samples(1))[0]
            assert len(single.pred_panoptic_seg.segments_info) > 1
            assert torch.equal(labelled(video[t]), labelled(single))
            assert len(video[t].pred_panoptic_seg.segments_info) == \
                len(single.pred_panoptic_seg.segments_info)


def test_open_vocabulary_dvis_switches_every_class_layer():
    """set_vocabulary reaches the segmenter, the tracker and the refiner;
    offline, each track keeps one class of the new vocabulary."""
    _, model = ov_dvis()
    model.set_vocabulary(['person, people', 'solar panel', 'sky', 'road'], num_things=2)
    for part in (model.detector.classifier, model.referring_tracker.class_embed,
                 model.refiner.class_embed):
        assert part.num_classes == 4
    frames = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        queries, normed, feats = model.segment_frames(frames[:1], video_samples(1))
        model.referring_tracker.reset()
        assert model.referring_tracker(queries, normed, feats)['cls'].shape[-1] == 5
        online = model.predict(frames, video_samples(4))
        model.mode = 'offline'
        offline = model.predict(frames, video_samples(4, video=1))
    for out in (online, offline):
        labels = [s['label'] for o in out for s in o.pred_panoptic_seg.segments_info]
        assert labels and set(labels) <= {0, 1, 2, 3}
    tracks = {}
    for o in offline:
        for s in o.pred_panoptic_seg.segments_info:
            tracks.setdefault(s['id'], set()).add(s['label'])
    assert tracks and all(len(labels) == 1 for labels in tracks.values())
