"""Semantic + instances -> COCO panoptic and panoptic -> semantic, on small
files in the real layout; every output passes the dataset validator."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmpanoptic.datasets.converters import (
    convert_semantic_instances,
    panoptic_to_semantic,
    semantic_instances_to_panoptic,
)
from mmpanoptic.datasets.validation import check_json, check_pngs
from mmpanoptic.fileio import ConversionError
from mmpanoptic.structures import rgb2id

CATS = [dict(id=1, name='person', isthing=1), dict(id=3, name='car', isthing=1),
        dict(id=10, name='road', isthing=0), dict(id=11, name='sky', isthing=0)]
# semantic labels: index in CATS (person 0, car 1, road 2, sky 3), 255 VOID


def _scene():
    sem = np.full((30, 40), 2, np.uint8)
    sem[:8] = 3
    sem[10:20, 2:10] = 0       # a person
    sem[12:22, 15:30] = 1      # two cars side by side
    sem[25:28, 35:39] = 1      # a car pixel blob without an instance
    sem[0, :3] = 255
    inst = np.zeros((30, 40), np.uint16)
    inst[10:20, 2:10] = 7
    inst[12:22, 15:22] = 9
    inst[12:22, 22:30] = 12
    return sem, inst


def _validate(out_json, png_dir):
    data = json.load(open(out_json))
    return check_json(data, out_json) + list(check_pngs(data, png_dir, progress=False))


def test_one_image_by_hand():
    sem, inst = _scene()
    instances = [(inst == v, False) for v in (7, 9, 12)]
    ids, segs, void = semantic_instances_to_panoptic(sem, instances, CATS)
    by_cat = {}
    for s in segs:
        by_cat.setdefault(s['category_id'], []).append(s)
    assert [s['area'] for s in by_cat[1]] == [80]
    assert sorted(s['area'] for s in by_cat[3]) == [70, 80]
    assert by_cat[1][0]['bbox'] == [2, 10, 8, 10]
    assert len(by_cat[10]) == 1 and len(by_cat[11]) == 1  # one segment per stuff class
    assert void == 12  # the car blob without an instance is VOID, and counted
    assert (ids[25:28, 35:39] == 0).all() and (ids[0, :3] == 0).all()


def test_overlapping_instances_are_rejected_with_the_pixel_count():
    sem, inst = _scene()
    a = inst == 9
    b = (inst == 12) | (inst == 9)
    b[:, :20] = False  # overlaps a on columns 20, 21: 2 x 10 pixels
    with pytest.raises(ConversionError, match='instance 1 overlaps instance 0 on 20 pixels'):
        semantic_instances_to_panoptic(sem, [(a, False), (b, False)], CATS, image='img7')
    with pytest.raises(ConversionError, match='lies on no thing class'):
        semantic_instances_to_panoptic(sem, [(sem == 3, False)], CATS)
    bad = sem.copy()
    bad[5, 5] = 42
    with pytest.raises(ConversionError, match=r'semantic labels \[42\]'):
        semantic_instances_to_panoptic(bad, [], CATS)


@pytest.mark.parametrize('layout', ['id_png', 'mask_folder'])
def test_folder_conversion_passes_the_validator(tmp_path, layout):
    sem, inst = _scene()
    (tmp_path / 'sem').mkdir()
    (tmp_path / 'inst').mkdir()
    for stem in ('a', 'b'):
        cv2.imwrite(str(tmp_path / 'sem' / f'{stem}.png'), sem)
        if layout == 'id_png':
            cv2.imwrite(str(tmp_path / 'inst' / f'{stem}.png'), inst)
        else:
            (tmp_path / 'inst' / stem).mkdir()
            for v in (7, 9, 12):
                name = f'{v}_crowd.png' if v == 12 else f'{v}.png'
                cv2.imwrite(str(tmp_path / 'inst' / stem / name), (inst == v).astype(np.uint8))
    out_json, png = str(tmp_path / 'pan.json'), str(tmp_path / 'pan')
    report = convert_semantic_instances(str(tmp_path / 'sem'), str(tmp_path / 'inst'), CATS,
                                        out_json, png, progress=False)
    assert report['images'] == 2 and report['void_thing_pixels'] == 24
    assert _validate(out_json, png) == []
    data = json.load(open(out_json))
    crowd = [s['iscrowd'] for s in data['annotations'][0]['segments_info']]
    assert sum(crowd) == (1 if layout == 'mask_folder' else 0)


def test_panoptic_to_semantic_round_trip(tmp_path, toy_data):
    ann = osp.join(toy_data, 'annotations', 'panoptic_val2017.json')
    png = osp.join(toy_data, 'annotations', 'panoptic_val2017')
    classes = panoptic_to_semantic(ann, png, str(tmp_path / 'sem'), progress=False)
    data = json.load(open(ann))
    assert classes == [c['name'] for c in data['categories']]
    first = data['annotations'][0]
    ids = rgb2id(cv2.imread(osp.join(png, first['file_name']))[..., ::-1])
    labels = cv2.imread(str(tmp_path / 'sem' / first['file_name']), cv2.IMREAD_UNCHANGED)
    index = {c['id']: i for i, c in enumerate(data['categories'])}
    for s in first['segments_info']:
        assert (labels[ids == s['id']] == index[s['category_id']]).all()
    assert (labels[ids == 0] == 255).all()


def test_cityscapes_gtfine_layout_converts_and_loads(tmp_path):
    """A two-image gtFine in its real layout: things with instances, a crowd
    region, a class not evaluated (caravan) and an unlabeled one become the
    cityscapesscripts panoptic format, which passes the validator and loads
    with CityscapesPanopticDataset."""
    from mmpanoptic.datasets.converters import (
        cityscapes_panoptic_image,
        cityscapes_to_coco_panoptic,
    )
    inst = np.full((32, 64), 7, np.uint16)        # road
    inst[:8] = 23                                 # sky
    inst[10:20, 5:15] = 26001                     # car #1
    inst[10:20, 20:30] = 26002                    # car #2
    inst[22:30, 40:50] = 24                       # a crowd of persons (no instance id)
    inst[22:30, 52:60] = 29000                    # caravan: not evaluated -> VOID
    inst[0, :4] = 0                               # unlabeled -> VOID
    ids, segs = cityscapes_panoptic_image(inst.astype(np.int64))
    by_id = {s['id']: s for s in segs}
    assert sorted(by_id) == [7, 23, 24, 26001, 26002]
    assert by_id[24]['iscrowd'] == 1 and by_id[26001]['iscrowd'] == 0
    assert by_id[26001]['category_id'] == 26 and by_id[26001]['bbox'] == [5, 10, 10, 10]
    assert (ids[22:30, 52:60] == 0).all() and (ids[0, :4] == 0).all()
    gt = tmp_path / 'cityscapes' / 'gtFine'
    img = tmp_path / 'cityscapes' / 'leftImg8bit'
    for city, stem in (('aachen', 'aachen_000000_000019'), ('bochum', 'bochum_000000_000313')):
        (gt / 'val' / city).mkdir(parents=True, exist_ok=True)
        (img / 'val' / city).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(gt / 'val' / city / f'{stem}_gtFine_instanceIds.png'), inst)
        cv2.imwrite(str(img / 'val' / city / f'{stem}_leftImg8bit.png'),
                    np.zeros((32, 64, 3), np.uint8))
    out_json = str(gt / 'cityscapes_panoptic_val.json')
    n = cityscapes_to_coco_panoptic(str(gt), 'val', out_json,
                                    str(gt / 'cityscapes_panoptic_val'), progress=False)
    assert n == 2
    assert _validate(out_json, str(gt / 'cityscapes_panoptic_val')) == []
    from mmpanoptic.registry import DATASETS
    dataset = DATASETS.build(dict(
        type='CityscapesPanopticDataset', data_root=str(tmp_path / 'cityscapes') + '/',
        ann_file='gtFine/cityscapes_panoptic_val.json',
        data_prefix=dict(img='leftImg8bit/val/', seg='gtFine/cityscapes_panoptic_val/'),
        test_mode=True, pipeline=[]))
    assert len(dataset) == 2 and len(dataset.metainfo['classes']) == 19
    assert osp.isfile(dataset[0]['img_path'])


def _run_tool(name, *args, capsys):
    """A converter CLI in this process: ``(exit code, stdout, stderr + exit message)``."""
    import runpy

    from ..e2e_utils import ROOT
    main = runpy.run_path(osp.join(ROOT, 'tools', 'dataset_converters', name))['main']
    try:
        main(list(args))
        code, message = 0, ''
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        message = '' if isinstance(e.code, int) or e.code is None else str(e.code)
    out, err = capsys.readouterr()
    return code, out, err + message


def _ade_scene():
    """SceneParsing labels (1-based): wall 1, floor 4, bed 8, chair 20; the
    instance PNG (RGB): R = instance class (bed 1, chair 8), G = instance."""
    sem = np.full((30, 40), 1, np.uint8)       # wall
    sem[20:] = 4                               # floor
    sem[5:15, 5:15] = 8                        # bed
    sem[22:28, 20:26] = 20                     # a chair ...
    sem[22:28, 30:36] = 20                     # ... and one pixel blob without an instance
    sem[0, :2] = 0                             # VOID
    ins = np.zeros((30, 40, 3), np.uint8)
    ins[5:15, 5:15] = (1, 1, 0)                # bed instance 1
    ins[21:28, 20:26] = (8, 2, 0)              # chair instance 2, one row over the floor
    return sem, ins


def test_ade20k_image_by_hand():
    from mmpanoptic.datasets.converters import (
        ADE20K_INSTANCE_TO_SCENEPARSE,
        ade20k_panoptic_image,
    )
    mapping = {k + 1: v for k, v in enumerate(ADE20K_INSTANCE_TO_SCENEPARSE)}
    assert mapping[1] == 8 and mapping[8] == 20 and len(set(mapping.values())) == 100
    sem, ins = _ade_scene()
    ids, segs, void = ade20k_panoptic_image(sem, ins, mapping)
    by_cat = {s['category_id']: s for s in segs}
    # category id = SceneParsing label - 1; things first, then stuff.
    assert [s['category_id'] for s in segs] == [7, 19, 0, 3]
    assert by_cat[7]['area'] == 100 and by_cat[7]['bbox'] == [5, 5, 10, 10]
    assert by_cat[19]['area'] == 42 and by_cat[19]['bbox'] == [20, 21, 6, 7]
    # the chair's row over the floor is the chair's; the floor counts what is left
    assert by_cat[3]['area'] == 10 * 40 - 42 - 36
    assert by_cat[0]['area'] == 20 * 40 - 100 - 2  # wall less the bed and VOID
    assert void == 36                      # the chair blob without an instance
    assert (ids[22:28, 30:36] == 0).all() and (ids[0, :2] == 0).all()
    for s in segs:
        assert (ids == s['id']).sum() == s['area']
    bad = ins.copy()
    bad[5, 5] = (3, 1, 0)                  # instance 1 with two instance classes
    with pytest.raises(ConversionError, match='instance 1 has pixels of instance classes'):
        ade20k_panoptic_image(sem, bad, mapping, image='ADE_val_1.png')


def test_ade20k_release_layout_converts_validates_and_loads(tmp_path, capsys):
    """ADEChallengeData2016 in its layout (images, annotations,
    annotations_instance) -> the JSON + PNGs of configs/_base_/datasets/
    ade20k_panoptic.py, clean for the validator, loaded by
    ADE20KPanopticDataset with 100 things and 50 stuff."""
    from ..e2e_utils import ROOT
    root = tmp_path / 'ADEChallengeData2016'
    sem, ins = _ade_scene()
    for split in ('training', 'validation'):
        for d in ('images', 'annotations', 'annotations_instance'):
            (root / d / split).mkdir(parents=True)
        for k in range(2):
            stem = f'ADE_{"train" if split == "training" else "val"}_{k + 1:08d}'
            cv2.imwrite(str(root / 'images' / split / f'{stem}.jpg'),
                        np.zeros((30, 40, 3), np.uint8))
            cv2.imwrite(str(root / 'annotations' / split / f'{stem}.png'), sem)
            cv2.imwrite(str(root / 'annotations_instance' / split / f'{stem}.png'),
                        ins[..., ::-1])
    mapping = tmp_path / 'categoryMapping.txt'
    mapping.write_text('Instacne100\tSceneParse150\tFullADE20K\n' + ''.join(
        f'{k + 1}\t\t{v}\t\t{1000 + k}\n' for k, v in enumerate(
            __import__('mmpanoptic.datasets.converters', fromlist=['x'])
            .ADE20K_INSTANCE_TO_SCENEPARSE)))
    code, out, _ = _run_tool('ade20k_to_coco_panoptic.py', '--root', str(root),
                             '--mapping', str(mapping), capsys=capsys)
    assert code == 0
    assert 'val: 2 images, 8 segments, 72 thing-class pixels' in out
    data = json.load(open(root / 'ade20k_panoptic_val.json'))
    assert len(data['categories']) == 150
    assert sum(c['isthing'] for c in data['categories']) == 100
    assert data['images'][0]['id'] == 'ADE_val_00000001'
    assert _validate(str(root / 'ade20k_panoptic_val.json'),
                     str(root / 'ade20k_panoptic_val')) == []
    from mmengine.config import Config

    from mmpanoptic.registry import DATASETS
    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/datasets/ade20k_panoptic.py'))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.update(data_root=str(root) + '/', pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 2
    meta = dataset.metainfo
    assert len(meta['thing_classes']) == 100 and len(meta['stuff_classes']) == 50
    labels = sorted(s['label'] for s in dataset[0]['segments_info'])
    names = [meta['classes'][k] for k in labels]
    assert sorted(names) == ['bed', 'chair', 'floor', 'wall']


MAPILLARY_LABELS = [
    dict(name='construction--flat--road', readable='Road', instances=False, evaluate=True,
         color=[128, 64, 128]),
    dict(name='human--person--individual', readable='Person', instances=True, evaluate=True,
         color=[220, 20, 60]),
    dict(name='nature--sky', readable='Sky', instances=False, evaluate=True,
         color=[70, 130, 180]),
    dict(name='void--unlabeled', readable='Unlabeled', instances=False, evaluate=False,
         color=[0, 0, 0]),
]


def _mapillary_png():
    png = np.full((24, 32), 0 * 256, np.uint16)      # road
    png[:6] = 2 * 256                                # sky
    png[8:16, 2:8] = 1 * 256 + 1                     # person #1
    png[8:16, 10:16] = 1 * 256 + 2                   # person #2
    png[20:, 28:] = 3 * 256                          # unlabeled -> VOID
    return png


def test_mapillary_instance_png_by_hand():
    from mmpanoptic.datasets.converters import (
        mapillary_categories,
        mapillary_panoptic_image,
    )
    ids, segs = mapillary_panoptic_image(_mapillary_png().astype(np.int64), MAPILLARY_LABELS)
    assert [(s['category_id'], s['area']) for s in segs] == [
        (1, 24 * 32 - 6 * 32 - 2 * 48 - 16), (2, 48), (2, 48), (3, 6 * 32)]
    assert segs[1]['bbox'] == [2, 8, 6, 8]
    assert (ids[20:, 28:] == 0).all()
    cats = mapillary_categories(MAPILLARY_LABELS)
    assert [(c['id'], c['name'], c['isthing']) for c in cats] == [
        (1, 'Road', 0), (2, 'Person', 1), (3, 'Sky', 0)]
    _, segs = mapillary_panoptic_image(_mapillary_png().astype(np.int64), MAPILLARY_LABELS,
                                       keep_unevaluated=True)
    assert segs[-1]['category_id'] == 4 and segs[-1]['area'] == 16
    with pytest.raises(ConversionError, match='pixel value 1280 is label 5'):
        mapillary_panoptic_image(np.full((2, 2), 5 * 256), MAPILLARY_LABELS, image='x.png')


def test_mapillary_release_layout_converts_validates_compares_and_loads(tmp_path, capsys):
    """Research-edition layout (v2.0): the conversion lands where the v2.0
    config reads it, is clean for the validator and loads; against a
    "released" panoptic set with one planted difference, --compare names it."""
    import shutil

    from ..e2e_utils import ROOT
    root = tmp_path / 'mapillary'
    root.mkdir()
    (root / 'config_v2.0.json').write_text(json.dumps(dict(labels=MAPILLARY_LABELS)))
    for split in ('training', 'validation'):
        (root / split / 'v2.0' / 'instances').mkdir(parents=True)
        (root / split / 'images').mkdir(parents=True)
        for stem in ('img_a', 'img_b'):
            cv2.imwrite(str(root / split / 'v2.0' / 'instances' / f'{stem}.png'),
                        _mapillary_png())
            cv2.imwrite(str(root / split / 'images' / f'{stem}.jpg'),
                        np.zeros((24, 32, 3), np.uint8))
    def run(*args):
        return _run_tool('mapillary_to_coco_panoptic.py', '--root', str(root), *args,
                         capsys=capsys)

    code, out, _ = run()
    assert code == 0, out
    assert 'validation: 2 images, 8 segments, 3 categories (1 things)' in out
    released = root / 'validation' / 'v2.0' / 'panoptic'
    assert _validate(str(released / 'panoptic_2020.json'), str(released)) == []
    from mmengine.config import Config

    from mmpanoptic.registry import DATASETS
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/mask2former/mask2former_r50_300k_mapillary-v2-panoptic.py'))
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.update(data_root=str(root) + '/', pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 2 and list(dataset.metainfo['thing_classes']) == ['Person']
    # The release's own files exist now: a rerun must not overwrite them ...
    code, _, err = run()
    assert code != 0 and '--out-dir' in err
    # ... and --compare finds a planted difference (a person relabelled sky).
    ref = json.load(open(released / 'panoptic_2020.json'))
    ref['annotations'][0]['segments_info'][1]['category_id'] = 3
    (released / 'panoptic_2020.json').write_text(json.dumps(ref))
    code, out, _ = run('--out-dir', str(tmp_path / 'ours'), '--split', 'validation',
                       '--compare')
    assert code == 1
    assert 'validation: 1 differences' in out
    assert 'image img_a: segment 2 (category 2, area 48, crowd 0) vs reference segment 2 ' \
        '(category 3' in out
    shutil.copy(str(tmp_path / 'ours' / 'validation' / 'panoptic' / 'panoptic_2020.json'),
                str(released / 'panoptic_2020.json'))
    assert run('--out-dir', str(tmp_path / 'ours'), '--split', 'validation',
               '--compare')[0] == 0


def _cityscapes_gtfine(root, seed=0):
    """A gtFine val split in the release layout with random scenes: every
    label id of Cityscapes' table (evaluated or not), instances of every
    thing class, crowd regions and ids >= 1000 of non-evaluated classes."""
    rng = np.random.default_rng(seed)
    gt = root / 'gtFine'
    for k, city in enumerate(('aachen', 'bochum', 'cologne')):
        inst = rng.choice([7, 8, 11, 21, 23, 0, 1, 4, 9, 15], size=(48, 96)).astype(np.uint16)
        inst = cv2.resize(inst, (96, 48), interpolation=cv2.INTER_NEAREST)
        for j in range(12):
            label = int(rng.choice([24, 25, 26, 27, 28, 29, 30, 31, 32, 33]))
            value = label * 1000 + j if rng.random() > 0.2 else label  # some crowds
            y, x = rng.integers(0, 40), rng.integers(0, 86)
            inst[y:y + rng.integers(3, 9), x:x + rng.integers(3, 11)] = value
        inst[0, :3] = 0
        (gt / 'val' / city).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(gt / 'val' / city / f'{city}_00000{k}_000019_gtFine_instanceIds.png'),
                    inst)
    return gt


@pytest.mark.parametrize('use_train_id', [False, True])
def test_cityscapes_converter_equals_cityscapesscripts(tmp_path, use_train_id):
    """Ours and the official createPanopticImgs on the same gtFine: the same
    categories, images, segments (id, category, area, box, crowd) and pixels."""
    from cityscapesscripts.preparation.createPanopticImgs import convert2panoptic

    from mmpanoptic.datasets.converters import cityscapes_to_coco_panoptic
    gt = _cityscapes_gtfine(tmp_path)
    ref_dir = tmp_path / 'ref'
    ref_dir.mkdir()
    convert2panoptic(str(gt), str(ref_dir), useTrainId=use_train_id, setNames=['val'])
    suffix = '_trainId' if use_train_id else ''
    ref = json.load(open(ref_dir / f'cityscapes_panoptic_val{suffix}.json'))
    ours_json = str(tmp_path / 'ours.json')
    cityscapes_to_coco_panoptic(str(gt), 'val', ours_json, str(tmp_path / 'ours'),
                                use_train_id=use_train_id, progress=False)
    ours = json.load(open(ours_json))
    assert [(c['id'], c['name'], c['isthing']) for c in ours['categories']] == \
        [(c['id'], c['name'], c['isthing']) for c in ref['categories']]
    # One deliberate difference: createPanopticImgs names the image
    # '<stem>_gtFine_leftImg8bit.png' (it replaces '_instanceIds.png' in the gtFine
    # name), a file the release does not have; ours names the real leftImg8bit file.
    for image in ref['images']:
        assert image['file_name'].endswith('_gtFine_leftImg8bit.png')
        image['file_name'] = image['file_name'].replace('_gtFine_leftImg8bit', '_leftImg8bit')
    assert ours['images'] == ref['images']
    assert len(ref['annotations']) == 3
    keys = ('id', 'category_id', 'area', 'bbox', 'iscrowd')
    n_segments = 0
    for a, b in zip(ours['annotations'], ref['annotations']):
        assert a['image_id'] == b['image_id'] and a['file_name'] == b['file_name']
        assert [[s[k] for k in keys] for s in a['segments_info']] == \
            [[s[k] for k in keys] for s in b['segments_info']], a['image_id']
        n_segments += len(a['segments_info'])
        mine = cv2.imread(str(tmp_path / 'ours' / a['file_name']))[..., ::-1]
        theirs = cv2.imread(str(ref_dir / f'cityscapes_panoptic_val{suffix}' /
                                b['file_name']))[..., ::-1]
        assert (rgb2id(mine) == rgb2id(theirs)).all()
    assert n_segments > 30
    assert any(s['iscrowd'] for a in ours['annotations'] for s in a['segments_info'])


def test_cityscapes_unknown_label_id_is_an_error_or_counted_void(tmp_path):
    from mmpanoptic.datasets.converters import (
        cityscapes_panoptic_image,
        cityscapes_to_coco_panoptic,
    )
    inst = np.full((8, 8), 7, np.int64)
    inst[:2, :2] = 40                   # label id 40: not Cityscapes'
    inst[4:6, 4:6] = 77001             # an "instance" of label id 77
    with pytest.raises(ConversionError, match=r'x.png: value 40 has label id 40'):
        cityscapes_panoptic_image(inst, image='x.png')
    report = {}
    ids, segs = cityscapes_panoptic_image(inst, unknown_as_void=True, report=report)
    assert [s['id'] for s in segs] == [7] and report == {'unknown_void_pixels': 8}
    assert (ids[:2, :2] == 0).all() and (ids[4:6, 4:6] == 0).all()
    gt = tmp_path / 'gtFine' / 'val' / 'aachen'
    gt.mkdir(parents=True)
    cv2.imwrite(str(gt / 'aachen_000000_000019_gtFine_instanceIds.png'), inst.astype(np.uint16))
    with pytest.raises(ConversionError, match='aachen_000000_000019_gtFine_instanceIds.png'):
        cityscapes_to_coco_panoptic(str(tmp_path / 'gtFine'), 'val', str(tmp_path / 'o.json'),
                                    str(tmp_path / 'o'), progress=False)


def test_semantic_benchmark_converts_with_a_bundled_vocabulary(tmp_path):
    """semantic_to_coco_panoptic.py --vocabulary pascal_context_59: label i is
    the vocabulary's class i (category id i + 1), every class stuff, one
    segment per class present; 255 stays VOID."""
    from mmpanoptic.vocabularies import vocabulary_entries

    from ..e2e_utils import run_tool
    sem = tmp_path / 'sem'
    sem.mkdir()
    label = np.full((8, 10), 255, np.uint8)
    label[:4] = 0
    label[4:, :5] = 58
    cv2.imwrite(str(sem / 'img1.png'), label)
    out = tmp_path / 'pan.json'
    run_tool('tools/dataset_converters/semantic_to_coco_panoptic.py', '--semantic-dir',
             str(sem), '--vocabulary', 'pascal_context_59', '--out-json', str(out),
             '--out-png-dir', str(tmp_path / 'pan'))
    data = json.load(open(out))
    names = [c['name'].split(',')[0].strip() for c in vocabulary_entries('pascal_context_59')]
    assert [c['name'] for c in data['categories']] == names
    assert all(c['isthing'] == 0 for c in data['categories'])
    segs = data['annotations'][0]['segments_info']
    assert sorted((s['category_id'], s['area']) for s in segs) == [(1, 40), (59, 20)]
    ids = rgb2id(cv2.imread(str(tmp_path / 'pan' / 'img1.png'))[..., ::-1])
    assert (ids == 0).sum() == 20  # the 255 pixels stay VOID
