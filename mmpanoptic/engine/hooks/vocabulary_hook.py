"""Switches an open-vocabulary model to the classes of the data it is run on."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpanoptic.registry import HOOKS
from mmpanoptic.vocabularies import load_vocabulary


def _dataset_vocabulary(dataset):
    meta = dataset.metainfo
    things, stuff = list(meta['thing_classes']), list(meta['stuff_classes'])
    return things + stuff, len(things)


def aligned_vocabulary(name: str, dataset_classes, num_things: int):
    """The bundled vocabulary ``name``, checked against a dataset's classes."""
    vocab = load_vocabulary(name)
    if len(vocab.classes) != len(dataset_classes) or vocab.num_things != num_things:
        raise ValueError(f'vocabulary {name!r} has {len(vocab.classes)} classes '
                         f'({vocab.num_things} things), the dataset {len(dataset_classes)} '
                         f'({num_things} things)')

    def first(n):
        return n.split(',')[0].strip().lower()

    bad = [(k, v, d) for k, (v, d) in enumerate(zip(vocab.classes, dataset_classes))
           if first(v) != first(d)]
    if bad:
        raise ValueError(f'vocabulary {name!r} does not follow the dataset\'s label order: '
                         + '; '.join(f'label {k}: {v!r} vs {d!r}' for k, v, d in bad[:5]))
    return vocab.classes


@HOOKS.register_module()
class TextVocabularyHook(Hook):
    """Give a text-classifier model the class names of each dataset.

    Before training the model gets the training set's classes (the base
    classes of an open-vocabulary experiment); before validation / testing
    the evaluation set's (which may add novel classes); after validation it
    goes back to the training classes.  The datasets' ``thing_classes`` /
    ``stuff_classes`` (read from their annotation files) are the vocabulary,
    so an evaluation on new classes needs no config edit.

    Args:
        enabled_in: which of ``'train'``, ``'val'``, ``'test'`` to switch.
        vocabularies: optional bundled vocabulary (or file) per stage, e.g.
            ``dict(test='ade20k_150')``, to use its names with synonyms
            ("sofa, couch, lounge") instead of the dataset's plain names; it
            must list the dataset's classes in the dataset's label order
            (checked by count, thing count and first names).
    """

    priority = 'NORMAL'

    def __init__(self, enabled_in=('train', 'val', 'test'),
                 vocabularies: Optional[dict] = None) -> None:
        self.enabled_in = tuple(enabled_in)
        self.vocabularies = dict(vocabularies or {})
        self._train_vocabulary: Optional[tuple] = None

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _apply(self, runner, dataset, tag: str):
        classes, num_things = _dataset_vocabulary(dataset)
        stage = {'training': 'train', 'validation': 'val'}.get(tag, tag)
        if stage in self.vocabularies:
            classes = aligned_vocabulary(self.vocabularies[stage], classes, num_things)
        self._model(runner).set_vocabulary(classes, num_things)
        runner.logger.info(f'{tag} vocabulary: {len(classes)} classes ({num_things} things)')
        return classes, num_things

    def before_train(self, runner) -> None:
        if 'train' in self.enabled_in:
            self._train_vocabulary = self._apply(runner, runner.train_dataloader.dataset,
                                                 'training')

    def before_val_epoch(self, runner) -> None:
        if 'val' in self.enabled_in:
            self._apply(runner, runner.val_dataloader.dataset, 'validation')

    def after_val_epoch(self, runner, metrics=None) -> None:
        if 'val' in self.enabled_in and self._train_vocabulary is not None:
            self._model(runner).set_vocabulary(*self._train_vocabulary)

    def before_test_epoch(self, runner) -> None:
        if 'test' in self.enabled_in:
            self._apply(runner, runner.test_dataloader.dataset, 'test')
