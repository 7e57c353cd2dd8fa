"""Instance AP (mmdet's CocoMetric) and semantic mIoU (mmseg's IoUMetric) from
panoptic ground truth and predictions, on hand-built images."""
import numpy as np
import pytest
import torch

from mmpanoptic.evaluation.metrics import InstanceFromPanopticMetric, SemanticIoUMetric

META = dict(classes=('car', 'person', 'road', 'sky'), thing_classes=('car', 'person'),
            stuff_classes=('road', 'sky'), category_ids=[1, 2, 7, 9], isthing=[1, 1, 0, 0])


def _scene():
    ids = np.full((40, 60), 7, np.int64)           # road
    ids[:10] = 9                                     # sky
    ids[15:30, 5:20] = 101                           # car
    ids[12:35, 30:38] = 102                          # person
    ids[20:30, 45:55] = 103                          # a crowd of cars
    ids[0, :5] = 0                                   # VOID
    segs = [dict(id=7, label=2, isthing=0, iscrowd=0), dict(id=9, label=3, isthing=0, iscrowd=0),
            dict(id=101, label=0, isthing=1, iscrowd=0),
            dict(id=102, label=1, isthing=1, iscrowd=0),
            dict(id=103, label=0, isthing=1, iscrowd=1)]
    return ids, segs


def _sample(k, gt_ids, gt_segs, pred_ids, pred_segs, **extra):
    return dict(img_id=k, img_path=f'{k}.jpg', ori_shape=gt_ids.shape,
                gt_panoptic_seg=dict(sem_seg=torch.from_numpy(gt_ids[None]),
                                     segments_info=gt_segs),
                pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pred_ids[None]),
                                       segments_info=pred_segs), **extra)


def _run(metric, samples):
    metric.dataset_meta = META
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_perfect_prediction_scores_100_on_both(tmp_path):
    ids, segs = _scene()
    pred_segs = [dict(s, score=0.9) for s in segs if not s['iscrowd']]
    pred = ids.copy()
    pred[pred == 103] = 7  # the crowd region is predicted as road
    samples = [_sample(k, ids, segs, pred, pred_segs) for k in range(2)]
    ap = _run(InstanceFromPanopticMetric(metric=['segm', 'bbox']), samples)
    assert ap['coco/segm_mAP'] == pytest.approx(1.0) and ap['coco/bbox_mAP'] == pytest.approx(1.0)
    iou = _run(SemanticIoUMetric(), samples)
    # The crowd of cars counts as car in the semantic map: 1 class off there.
    car = (ids == 101).sum()
    crowd = (ids == 103).sum()
    road = (ids == 7).sum()
    expected = np.mean([car / (car + crowd), 1.0, road / (road + crowd), 1.0]) * 100
    assert iou['semantic/mIoU'] == pytest.approx(expected, abs=0.01)


def test_a_missed_person_and_a_wrong_class_lower_ap_and_iou():
    ids, segs = _scene()
    pred = ids.copy()
    pred[ids == 102] = 7           # the person becomes road
    pred[ids == 103] = 104
    pred_segs = [dict(id=7, label=2, isthing=0), dict(id=9, label=3, isthing=0),
                 dict(id=101, label=0, isthing=1, score=0.8),
                 dict(id=104, label=1, isthing=1, score=0.7)]  # crowd region called person
    ap = _run(InstanceFromPanopticMetric(), [_sample(0, ids, segs, pred, pred_segs)])
    # car: one gt, found -> AP 1; person: one gt, missed, one FP -> AP 0.
    assert ap['coco/segm_mAP'] == pytest.approx(0.5)
    iou = _run(SemanticIoUMetric(), [_sample(0, ids, segs, pred, pred_segs)])
    assert 0 < iou['semantic/mIoU'] < 100


def test_model_instances_and_semantic_are_used_when_given():
    ids, segs = _scene()
    pred_segs = [dict(s) for s in segs if not s['iscrowd']]
    masks = torch.from_numpy(np.stack([ids == 101, ids == 102]))
    inst = dict(masks=masks, labels=torch.tensor([1, 0]), scores=torch.tensor([0.9, 0.9]),
                bboxes=torch.tensor([[5., 15, 20, 30], [30, 12, 38, 35]]))
    sem = torch.zeros((1, *ids.shape), dtype=torch.long)  # all "car"
    sample = _sample(0, ids, segs, ids, pred_segs, pred_instances=inst,
                     pred_sem_seg=dict(sem_seg=sem))
    ap = _run(InstanceFromPanopticMetric(), [sample])
    assert ap['coco/segm_mAP'] == pytest.approx(0.0)  # the model's labels are swapped
    iou = _run(SemanticIoUMetric(), [sample])
    assert iou['semantic/mIoU'] < 30  # the model's semantic map, not the panoptic one


def test_instance_ground_truth_source_is_explicit(tmp_path):
    """The instances JSON is used only when asked for, and a missing one is an
    error naming it (it used to fall back to the panoptic segments silently)."""
    import json
    missing = str(tmp_path / 'instances_val2017.json')
    with pytest.raises(FileNotFoundError, match='instances_val2017.json.*gt_source'):
        InstanceFromPanopticMetric(ann_file=missing)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        InstanceFromPanopticMetric(ann_file=missing, gt_source='instances_json')
    with pytest.raises(ValueError, match='takes no ann_file'):
        InstanceFromPanopticMetric(ann_file=missing, gt_source='panoptic')
    with pytest.raises(ValueError, match='needs ann_file'):
        InstanceFromPanopticMetric(gt_source='instances_json')
    assert InstanceFromPanopticMetric().gt_source == 'panoptic'
    assert InstanceFromPanopticMetric()._coco_api is None

    json.dump(dict(images=[dict(id=0, width=60, height=40, file_name='0.jpg')],
                   annotations=[dict(id=1, image_id=0, category_id=1, iscrowd=0, area=150,
                                     bbox=[5, 15, 15, 15],
                                     segmentation=[[5, 15, 20, 15, 20, 30, 5, 30]])],
                   categories=[dict(id=1, name='car'), dict(id=2, name='person')]),
              open(missing, 'w'))
    metric = InstanceFromPanopticMetric(ann_file=missing)
    assert metric.gt_source == 'instances_json' and metric._coco_api is not None
