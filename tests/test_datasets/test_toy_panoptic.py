import json
import os.path as osp

import cv2
import numpy as np

from mmpanoptic.datasets import TOY_CATEGORIES, make_toy_panoptic, render_scene
from mmpanoptic.structures import rgb2id


def test_render_is_deterministic_and_seed_dependent():
    a = render_scene(seed=3)
    b = render_scene(seed=3)
    c = render_scene(seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    assert not np.array_equal(a[0], c[0])


def test_scene_content():
    things = {c['id'] for c in TOY_CATEGORIES if c['isthing']}
    stuff = {c['id'] for c in TOY_CATEGORIES if not c['isthing']}
    n_things, n_stuff_classes, occluded = 0, set(), 0
    for seed in range(20):
        img, ids, info = render_scene(seed=seed, height=96, width=112)
        assert img.shape == (96, 112, 3) and img.dtype == np.uint8
        # Every segment's area and bbox agree with the id map.
        present = set(np.unique(ids).tolist()) - {0}
        assert present == {s['id'] for s in info}
        for s in info:
            m = ids == s['id']
            assert s['area'] == m.sum()
            ys, xs = np.nonzero(m)
            assert s['bbox'] == [
                xs.min(), ys.min(),
                xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1
            ]
            assert s['category_id'] in things | stuff
        n_things += sum(s['category_id'] in things for s in info)
        n_stuff_classes |= {s['category_id'] for s in info if s['category_id'] in stuff}
        # Occlusion: some thing's bbox is larger than its visible area suggests.
        occluded += any(
            s['category_id'] in things and s['area'] < 0.45 * s['bbox'][2] * s['bbox'][3]
            for s in info)
        # Texture noise: no region is a flat color.
        assert img.reshape(-1, 3).std(0).min() > 5
    assert n_things >= 40 and n_stuff_classes == stuff and occluded > 0


def test_written_files_are_coco_panoptic(tmp_path):
    written = make_toy_panoptic(str(tmp_path),
                                num_train=3,
                                num_val=2,
                                height=64,
                                width=80,
                                progress=False)
    data = json.load(open(written['val2017']))
    assert len(data['images']) == 2 and data['categories'] == TOY_CATEGORIES
    for img, ann in zip(data['images'], data['annotations']):
        assert img['id'] == ann['image_id'] and (img['height'], img['width']) == (64, 80)
        png = cv2.imread(osp.join(tmp_path, 'annotations', 'panoptic_val2017',
                                  ann['file_name']))[..., ::-1]
        ids = rgb2id(png)
        for s in ann['segments_info']:
            assert (ids == s['id']).sum() == s['area']
            assert set(s) == {'id', 'category_id', 'iscrowd', 'area', 'bbox'}
    # Same seed, same bytes.
    again = make_toy_panoptic(str(tmp_path / 'again'),
                              num_train=3,
                              num_val=2,
                              height=64,
                              width=80,
                              progress=False)
    assert json.load(open(again['val2017']))['annotations'] == data['annotations']
