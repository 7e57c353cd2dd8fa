"""Building a model's parts: configs or built modules, class counts checked.

Every segmentor takes its parts (backbone, heads, criterion, fusion,
tracker) as a config dict or an already built module, and writes the class
counts once (``num_things_classes``, ``num_stuff_classes``).  :func:`build_part`
is the one place that builds a part and hands it the counts: a config that
leaves a count out gets the model's, a config or module that states another
value is an error (a head saying 80 classes in a 133-class model used to be
accepted silently).
"""
import copy
from typing import Any, Dict, Optional, Union

from mmengine.registry import Registry
from torch import nn

from mmpanoptic.registry import MODELS

ConfigOrModule = Union[dict, nn.Module]


def with_counts(part, counts: Dict[str, int], name: str = 'part'):
    """A config with the model's ``counts`` filled in (a copy), or a built
    part checked against them; a different value raises (see module doc).

    >>> with_counts(dict(type='X', num_classes=3), dict(num_classes=3, num_things=1))
    {'type': 'X', 'num_classes': 3, 'num_things': 1}
    """
    if part is None:
        return None
    if not isinstance(part, dict):
        for key, value in counts.items():
            have = getattr(part, key, value)
            if isinstance(have, int) and have != value:
                raise ValueError(f'{name} ({type(part).__name__}): {key}={have} but the '
                                 f"model has {value} (build it with the model's counts)")
        return part
    cfg = copy.deepcopy(dict(part))
    for key, value in counts.items():
        if key in cfg and cfg[key] != value:
            raise ValueError(f'{name} ({cfg.get("type")}): {key}={cfg[key]} but the model '
                             f'has {value} (set counts on the model only)')
        cfg[key] = value
    return cfg


def merged_config(base: dict, override: dict) -> dict:
    """``base`` updated by ``override``, nested dicts key by key (what a
    config file that wraps a ``{{_base_.model}}`` cannot do in place, e.g.
    ``VideoPanopticSegmentor(detector_changes=...)``).

    >>> merged_config(dict(a=1, b=dict(c=2, d=3)), dict(b=dict(d=4)))
    {'a': 1, 'b': {'c': 2, 'd': 4}}
    """
    out = dict(base)
    for k, v in override.items():
        out[k] = (merged_config(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict)
                  else v)
    return out


def build_part(part: Optional[Union[ConfigOrModule, Any]], *,
               default_type: Optional[str] = None,
               counts: Optional[Dict[str, int]] = None,
               registry: Registry = MODELS,
               name: str = 'part'):
    """Build a part from its config, or check a built one.

    Args:
        part: a config dict, a built module (or any object), or None
            (returned as it is).
        default_type: ``type`` when the config has none.
        counts: values the model fixes, e.g. ``dict(num_classes=133)``, as
            :func:`with_counts`.
        registry: where ``type`` is looked up.
        name: the part's name in error messages (``'panoptic_head'``).

    Returns:
        The built part.

    >>> build_part(dict(type='Linear', in_features=2, out_features=3))
    Linear(in_features=2, out_features=3, bias=True)
    >>> build_part(dict(type='KNetFusion', num_stuff=2), counts=dict(num_things=1, num_stuff=3),
    ...            name='fusion')
    Traceback (most recent call last):
      ...
    ValueError: fusion (KNetFusion): num_stuff=2 but the model has 3 (set counts on the model only)
    """
    part = with_counts(part, counts or {}, name)
    if not isinstance(part, dict):
        return part
    if default_type is not None:
        part.setdefault('type', default_type)
    return registry.build(part)
