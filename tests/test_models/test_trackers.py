"""Trackers on hand-made frames whose correct ids are known."""
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


def test_video_model_resets_the_tracker_per_video_and_per_pass():
    from mmdet.structures import DetDataSample
    from mmengine.structures import PixelData

    from mmpanoptic.models.segmentors import VideoPanopticSegmentor

    class Detector(torch.nn.Module):
        data_preprocessor = torch.nn.Identity()

        def predict(self, inputs, samples):
            for s in samples:
                ids, segs = frame([(2, 2, 0)])
                s.pred_panoptic_seg = PixelData(sem_seg=ids[None],
                                                metainfo=dict(segments_info=segs))
            return samples

    model = VideoPanopticSegmentor(detector=Detector(), tracker=PerFrameIds())

    def run(video, frames):
        samples = [DetDataSample(metainfo=dict(video_id=video, frame_id=f)) for f in frames]
        return [s.pred_panoptic_seg.segments_info[0]['id'] for s in model.predict(None, samples)]

    assert run(0, [0, 1]) == [1, 3]  # PerFrameIds counts on within a video
    assert run(1, [0]) == [1]  # new video: reset
    assert run(1, [0]) == [1]  # the same video again (next evaluation): reset
