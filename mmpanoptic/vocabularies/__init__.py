"""Vocabularies: class names with thing / stuff flags.

They sit at the bottom of the package (json only), so datasets, converters,
the open-vocabulary classifiers and the tools all read them without reaching
into :mod:`mmpanoptic.models`.

Vocabulary files live in ``mmpanoptic/vocabularies/*.json``
as ``{"name", "source", "classes": [{"name": "person", "isthing": 1}, ...]}``;
a class name may list synonyms separated by commas (``"sofa, couch"``), which
the text classifier averages.  Bundled: ``coco_panoptic`` (133),
``ade20k_150``, ``cityscapes`` (19), ``mapillary_vistas`` (65), and the
semantic benchmarks ``ade20k_847``, ``coco_stuff_171``, ``pascal_context_59``,
``pascal_context_459`` (all classes stuff).  A path to a file of the same
format works too.

mmpanoptic labels put things first, so :func:`load_vocabulary` returns the
classes reordered that way, with ``num_things``.

>>> vocab = load_vocabulary('cityscapes')
>>> vocab.num_things, vocab.classes[:2], vocab.classes[8]
(8, ['person', 'rider'], 'road')
"""
import glob
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

VOCABULARY_DIR = osp.dirname(osp.abspath(__file__))

@dataclass
class Vocabulary:
    """Class names, things first, and how many are things."""
    classes: List[str]
    num_things: int

    @property
    def thing_classes(self) -> List[str]:
        return self.classes[:self.num_things]

    @property
    def stuff_classes(self) -> List[str]:
        return self.classes[self.num_things:]


def things_first(names: Sequence[str], isthing: Sequence[bool]) -> Vocabulary:
    """Stable reorder so thing classes come first."""
    if len(names) != len(isthing):
        raise ValueError(f'{len(names)} names but {len(isthing)} thing flags')
    things = [n for n, t in zip(names, isthing) if t]
    return Vocabulary([*things, *(n for n, t in zip(names, isthing) if not t)], len(things))


def list_vocabularies() -> List[str]:
    """Names of the bundled vocabularies."""
    return sorted(osp.splitext(osp.basename(p))[0]
                  for p in glob.glob(osp.join(VOCABULARY_DIR, '*.json')))


def vocabulary_entries(name_or_path: str) -> List[Dict]:
    """The ``classes`` entries (``name``, ``isthing``) of a bundled vocabulary
    or a vocabulary file, in file order (a dataset's label order), checked."""
    path = name_or_path if osp.isfile(name_or_path) else \
        osp.join(VOCABULARY_DIR, f'{name_or_path}.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'no vocabulary {name_or_path!r}: not a file and not one of '
                                f'{list_vocabularies()}')
    with open(path) as f:
        data = json.load(f)
    classes = data.get('classes') if isinstance(data, dict) else None
    if not isinstance(classes, list) or not classes:
        raise ValueError(f'{path}: expected {{"classes": [{{"name": ..., "isthing": 0|1}}, '
                         f'...]}}')
    for k, c in enumerate(classes):
        if not isinstance(c, dict) or not isinstance(c.get('name'), str) \
                or c.get('isthing') not in (0, 1, True, False):
            raise ValueError(f'{path}: class {k} must have a string "name" and "isthing" 0/1, '
                             f'found {c!r}')
    return classes


def load_vocabulary(name_or_path: str) -> Vocabulary:
    """A bundled vocabulary by name, or a JSON file of the same format
    (classes reordered things first)."""
    classes = vocabulary_entries(name_or_path)
    return things_first([c['name'] for c in classes], [bool(c['isthing']) for c in classes])


def _split(text: Union[str, Sequence[str], None]) -> List[str]:
    if text is None:
        return []
    items = text.split(',') if isinstance(text, str) else list(text)
    return [s.strip() for s in items if s.strip()]


def parse_vocabulary(classes: Union[str, Sequence[str]],
                     things: Optional[Union[str, Sequence[str]]] = None) -> Vocabulary:
    """A user vocabulary: ``classes`` comma-separated (or a list), synonyms of
    one class joined by ``/`` (``"person/people"``); ``things`` names the
    thing classes (by their first synonym or the full entry).  Classes not
    in ``things`` are stuff.  Synonyms become ``"person, people"``, the form
    the text classifier averages.

    >>> v = parse_vocabulary('road,sky,car,solar panel/solar cell', things='car,solar panel')
    >>> v.classes, v.num_things
    (['car', 'solar panel, solar cell', 'road', 'sky'], 2)
    """
    entries = _split(classes)
    if not entries:
        raise ValueError('no classes given')
    names = [', '.join(s.strip() for s in e.split('/') if s.strip()) for e in entries]
    firsts = [e.split('/')[0].strip() for e in entries]
    if len(set(firsts)) != len(firsts):
        dup = sorted({f for f in firsts if firsts.count(f) > 1})
        raise ValueError(f'classes given twice: {dup}')
    thing_set = set(_split(things))
    unknown = thing_set - set(firsts) - set(entries)
    if unknown:
        raise ValueError(f'--things names classes that are not in --classes: {sorted(unknown)}')
    flags = [f in thing_set or e in thing_set for f, e in zip(firsts, entries)]
    return things_first(names, flags)


__all__ = ['Vocabulary', 'list_vocabularies', 'vocabulary_entries', 'load_vocabulary',
           'parse_vocabulary', 'things_first', 'VOCABULARY_DIR']
