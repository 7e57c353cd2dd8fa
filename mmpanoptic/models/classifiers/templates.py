"""Prompt templates of the text classifiers."""
from typing import Sequence, Tuple, Union

from mmseg.utils.get_templates import PREDEFINED_TEMPLATES

# Named prompt-template sets; 'vild' and 'imagenet' are mmsegmentation's
# lists (ViLD's 14 and CLIP's 80 ImageNet templates), imported, not copied.
_OWN_TEMPLATES = {
    'none': ('{}',),
    'photo': ('a photo of a {}.',),
}


def get_templates(templates: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """A template set by name (``'none'``, ``'photo'``, ``'vild'``,
    ``'imagenet'``) or the given list, checked to hold one ``{}`` each.

    >>> get_templates('photo')
    ('a photo of a {}.',)
    >>> len(get_templates('vild'))
    14
    """
    if isinstance(templates, str):
        if templates in _OWN_TEMPLATES:
            out = _OWN_TEMPLATES[templates]
        else:
            if templates not in PREDEFINED_TEMPLATES:
                raise KeyError(f'unknown template set {templates!r}; known: '
                               f'{sorted(_OWN_TEMPLATES) + sorted(PREDEFINED_TEMPLATES)}')
            out = tuple(PREDEFINED_TEMPLATES[templates])
    else:
        out = tuple(templates)
    bad = [t for t in out if t.count('{}') != 1]
    if not out or bad:
        raise ValueError(f'every template needs exactly one "{{}}": {bad or out}')
    return out


__all__ = ['get_templates']
