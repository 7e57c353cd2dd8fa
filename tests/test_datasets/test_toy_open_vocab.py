"""The open-vocabulary toy data: novel classes are absent from training."""
import json
import os.path as osp

import cv2
import numpy as np

from mmpanoptic.datasets import CocoPanopticDataset
from mmpanoptic.datasets.toy_open_vocab import (
    BASE_THINGS,
    NOVEL,
    THING_CATEGORIES,
    make_toy_open_vocab,
    pattern_field,
    render_open_vocab_scene,
)
from mmpanoptic.structures import rgb2id


def test_splits_hold_base_only_then_all_classes(tmp_path):
    written = make_toy_open_vocab(str(tmp_path), num_train=30, num_val=20, progress=False)
    train = json.load(open(written['train2017']))
    val = json.load(open(written['val2017']))
    train_names = {c['name'] for c in train['categories']}
    assert train_names == set(BASE_THINGS) | {'sky', 'grass', 'water', 'sand'}
    assert not train_names & set(NOVEL) and len(val['categories']) == 20
    train_cats = {s['category_id'] for a in train['annotations'] for s in a['segments_info']}
    novel_ids = {c['id'] for c in val['categories'] if c['name'] in NOVEL}
    assert not train_cats & novel_ids  # never seen, not even unnamed
    val_cats = {s['category_id'] for a in val['annotations'] for s in a['segments_info']}
    assert novel_ids <= val_cats
    # every segment matches its PNG, and the datasets read their own class lists
    ann = val['annotations'][0]
    ids = rgb2id(np.array(cv2.imread(
        osp.join(tmp_path, 'annotations', 'panoptic_val2017', ann['file_name']))[..., ::-1]))
    for s in ann['segments_info']:
        assert (ids == s['id']).sum() == s['area']
    ds = CocoPanopticDataset(data_root=str(tmp_path),
                             ann_file='annotations/panoptic_val2017.json',
                             data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
                             test_mode=True, pipeline=[])
    assert len(ds.metainfo['thing_classes']) == 16 and ds.metainfo['stuff_classes'][0] == 'sky'


def test_scenes_are_deterministic_and_patterns_differ():
    a = render_open_vocab_scene(5, THING_CATEGORIES)
    b = render_open_vocab_scene(5, THING_CATEGORIES)
    assert np.array_equal(a[0], b[0]) and a[2] == b[2]
    rng = np.random.default_rng(0)
    plain = pattern_field('plain', 32, 32, rng)
    assert not plain.any()
    for p in ('striped', 'dotted', 'checkered'):
        f = pattern_field(p, 32, 32, rng)
        assert f.min() < 0 < f.max()
