"""Panoptic test-time augmentation: outputs merged per family before the fusion."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmpanoptic.models.tta import merge_center_outputs, merge_query_outputs
from mmpanoptic.registry import MODELS

from ..confident import canonical_panoptic, make_confident, segments_of
from ..e2e_utils import ROOT


def _meta(img_shape, flip=False, **kw):
    return dict(img_shape=img_shape, ori_shape=(40, 60), flip=flip,
                flip_direction='horizontal', **kw)


def _padded(region, pad):
    """A view's output map: the image region at the top left, padding after."""
    out = torch.zeros(*region.shape[:-2], *pad)
    out[..., :region.shape[-2], :region.shape[-1]] = region
    return out


def F_interp(x, size):
    return torch.nn.functional.interpolate(x[None], size=size, mode='bilinear',
                                           align_corners=False)[0]


def test_query_merge_undoes_flip_and_scale():
    g = torch.Generator().manual_seed(0)
    cls = torch.randn(1, 5, 4, generator=g)
    region = torch.randn(5, 10, 15, generator=g)  # 1/4 of a 40x60 image in 64x96 padding
    ref = (dict(cls_logits=cls, mask_logits=_padded(region, (16, 24))[None]),
           [_meta((40, 60))], (64, 96))
    flipped = (dict(cls_logits=cls + 1, mask_logits=_padded(region.flip(-1), (16, 24))[None]),
               [_meta((40, 60), flip=True)], (64, 96))
    merged, meta = merge_query_outputs([ref, flipped], 0)
    assert merged['mask_logits'].shape == (1, 5, 10, 15)
    torch.testing.assert_close(merged['mask_logits'][0], region)
    torch.testing.assert_close(merged['cls_logits'], cls + 0.5)  # mean of the views
    assert meta['img_shape'] == (10, 15) and meta['batch_input_shape'] == (10, 15)
    assert meta['ori_shape'] == (40, 60)
    # A 2x view (80x120 image in 128x192 padding) is resized back onto it.
    scaled = (dict(cls_logits=cls, mask_logits=_padded(F_interp(region, (20, 30)),
                                                       (32, 48))[None]),
              [_meta((80, 120))], (128, 192))
    merged, _ = merge_query_outputs([ref, scaled], 0)
    back = (region + F_interp(F_interp(region, (20, 30)), (10, 15))) / 2
    torch.testing.assert_close(merged['mask_logits'][0], back)


def test_center_merge_negates_dx_under_flip_and_scales_offsets():
    g = torch.Generator().manual_seed(1)
    sem = torch.randn(1, 3, 40, 60, generator=g)
    center = torch.rand(1, 1, 40, 60, generator=g)
    offset = torch.randn(1, 2, 40, 60, generator=g) * 5
    ref = (dict(sem=_padded(sem, (48, 64)), center=_padded(center, (48, 64)),
                offset=_padded(offset, (48, 64))), [_meta((40, 60))], (48, 64))
    # The model's view of the mirrored image: mirrored maps, dx negated.
    f_off = offset.flip(-1) * torch.tensor([1., -1.])[None, :, None, None]
    flipped = (dict(sem=_padded(sem.flip(-1), (48, 64)), center=_padded(center.flip(-1), (48, 64)),
                    offset=_padded(f_off, (48, 64))), [_meta((40, 60), flip=True)], (48, 64))
    merged, meta = merge_center_outputs([ref, flipped], 0)
    assert meta['batch_input_shape'] == (40, 60)
    for k, v in dict(sem=sem, center=center, offset=offset).items():
        torch.testing.assert_close(merged[k], v)
    # A half-size view: offsets in its pixels are doubled on the way back.
    half = (dict(sem=F.interpolate(sem, (20, 30), mode='bilinear'),
                 center=F.interpolate(center, (20, 30), mode='bilinear'),
                 offset=F.interpolate(offset, (20, 30), mode='bilinear') / 2),
            [_meta((20, 30))], (20, 30))
    merged, _ = merge_center_outputs([ref, half], 0)
    back = F.interpolate(F.interpolate(offset, (20, 30), mode='bilinear'), (40, 60),
                         mode='bilinear')
    torch.testing.assert_close(merged['offset'], (offset + back) / 2)


@pytest.mark.parametrize('config', ['configs/mask2former/mask2former_r18_toy.py',
                                    'configs/panoptic_deeplab/panoptic-deeplab_r18_toy.py',
                                    'configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py',
                                    'configs/upsnet/upsnet_r18_fpn_toy.py'])
def test_tta_model_runs_the_pipeline_and_keeps_the_plain_view_as_reference(config, toy_data):
    """The TTA model on the config's tta_pipeline: one result per image at
    the original size; with only the plain view it equals plain predict.
    The random weights are made confident on the image first, so the two
    predictions compared hold segments (things included)."""
    cfg = Config.fromfile(f'{ROOT}/{config}')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    tta = MODELS.build(dict(**cfg.tta_model, module=model)).eval()
    from mmpanoptic.registry import DATASETS
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    dataset_cfg.update(data_root=toy_data + '/', pipeline=cfg.tta_pipeline)
    data = pseudo_collate([DATASETS.build(dataset_cfg)[0]])
    assert len(data['inputs']) == 6  # 3 scales x 2 flips
    plain_batch = {k: v[0] for k, v in data.items()}
    make_confident(model, plain_batch)
    out = tta.test_step(data)
    assert len(out) == 1
    ids = out[0].pred_panoptic_seg.sem_seg
    assert tuple(ids.shape[-2:]) == tuple(out[0].metainfo['ori_shape'][:2])
    # Only the plain view: identical to the model's own predict.
    plain = {k: [v[0]] for k, v in data.items()}
    one = tta.test_step(plain)[0]
    with torch.no_grad():
        ref = model.test_step(plain_batch)[0]
    assert len(segments_of(ref)) >= 2
    assert any(s['isthing'] for s in segments_of(ref)), segments_of(ref)
    (x, x_labels), (y, y_labels) = canonical_panoptic(one), canonical_panoptic(ref)
    if hasattr(model, 'roi_head'):
        # Boxes go to the original image and back (x / s * s): equal up to
        # rounding, which can move a mask edge by one pixel; the merged
        # detections may come in another order (segment ids renumbered).
        assert (x == y).mean() > 0.999 and (x_labels == y_labels).mean() > 0.999
        assert len(segments_of(one)) == len(segments_of(ref))
    else:
        np.testing.assert_array_equal(one.pred_panoptic_seg.sem_seg.numpy(),
                                      ref.pred_panoptic_seg.sem_seg.numpy())
        assert segments_of(one) == segments_of(ref)


def test_detections_map_back_to_the_original_image_and_merge_by_class():
    from mmengine.structures import InstanceData

    from mmpanoptic.models.tta import boxes_to_view, merge_detections
    ori = torch.tensor([[10., 5., 30., 25.], [12., 6., 31., 25.]])  # one object, two classes
    plain = dict(img_shape=(40, 60), ori_shape=(40, 60), scale_factor=(1., 1.), flip=False)
    big = dict(img_shape=(80, 120), ori_shape=(40, 60), scale_factor=(2., 2.), flip=True,
               flip_direction='horizontal')
    # In the 2x flipped view the first box is at x 120 - 60 .. 120 - 20.
    torch.testing.assert_close(boxes_to_view(ori[:1], big), torch.tensor([[60., 10., 100., 50.]]))
    dets = [InstanceData(bboxes=ori.clone(), scores=torch.tensor([0.6, 0.3]),
                         labels=torch.tensor([0, 1])),
            InstanceData(bboxes=boxes_to_view(ori[:1], big), scores=torch.tensor([0.9]),
                         labels=torch.tensor([0]))]
    boxes, scores, labels = merge_detections(
        dets, [plain, big], dict(type='nms', iou_threshold=0.5), max_per_img=10)
    # Class 0's two copies are one box (the 0.9 one); class 1 is kept apart.
    assert labels.tolist() == [0, 1] and scores.tolist() == pytest.approx([0.9, 0.3])
    torch.testing.assert_close(boxes, ori)
    _, scores, _ = merge_detections(dets, [plain, big], dict(type='nms', iou_threshold=0.5),
                                    max_per_img=1)
    assert scores.tolist() == pytest.approx([0.9])


class _RampMasks:
    """A two-stage model stand-in: ``roi_mask_logits`` records the boxes and
    returns, for every box, the mask ``column index + 10 * class + 100 *
    view`` (the view is read from the feature value)."""

    def __init__(self, size=4):
        self.size, self.boxes = size, []

    def roi_mask_logits(self, x, boxes, labels):
        self.boxes.append(boxes[0].clone())
        view = float(x[0].flatten()[0])
        col = torch.arange(self.size, dtype=torch.float32).expand(self.size, -1)
        cls = labels[0].float()[:, None, None] * 10
        return [col + cls + 100 * view]


def test_roi_masks_are_taken_in_each_view_and_unflipped_before_the_mean():
    from mmpanoptic.models.tta import merge_roi_masks
    head = _RampMasks()
    plain = dict(img_shape=(40, 60), scale_factor=(1., 1.), flip=False)
    flipped = dict(img_shape=(80, 120), scale_factor=(2., 2.), flip=True,
                   flip_direction='horizontal')
    boxes, labels = torch.tensor([[10., 5., 30., 25.]]), torch.tensor([2])
    feats = [[torch.zeros(1, 1, 2, 2)], [torch.ones(1, 1, 2, 2)]]
    logits = merge_roi_masks(head, feats, [plain, flipped], boxes, labels, probabilities=False)
    # view 0: col + 20; view 1 (flipped back): (3 - col) + 20 + 100 -> mean 71.5.
    torch.testing.assert_close(logits, torch.full((1, 4, 4), 71.5))
    torch.testing.assert_close(head.boxes[1], torch.tensor([[60., 10., 100., 50.]]))
    probs = merge_roi_masks(head, feats[:1], [plain], boxes, labels, probabilities=True)
    torch.testing.assert_close(probs[0, 0], (torch.arange(4.) + 20).sigmoid())


@pytest.mark.parametrize('config', ['configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py',
                                    'configs/upsnet/upsnet_r18_fpn_toy.py'])
def test_two_stage_tta_with_detections(config, toy_data):
    """Thresholds at 0 so that the untrained model has instances: every view
    is merged into one result; the plain view alone gives predict's result."""
    cfg = Config.fromfile(f'{ROOT}/{config}')
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    cfg.model.fusion.score_thr = 0.0
    cfg.model.fusion.stuff_area_limit = 1
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    tta = MODELS.build(dict(**cfg.tta_model, module=model)).eval()
    from mmpanoptic.registry import DATASETS
    dataset_cfg = cfg.test_dataloader.dataset.copy()
    dataset_cfg.update(data_root=toy_data + '/', pipeline=cfg.tta_pipeline)
    data = pseudo_collate([DATASETS.build(dataset_cfg)[i] for i in range(2)])
    out = tta.test_step(data)
    assert len(out) == 2
    for sample in out:
        assert len(sample.pred_instances) > 0  # the merged detections
        ids = sample.pred_panoptic_seg.sem_seg
        assert tuple(ids.shape[-2:]) == tuple(sample.metainfo['ori_shape'][:2])
    plain = {k: [v[0]] for k, v in data.items()}
    one = tta.test_step(plain)
    with torch.no_grad():
        ref = model.test_step({k: v[0] for k, v in data.items()})
    for a, b in zip(one, ref):
        x, y = a.pred_panoptic_seg.sem_seg, b.pred_panoptic_seg.sem_seg
        # Boxes go to the original image and back (x / s * s): equal up to
        # rounding, which can move a mask edge by one pixel.
        assert (x == y).float().mean() > 0.999
        assert len(a.pred_panoptic_seg.metainfo['segments_info']) == \
            len(b.pred_panoptic_seg.metainfo['segments_info'])
