"""TextVocabularyHook gives the model each dataset's classes."""
import logging
from types import SimpleNamespace

import pytest

from mmpanoptic.engine.hooks import TextVocabularyHook
from mmpanoptic.engine.hooks.vocabulary_hook import aligned_vocabulary


class RecordingModel:
    def __init__(self):
        self.calls = []

    def set_vocabulary(self, classes, num_things):
        self.calls.append((list(classes), num_things))


def dataset(things, stuff):
    return SimpleNamespace(metainfo=dict(thing_classes=tuple(things),
                                         stuff_classes=tuple(stuff)))


def runner(model):
    return SimpleNamespace(
        model=model, logger=logging.getLogger('test'),
        train_dataloader=SimpleNamespace(dataset=dataset(['red ellipse'], ['sky'])),
        val_dataloader=SimpleNamespace(dataset=dataset(['red ellipse', 'red box'], ['sky'])),
        test_dataloader=SimpleNamespace(dataset=dataset(['car'], ['road', 'sky'])))


def test_train_val_test_vocabularies_in_turn():
    model = RecordingModel()
    r = runner(model)
    hook = TextVocabularyHook()
    hook.before_train(r)
    hook.before_val_epoch(r)
    hook.after_val_epoch(r)
    hook.before_test_epoch(r)
    assert model.calls == [
        (['red ellipse', 'sky'], 1),
        (['red ellipse', 'red box', 'sky'], 2),  # validation adds the novel class
        (['red ellipse', 'sky'], 1),  # back to the training classes
        (['car', 'road', 'sky'], 1),
    ]


def test_bundled_vocabulary_must_follow_the_dataset():
    things = ['person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle']
    stuff = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
             'traffic sign', 'vegetation', 'terrain', 'sky']
    assert aligned_vocabulary('cityscapes', things + stuff, 8)[:2] == ['person', 'rider']
    with pytest.raises(ValueError, match="label 0: 'person' vs 'rider'"):
        aligned_vocabulary('cityscapes', [things[1], things[0]] + things[2:] + stuff, 8)
    with pytest.raises(ValueError, match='19 classes'):
        aligned_vocabulary('cityscapes', things + stuff[:-1], 8)
    model = RecordingModel()
    r = runner(model)
    r.test_dataloader.dataset = dataset(things, stuff)
    TextVocabularyHook(vocabularies=dict(test='cityscapes')).before_test_epoch(r)
    assert model.calls[0][1] == 8
