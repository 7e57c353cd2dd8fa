import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmpanoptic.datasets import CocoPanopticDataset
from mmpanoptic.datasets.transforms import LoadPanopticAnnotations, PackPanopticInputs
from mmpanoptic.fileio import PanopticAnnotationError
from mmpanoptic.structures import rgb2id

COCO = osp.join(osp.dirname(__file__), '..', 'data', 'coco_panoptic_sample')


def _toy(root, split='val2017', **kw):
    return CocoPanopticDataset(ann_file=f'annotations/panoptic_{split}.json',
                               data_root=root,
                               data_prefix=dict(img=f'{split}/',
                                                seg=f'annotations/panoptic_{split}/'),
                               **kw)


def test_metainfo_things_first(toy_data):
    ds = _toy(toy_data)
    meta = ds.metainfo
    assert meta['thing_classes'] == ('ellipse', 'box', 'triangle', 'ring')
    assert meta['stuff_classes'] == ('sky', 'grass', 'water', 'sand')
    assert meta['classes'] == meta['thing_classes'] + meta['stuff_classes']
    assert meta['category_ids'] == (1, 2, 3, 5, 21, 22, 23, 24)
    assert len(ds) == 4


def test_real_coco_sample_loads_and_pipeline_targets():
    """Real COCO val2017 ground truth (133 categories)."""
    cats = json.load(open(osp.join(COCO, 'panoptic_coco_categories.json')))
    ann = json.load(open(osp.join(COCO, 'panoptic_examples.json')))
    ann['categories'] = cats
    ann_file = osp.join(os.environ.get('TMPDIR', '/tmp'), 'mmpanoptic_coco_sample.json')
    with open(ann_file, 'w') as f:
        json.dump(ann, f)
    ds = CocoPanopticDataset(ann_file=ann_file,
                             data_prefix=dict(img='', seg=osp.join(COCO, 'panoptic_examples')),
                             check_files=False)
    assert len(ds.metainfo['thing_classes']) == 80 and len(ds.metainfo['stuff_classes']) == 53
    info = ds.get_data_info(0)
    results = LoadPanopticAnnotations(with_panoptic=True).transform(dict(info))
    png = rgb2id(cv2.imread(info['seg_map_path'])[..., ::-1])
    things = [s for s in info['segments_info'] if s['isthing']]
    assert len(results['gt_masks']) == len(things) == len(results['gt_bboxes'])
    for mask, s in zip(results['gt_masks'].masks, things):
        assert mask.sum() == (png == s['id']).sum() == s['area']
    seg = results['gt_seg_map']
    for s in info['segments_info']:
        assert np.all(seg[png == s['id']] == s['label'])
    assert np.all(seg[png == 0] == 255)
    packed = PackPanopticInputs().transform(results
                                            | dict(img=np.zeros(png.shape + (3, ), np.uint8)))
    assert packed['data_samples'].gt_panoptic_seg.sem_seg.shape == (1, ) + png.shape


def _copy_toy(toy_data, tmp_path):
    root = str(tmp_path / 'toy')
    shutil.copytree(toy_data, root)
    return root


def test_missing_annotation_file_points_to_docs(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'panoptic_val2017.json.*docs/dataset_prepare.md'):
        _toy(str(tmp_path))


def test_missing_png_names_file(toy_data, tmp_path):
    root = _copy_toy(toy_data, tmp_path)
    os.remove(osp.join(root, 'annotations/panoptic_val2017/000000000002.png'))
    with pytest.raises(FileNotFoundError, match=r'image 2 .*000000000002.png'):
        _toy(root)
    # Without the start-up check, the loader names the file when it is read.
    ds = _toy(root, check_files=False)
    with pytest.raises(FileNotFoundError, match=r'000000000002.png'):
        LoadPanopticAnnotations().transform(ds.get_data_info(1))


def _edit_json(root, fn):
    path = osp.join(root, 'annotations', 'panoptic_val2017.json')
    data = json.load(open(path))
    fn(data)
    json.dump(data, open(path, 'w'))


def test_unknown_category_names_image_and_segment(toy_data, tmp_path):
    root = _copy_toy(toy_data, tmp_path)
    seg = {}

    def edit(d):
        s = d['annotations'][1]['segments_info'][0]
        s['category_id'] = 77
        seg['id'] = s['id']

    _edit_json(root, edit)
    with pytest.raises(
            PanopticAnnotationError,
            match=rf'panoptic_val2017.json: image 2 .*segment {seg["id"]} .*category_id 77'):
        _toy(root)


def test_png_segment_missing_from_json(toy_data, tmp_path):
    root = _copy_toy(toy_data, tmp_path)
    dropped = {}

    def edit(d):
        dropped['id'] = d['annotations'][0]['segments_info'].pop()['id']

    _edit_json(root, edit)
    ds = _toy(root)
    with pytest.raises(
            PanopticAnnotationError,
            match=rf'000000000001.png \(image 1\): segment id {dropped["id"]} is in the PNG'):
        LoadPanopticAnnotations().transform(ds.get_data_info(0))


def test_json_segment_missing_from_png_and_bad_size(toy_data, tmp_path):
    root = _copy_toy(toy_data, tmp_path)
    _edit_json(
        root, lambda d: d['annotations'][0]['segments_info'].append(
            dict(id=4242, category_id=21, iscrowd=0, area=1, bbox=[0, 0, 1, 1])))
    ds = _toy(root)
    with pytest.raises(PanopticAnnotationError,
                       match='segment 4242 is in segments_info but not in the PNG'):
        LoadPanopticAnnotations().transform(ds.get_data_info(0))
    info = ds.get_data_info(1)
    info['height'] = 99
    with pytest.raises(PanopticAnnotationError, match='PNG is 128x128.*says 128x99'):
        LoadPanopticAnnotations().transform(info)


def test_duplicate_segment_and_not_panoptic(toy_data, tmp_path):
    root = _copy_toy(toy_data, tmp_path)
    _edit_json(
        root, lambda d: d['annotations'][0]['segments_info'].append(
            dict(d['annotations'][0]['segments_info'][0])))
    with pytest.raises(PanopticAnnotationError, match='image 1 .*appears twice'):
        _toy(root)
    path = osp.join(root, 'annotations', 'panoptic_val2017.json')
    json.dump([{'not': 'coco'}], open(path, 'w'))
    with pytest.raises(PanopticAnnotationError, match='not a COCO panoptic file'):
        _toy(root)


def test_filter_empty_gt(toy_data, tmp_path):
    root = _copy_toy(toy_data, tmp_path)

    def edit(d):  # make image 1 stuff-only
        a = d['annotations'][0]
        a['segments_info'] = [s for s in a['segments_info'] if s['category_id'] > 20]

    _edit_json(root, edit)
    assert len(_toy(root, check_files=False, filter_cfg=dict(filter_empty_gt=True))) == 3
    assert len(_toy(root, check_files=False, test_mode=True,
                    filter_cfg=dict(filter_empty_gt=True))) == 4
