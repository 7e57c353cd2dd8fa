"""Video layouts (STEP, Cityscapes-VPS, VIPSeg) -> VideoPanopticDataset's format."""
import json
import os
import os.path as osp
import shutil

import pytest

from mmpanoptic.datasets import TOY_CATEGORIES, VideoPanopticDataset, make_toy_video
from mmpanoptic.datasets.converters import (
    check_track_ids,
    cityscapes_vps_to_coco_video,
    step_to_coco_video,
    vipseg_to_coco_video,
)
from mmpanoptic.datasets.transforms import LoadPanopticAnnotations
from mmpanoptic.fileio import ConversionError
from mmpanoptic.structures import rgb2id

from ..e2e_utils import run_tool


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy_video_conv'))
    make_toy_video(root, num_train=0, num_val=2, num_frames=4, progress=False)
    with open(osp.join(root, 'annotations', 'panoptic_val.json')) as f:
        return root, json.load(f)


def read_ids(path):
    import cv2
    return rgb2id(cv2.imread(path)[..., ::-1])


def test_step_conversion_keeps_partition_classes_and_tracks(toy, tmp_path):
    root, coco = toy
    # STEP keeps images as <video>/<frame>.png: lay the toy frames out that way.
    images = tmp_path / 'images'
    for img in coco['images']:
        d = images / f'{img["video_id"]:04d}'
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(osp.join(root, 'val', img['file_name']), d / f'{img["frame_id"]:04d}.png')
    out = step_to_coco_video(osp.join(root, 'step_val'), TOY_CATEGORIES,
                             str(tmp_path / 'ann' / 'panoptic_val.json'),
                             str(tmp_path / 'ann' / 'panoptic_val'), image_dir=str(images))
    with open(out) as f:
        conv = json.load(f)
    assert [(i['video_id'], i['frame_id']) for i in conv['images']] == \
        [(i['video_id'], i['frame_id']) for i in coco['images']]
    # Same partition, same classes, and one converted id per original track
    # over the whole video.
    cat_of = {}
    for orig_img, orig_ann, new_ann in zip(coco['images'], coco['annotations'],
                                           conv['annotations']):
        a = read_ids(osp.join(root, 'annotations', 'panoptic_val', orig_ann['file_name']))
        b = read_ids(osp.join(str(tmp_path / 'ann' / 'panoptic_val'), new_ann['file_name']))
        pairs = set(zip(a.ravel().tolist(), b.ravel().tolist()))
        assert len({p[0] for p in pairs}) == len(pairs) == len({p[1] for p in pairs})
        orig_cat = {s['id']: s['category_id'] for s in orig_ann['segments_info']}
        new_cat = {s['id']: s['category_id'] for s in new_ann['segments_info']}
        for o, n in pairs:
            if o:
                assert orig_cat[o] == new_cat[n]
                assert cat_of.setdefault((orig_img['video_id'], o), n) == n
    assert check_track_ids(out) == len(cat_of)
    # The dataset loads it and the PNGs agree with the JSON.
    ds = VideoPanopticDataset(ann_file=out, data_prefix=dict(img=str(images) + '/',
                                                             seg=str(tmp_path / 'ann' /
                                                                     'panoptic_val') + '/'),
                              test_mode=True)
    assert len(ds) == 8
    results = LoadPanopticAnnotations(with_panoptic=True).transform(ds.get_data_info(5))
    assert results['gt_masks'].masks.shape[0] == len(
        [s for s in results['segments_info'] if s['isthing']])


def test_step_conversion_names_a_missing_image(toy, tmp_path):
    root, _ = toy
    with pytest.raises(FileNotFoundError, match=r'video 0000, frame 0000: image .*0000/0000'):
        step_to_coco_video(osp.join(root, 'step_val'), TOY_CATEGORIES,
                           str(tmp_path / 'a.json'), str(tmp_path / 'png'),
                           image_dir=str(tmp_path / 'nowhere'))


def test_cityscapes_vps_gets_video_and_frame_ids(toy, tmp_path):
    root, coco = toy
    stripped = dict(coco, images=[{k: v for k, v in i.items()
                                   if k not in ('video_id', 'frame_id')}
                                  for i in coco['images']])
    src = tmp_path / 'vps.json'
    src.write_text(json.dumps(stripped))
    out = cityscapes_vps_to_coco_video(str(src), str(tmp_path / 'out.json'))
    with open(out) as f:
        conv = json.load(f)
    assert [(i['video_id'], i['frame_id']) for i in conv['images']] == \
        [(i['video_id'], i['frame_id']) for i in coco['images']]
    bad = dict(stripped, images=[dict(stripped['images'][0], file_name='frankfurt.png')])
    src.write_text(json.dumps(bad))
    with pytest.raises(ConversionError, match='<video>_<frame>'):
        cityscapes_vps_to_coco_video(str(src), str(tmp_path / 'out2.json'))


def test_vipseg_videos_are_flattened(toy, tmp_path):
    _, coco = toy
    videos = {}
    for img, ann in zip(coco['images'], coco['annotations']):
        v = videos.setdefault(img['video_id'], dict(video_id=f'vid{img["video_id"]}',
                                                     images=[], annotations=[]))
        v['images'].append(dict(id=f'f{img["frame_id"]}', file_name=f'{img["frame_id"]}.jpg',
                                height=img['height'], width=img['width']))
        v['annotations'].append(dict(image_id=f'f{img["frame_id"]}',
                                     file_name=f'{img["frame_id"]}.png',
                                     segments_info=ann['segments_info']))
    src = tmp_path / 'vipseg.json'
    src.write_text(json.dumps(dict(videos=list(videos.values()),
                                   categories=coco['categories'])))
    out = vipseg_to_coco_video(str(src), str(tmp_path / 'out.json'))
    with open(out) as f:
        conv = json.load(f)
    assert [i['id'] for i in conv['images']] == list(range(1, 9))
    assert conv['images'][5]['file_name'] == 'vid1/1.jpg'
    assert conv['annotations'][5]['file_name'] == 'vid1/1.png'
    assert conv['annotations'][5]['image_id'] == 6
    assert (conv['images'][5]['video_id'], conv['images'][5]['frame_id']) == (1, 1)
    assert check_track_ids(out) == check_track_ids(
        osp.join(toy[0], 'annotations', 'panoptic_val.json'))


def test_track_id_reused_by_another_class_is_an_error(tmp_path):
    data = dict(images=[dict(id=1, video_id=0), dict(id=2, video_id=0)],
                annotations=[dict(image_id=1, segments_info=[dict(id=5, category_id=1)]),
                             dict(image_id=2, segments_info=[dict(id=5, category_id=2)])])
    p = tmp_path / 'a.json'
    p.write_text(json.dumps(data))
    with pytest.raises(ConversionError, match='image 2, segment 5: category 2 but 1'):
        check_track_ids(str(p))


def test_tool_runs(toy, tmp_path):
    root, _ = toy
    cats = tmp_path / 'cats.json'
    cats.write_text(json.dumps(TOY_CATEGORIES))
    out = run_tool('tools/dataset_converters/video_to_coco_panoptic.py', 'step', '--gt',
                   osp.join(root, 'step_val'), '--categories', str(cats), '--out',
                   str(tmp_path / 'o.json'), '--png-dir', str(tmp_path / 'png'))
    assert '2 videos, 8 frames' in out
    assert os.path.isfile(tmp_path / 'png' / '0001' / '0003.png')
    with pytest.raises(AssertionError, match='step needs --gt --categories --png-dir'):
        run_tool('tools/dataset_converters/video_to_coco_panoptic.py', 'step', '--out',
                 str(tmp_path / 'x.json'))
