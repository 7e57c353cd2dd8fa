"""Loading CLIP weights: one place for the image and the text tower.

A whole-CLIP checkpoint (OpenAI's TorchScript archive, an open_clip
``.pt`` / ``.bin`` or a ``.safetensors`` file) holds both towers; each tower
loads the keys under its prefix (``visual.`` for the image tower, none for
the text tower) and checks every one.
"""
import os.path as osp
from typing import Dict

import torch
from torch import Tensor, nn


def load_clip_part(module: nn.Module, path: str, prefix: str, what: str) -> None:
    """Load ``module`` (every one of its keys) from the keys of a whole-CLIP
    checkpoint that start with ``prefix``; missing keys and shape mismatches
    are errors naming the file and the key."""
    state = load_state_dict_file(path)
    own = module.state_dict()
    found = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    missing = [k for k in own if k not in found]
    if missing:
        raise KeyError(f'{path}: no {what} under prefix {prefix!r}; missing '
                       f'{missing[:5]}{" ..." if len(missing) > 5 else ""}')
    for k, v in own.items():
        if found[k].shape != v.shape:
            raise ValueError(f'{path}: {prefix}{k} has shape {tuple(found[k].shape)}, the '
                             f'architecture expects {tuple(v.shape)}: wrong model_name?')
    module.load_state_dict({k: found[k] for k in own})


def load_state_dict_file(path: str) -> Dict[str, Tensor]:
    """A flat tensor dict from a checkpoint file (safetensors or torch pickle,
    loaded with ``weights_only=True``), unwrapping ``state_dict`` / ``model``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path)
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except RuntimeError:  # an OpenAI TorchScript archive
        state = torch.jit.load(path, map_location='cpu').state_dict()
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f'{path}: expected a state dict, found {type(state).__name__}')
    return state
