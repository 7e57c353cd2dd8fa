"""JSON readers of the COCO panoptic format and its category lists.

``read_json`` is the one place a JSON file is opened (a missing or invalid
file is a :class:`PanopticFileError` naming it); :func:`parse_categories`
turns COCO categories into mmpanoptic's label order (things first, then
stuff, each in file order); :func:`load_categories` reads a category list
file (the video evaluator's ``categories.json``).
"""
import json
import os.path as osp
from typing import Dict, List, Sequence, Union

from .errors import PanopticAnnotationError, PanopticFileError


def read_json(path: str, what: str = 'JSON'):
    """The parsed content of a JSON file; a missing or invalid file raises
    :class:`PanopticFileError` naming ``what`` and the path."""
    if not osp.isfile(path):
        raise PanopticFileError(f'{what} not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PanopticFileError(f'{what} {path} is not valid JSON: {e}') from None


def write_json(path: str, data) -> str:
    """Write ``data`` as JSON (folders created); returns the path."""
    import os
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f)
    return path


def _default_color(i: int):
    return ((i * 67 + 40) % 256, (i * 131 + 90) % 256, (i * 29 + 170) % 256)


def check_category(c, source: str) -> None:
    """A COCO panoptic category needs ``id``, ``name`` and ``isthing`` (0/1)."""
    if not isinstance(c, dict):
        raise PanopticAnnotationError(f'{source}: category {c!r} is not an object')
    for key in ('id', 'name', 'isthing'):
        if key not in c:
            raise PanopticAnnotationError(
                f'{source}: category {c!r} lacks "{key}"'
                + (' (1 for a class with instances, 0 for stuff)' if key == 'isthing' else ''))
    if c['isthing'] not in (0, 1, True, False):
        raise PanopticAnnotationError(
            f'{source}: category {c["id"]} ({c["name"]}) has isthing={c["isthing"]!r}; '
            'expected 0 or 1')


def parse_categories(categories: Sequence[Dict], source: str) -> Dict:
    """Order categories things-first and build the label mapping.

    Returns a dict with ``classes``, ``thing_classes``, ``stuff_classes``,
    ``category_ids`` (label -> category id), ``cat2label``, ``isthing`` (per
    label), ``palette`` and ``categories`` (the COCO dicts in label order).

    >>> m = parse_categories([dict(id=5, name='sky', isthing=0),
    ...                       dict(id=9, name='car', isthing=1)], 'x.json')
    >>> m['classes'], m['cat2label']
    (('car', 'sky'), {9: 0, 5: 1})
    """
    if not categories:
        raise PanopticAnnotationError(f'{source}: "categories" is empty')
    seen = set()
    for c in categories:
        check_category(c, source)
        if c['id'] in seen:
            raise PanopticAnnotationError(f'{source}: category id {c["id"]} is listed twice')
        seen.add(c['id'])
    things = [c for c in categories if c['isthing']]
    stuff = [c for c in categories if not c['isthing']]
    ordered = things + stuff
    return dict(
        classes=tuple(c['name'] for c in ordered),
        thing_classes=tuple(c['name'] for c in things),
        stuff_classes=tuple(c['name'] for c in stuff),
        category_ids=tuple(int(c['id']) for c in ordered),
        cat2label={int(c['id']): i for i, c in enumerate(ordered)},
        isthing=tuple(bool(c['isthing']) for c in ordered),
        palette=[tuple(c.get('color', _default_color(i))) for i, c in enumerate(ordered)],
        categories=ordered,
    )


def load_categories(source: Union[str, Sequence[Dict]]) -> List[Dict]:
    """A list of ``{id, name, isthing}`` categories, from a file (a list, or
    a dict with ``categories``) or given; each needs ``id`` and ``isthing``
    (a category without ``isthing`` would silently be stuff)."""
    if isinstance(source, str):
        data = read_json(source, 'categories file')
        cats = data.get('categories', data) if isinstance(data, dict) else data
        where = source
    else:
        cats, where = list(source), 'categories'
    if not isinstance(cats, list) or not cats:
        raise PanopticFileError(f'{where}: expected a non-empty list of '
                                '{"id", "name", "isthing"}')
    for c in cats:
        if not isinstance(c, dict) or 'id' not in c or 'isthing' not in c:
            raise PanopticAnnotationError(
                f'{where}: category {str(c)[:80]} needs "id" and "isthing" (1 for a class with '
                'instances, 0 for stuff)')
    return list(cats)


__all__ = ['read_json', 'write_json', 'check_category', 'parse_categories', 'load_categories']
