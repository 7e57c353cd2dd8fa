"""tools/misc/validate_panoptic_dataset.py on a real COCO-panoptic sample and on
copies of it with one planted problem each: every problem is named with its
file, image and segment, and the exit status says whether the set is clean."""
import copy
import json
import os.path as osp
import shutil

import numpy as np
import pytest
from PIL import Image

from mmpanoptic.datasets.validation import check_json, segment_pixels
from mmpanoptic.structures import id2rgb, mask_bbox, rgb2id

SAMPLE = osp.join(osp.dirname(__file__), '..', 'data', 'coco_panoptic_sample')


def _cli(*args):
    """The CLI's main(), loaded from its file as a user runs it."""
    import importlib.util
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools', 'misc',
                    'validate_panoptic_dataset.py')
    spec = importlib.util.spec_from_file_location('validate_panoptic_dataset', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([*args, '--no-progress'])


@pytest.fixture
def dataset(tmp_path):
    """A writable copy of two real COCO val2017 panoptic annotations, with
    images of the right size."""
    data = json.load(open(osp.join(SAMPLE, 'panoptic_examples.json')))
    shutil.copytree(osp.join(SAMPLE, 'panoptic_examples'), tmp_path / 'png')
    (tmp_path / 'img').mkdir()
    for img in data['images']:
        Image.new('RGB', (img['width'], img['height'])).save(tmp_path / 'img' /
                                                               img['file_name'])
    return tmp_path, data


def _write(tmp_path, data):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    return str(path)


def _run(tmp_path, data, capsys):
    rc = _cli('--json', _write(tmp_path, data), '--png-dir', str(tmp_path / 'png'),
              '--images-dir', str(tmp_path / 'img'))
    return rc, capsys.readouterr().out


def test_clean_copy_exits_0(dataset, capsys):
    tmp_path, data = dataset
    rc, out = _run(tmp_path, data, capsys)
    assert rc == 0 and 'clean (2 images, 133 categories)' in out


def _first(data):
    ann = data['annotations'][0]
    return ann, ann['segments_info'][0], f'image {ann["image_id"]} ({ann["file_name"]})'


PLANTS = {
    # name: (how to corrupt, the phrase the report must contain)
    'area': (lambda d, t: _first(d)[1].__setitem__('area', _first(d)[1]['area'] + 5),
             'area mismatch'),
    'bbox': (lambda d, t: _first(d)[1]['bbox'].__setitem__(0, _first(d)[1]['bbox'][0] + 1),
             'bbox mismatch'),
    'unknown_category': (lambda d, t: _first(d)[1].__setitem__('category_id', 9999),
                         'unknown category id'),
    'duplicate_segment': (lambda d, t: _first(d)[0]['segments_info'].append(
        copy.deepcopy(_first(d)[1])), 'duplicate segment id'),
    'json_only_segment': (lambda d, t: _first(d)[0]['segments_info'].append(
        dict(id=424242, category_id=1, iscrowd=0, area=1, bbox=[0, 0, 1, 1])),
        'segment not in png'),
    'png_only_id': (lambda d, t: _first(d)[0]['segments_info'].pop(0), 'id in png not in '
                    'segments_info'),
    'no_isthing': (lambda d, t: d['categories'][3].pop('isthing'), 'category without isthing'),
    'missing_png': (lambda d, t: (t / 'png' / _first(d)[0]['file_name']).unlink(),
                    'missing png'),
    'unreadable_png': (lambda d, t: (t / 'png' / _first(d)[0]['file_name']).write_bytes(
        b'\x89PNG\r\n\x1a\nbroken'), 'unreadable png'),
    'png_size': (lambda d, t: d['images'][[i['id'] for i in d['images']].index(
        _first(d)[0]['image_id'])].__setitem__('height', 100), 'png size mismatch'),
    'image_without_annotation': (lambda d, t: d['images'].append(
        dict(id=7, file_name='x.jpg', width=4, height=4)), 'image without annotation'),
    'missing_image': (lambda d, t: (t / 'img' / d['images'][0]['file_name']).unlink(),
                      'missing image file'),
}


@pytest.mark.parametrize('plant', sorted(PLANTS))
def test_each_planted_problem_is_named_and_exits_1(dataset, capsys, plant):
    tmp_path, data = dataset
    ann, seg, image = _first(data)
    sid = seg['id']
    corrupt, phrase = PLANTS[plant]
    corrupt(data, tmp_path)
    rc, out = _run(tmp_path, data, capsys)
    assert rc == 1, out
    assert phrase in out  # in the summary table
    lines = [ln for ln in out.splitlines() if ': ' in ln and not ln.startswith(phrase)]
    assert lines, out
    if plant in ('area', 'bbox', 'unknown_category', 'duplicate_segment', 'png_only_id'):
        assert any(image in ln and f'segment {sid}' in ln for ln in lines), out
    if plant == 'json_only_segment':
        assert any(image in ln and 'segment 424242' in ln for ln in lines), out
    if plant in ('missing_png', 'unreadable_png'):
        assert any(ann['file_name'] in ln and image in ln for ln in lines), out


def test_several_problems_are_all_listed(dataset, capsys):
    tmp_path, data = dataset
    for plant in ('area', 'no_isthing', 'image_without_annotation'):
        PLANTS[plant][0](data, tmp_path)
    rc, out = _run(tmp_path, data, capsys)
    assert rc == 1
    for phrase in ('area mismatch', 'category without isthing', 'image without annotation'):
        assert phrase in out
    assert 'total' in out and '3 problem(s)' in out


def test_segment_pixels_matches_masks():
    rng = np.random.default_rng(0)
    for _ in range(5):
        ids = rng.integers(0, 6, (int(rng.integers(1, 30)), int(rng.integers(1, 30))))
        ids = np.kron(ids, np.ones((2, 3), int))
        got = segment_pixels(ids)
        assert sorted(got) == sorted(np.unique(ids).tolist())
        for sid, (area, box) in got.items():
            assert area == (ids == sid).sum()
            assert box == mask_bbox(ids == sid)


def test_real_png_round_trip_is_consistent():
    """The sample's own areas and boxes come out of segment_pixels exactly."""
    data = json.load(open(osp.join(SAMPLE, 'panoptic_examples.json')))
    ann = data['annotations'][0]
    ids = rgb2id(np.asarray(Image.open(osp.join(SAMPLE, 'panoptic_examples',
                                                ann['file_name']))))
    got = segment_pixels(ids)
    for seg in ann['segments_info']:
        assert got[seg['id']] == (seg['area'], seg['bbox'])
    assert id2rgb(ids).shape[-1] == 3
    assert check_json(data, 'x.json') == []


def test_train_stops_before_the_first_iteration_on_a_bad_json(tmp_path):
    """tools/train.py runs the JSON checks on start and names the problem."""
    import subprocess
    import sys

    from mmpanoptic.datasets import make_toy_panoptic

    from ..e2e_utils import ROOT, TOY_CFG, data_options
    root = str(tmp_path / 'toy')
    make_toy_panoptic(root, num_train=4, num_val=2, progress=False)
    ann = osp.join(root, 'annotations', 'panoptic_train2017.json')
    data = json.load(open(ann))
    data['annotations'][1]['segments_info'][0]['category_id'] = 77
    json.dump(data, open(ann, 'w'))
    proc = subprocess.run([sys.executable, 'tools/train.py', TOY_CFG, '--work-dir',
                           str(tmp_path / 'w'), '--cfg-options', *data_options(root)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    seg = data['annotations'][1]['segments_info'][0]['id']
    assert f'segment {seg}: category_id 77 is not in "categories"' in out
    assert '--skip-validation' in out and 'Iter(train)' not in out


def test_train_checks_the_class_counts_against_the_json(tmp_path):
    """A model configured for other class counts than the data stops at once."""
    from mmengine.config import Config

    from mmpanoptic.datasets import make_toy_panoptic
    from mmpanoptic.datasets.validation import check_config_annotations

    from ..e2e_utils import ROOT, TOY_CFG
    root = str(tmp_path / 'toy')
    make_toy_panoptic(root, num_train=2, num_val=2, progress=False)
    cfg = Config.fromfile(osp.join(ROOT, TOY_CFG))
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].dataset.data_root = root + '/'
    assert check_config_annotations(cfg)[1] == []
    cfg.num_things_classes = 5  # the config's own variable (Panoptic FPN's model has none)
    problems = check_config_annotations(cfg)[1]
    assert problems and all(p.kind == 'class counts' for p in problems)
    assert '4 thing and 4 stuff categories, but the model is configured for 5 things' in \
        str(problems[0])
