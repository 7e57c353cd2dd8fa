"""Bundled vocabularies, user vocabularies and template sets."""
import json

import pytest

from mmpanoptic.models.classifiers import get_templates
from mmpanoptic.vocabularies import (
    list_vocabularies,
    load_vocabulary,
    parse_vocabulary,
    vocabulary_entries,
)


@pytest.mark.parametrize('name,total,things', [
    ('coco_panoptic', 133, 80), ('ade20k_150', 150, 100), ('cityscapes', 19, 8),
    ('mapillary_vistas', 65, 37), ('pascal_context_59', 59, 0), ('ade20k_847', 847, 0),
    ('pascal_context_459', 459, 0), ('vipseg', 124, 58), ('coco_stuff_171', 171, 0)])
def test_bundled_vocabularies_have_published_sizes(name, total, things):
    vocab = load_vocabulary(name)
    assert len(vocab.classes) == total and vocab.num_things == things
    assert len(set(vocab.classes)) == total


def test_bundled_vocabularies_agree_with_reference_lists():
    from mmseg.utils import get_classes
    coco = load_vocabulary('coco_panoptic')
    assert coco.classes[:3] == ['person', 'bicycle', 'car']
    assert coco.classes[80] == 'banner' and coco.classes[-1] == 'rug-merged'
    cs = load_vocabulary('cityscapes')
    assert cs.thing_classes == ['person', 'rider', 'car', 'truck', 'bus', 'train',
                                'motorcycle', 'bicycle']
    assert cs.stuff_classes == list(get_classes('cityscapes')[:11])
    # ADE20K: the same 150 classes as mmseg's list (first synonyms compared);
    # a few names differ only by synonym choice ('window' / 'windowpane').
    ade = load_vocabulary('ade20k_150')
    ours = {c.split(',')[0].strip() for c in ade.classes}
    theirs = {c.split(',')[0].strip() for c in get_classes('ade')}
    assert len(ours & theirs) >= 140
    mv = load_vocabulary('mapillary_vistas')
    assert set(mv.classes) == set(get_classes('mapillary_v1')) - {'Unlabeled'}
    assert 'Car' in mv.thing_classes and 'Road' in mv.stuff_classes
    pc = load_vocabulary('pascal_context_59').classes
    same = [a == b for a, b in zip(pc, get_classes('pcontext'))]
    assert sum(same) == 58  # label order equal; 'diningtable' is mmseg's 'table'
    # the large sets contain the small ones (first synonyms)
    a847 = {s.strip() for c in load_vocabulary('ade20k_847').classes for s in c.split(',')}
    assert sum(c.split(',')[0].strip() in a847 for c in ade.classes) >= 145
    pc459 = set(load_vocabulary('pascal_context_459').classes)
    assert len(set(pc) & pc459) == 58  # all of PC-59 but 'diningtable' ('table' in 459)
    # COCO-Stuff-164K: mmseg's 171 classes in its label order; COCO
    # panoptic's things are the first 80 of them
    stuff171 = load_vocabulary('coco_stuff_171').classes
    assert stuff171 == list(get_classes('cocostuff'))
    assert stuff171[:80] == coco.thing_classes
    assert set(list_vocabularies()) == {
        'ade20k_847', 'pascal_context_459', 'coco_panoptic', 'ade20k_150', 'cityscapes',
        'mapillary_vistas', 'pascal_context_59', 'vipseg', 'coco_stuff_171'}
    # VIPSeg: label order (ids 0..123) of its categories, things as flagged there
    vip = vocabulary_entries('vipseg')
    assert [c['name'] for c in vip[:3]] == ['wall', 'ceiling', 'door']
    assert vip[60]['name'] == 'person' and vip[60]['isthing'] == 1
    assert vip[123]['name'] == 'train' and vip[123]['isthing'] == 1


def test_vocabulary_file_of_the_user_and_its_errors(tmp_path):
    path = tmp_path / 'mine.json'
    path.write_text(json.dumps(dict(classes=[dict(name='road', isthing=0),
                                             dict(name='solar panel', isthing=1)])))
    vocab = load_vocabulary(str(path))
    assert vocab.classes == ['solar panel', 'road'] and vocab.num_things == 1
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(classes=[dict(name='road')])))
    with pytest.raises(ValueError, match='class 0 must have'):
        load_vocabulary(str(bad))
    with pytest.raises(FileNotFoundError, match='coco_panoptic'):
        load_vocabulary('no_such_vocabulary')


def test_command_line_vocabulary():
    v = parse_vocabulary('road, sky,car,solar panel/solar cell', things='car,solar panel')
    assert v.classes == ['car', 'solar panel, solar cell', 'road', 'sky']
    assert v.num_things == 2
    assert parse_vocabulary(['a', 'b']).num_things == 0
    with pytest.raises(ValueError, match='not in --classes'):
        parse_vocabulary('road,car', things='truck')
    with pytest.raises(ValueError, match='twice'):
        parse_vocabulary('road,car,road')
    with pytest.raises(ValueError, match='no classes'):
        parse_vocabulary(' , ')


def test_template_sets():
    assert get_templates('none') == ('{}',)
    assert len(get_templates('vild')) == 14
    assert len(get_templates('imagenet')) == 80
    assert get_templates(['{} here']) == ('{} here',)
    with pytest.raises(ValueError, match='exactly one'):
        get_templates(['no slot'])
    with pytest.raises(KeyError, match='unknown template set'):
        get_templates('nope')
