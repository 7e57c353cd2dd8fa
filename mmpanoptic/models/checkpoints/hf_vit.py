"""Hugging Face ViT weights (DINOv2, DINOv2 with registers, DINOv3, and the
ViT inside EoMT / EoMT-DINOv3) -> :class:`~mmpanoptic.models.backbones.ViT`.

A ``save_pretrained`` folder (``config.json`` + ``model.safetensors`` or
``pytorch_model.bin``) or a bare state dict is converted key by key; every
source key is used or is on the list of keys deliberately left out (the
masked-image-modelling ``mask_token``), and every key of the ViT is filled,
else :class:`CheckpointConversionError` names the key (strict).

Layout differences handled on the way:

* q / k / v projections are fused into one ``qkv`` (DINOv3 has no key bias:
  that part of the fused bias is zero);
* DINOv2 gives the class token a position embedding; the ViT here has
  positions for the patches only (as EoMT), so the class token's position is
  added to the class token itself (the same sum enters the first block);
* a position table for another grid is resampled bicubically; a patch
  kernel of another size (DINOv2's 14 -> EoMT's 16) by FlexiViT's
  pseudo-inverse resize, so that a patch resized with the image keeps its
  embedding.
"""
import json
import os.path as osp
import re
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmpanoptic.fileio.errors import CheckpointConversionError

from .clip_weights import load_state_dict_file

# Block keys: 'proj', transformers 5's module names (every ViT here); 'dinov2',
# the file names transformers writes for DINOv2 (attention.attention.query, ...).
_BLOCK_RULES = {
    'dinov2': [
        (r'norm1\.', 'norm1.'), (r'norm2\.', 'norm2.'),
        (r'attention\.output\.dense\.', 'attn.proj.'),
        (r'layer_scale1\.lambda1', 'ls1.gamma'), (r'layer_scale2\.lambda1', 'ls2.gamma'),
        (r'mlp\.fc1\.', 'mlp.fc1.'), (r'mlp\.fc2\.', 'mlp.fc2.'),
        (r'mlp\.weights_out\.', 'mlp.fc2.'),
    ],
    'proj': [
        (r'norm1\.', 'norm1.'), (r'norm2\.', 'norm2.'),
        (r'attention\.(?:o_proj|out_proj)\.', 'attn.proj.'),
        (r'layer_scale1\.lambda1', 'ls1.gamma'), (r'layer_scale2\.lambda1', 'ls2.gamma'),
        (r'mlp\.fc1\.', 'mlp.fc1.'), (r'mlp\.fc2\.', 'mlp.fc2.'),
        (r'mlp\.up_proj\.', 'mlp.fc1.'), (r'mlp\.gate_proj\.', 'mlp.gate.'),
        (r'mlp\.down_proj\.', 'mlp.fc2.'),
    ],
}
_QKV = {'dinov2': ('attention.attention.query.', 'attention.attention.key.',
                   'attention.attention.value.'),
        'proj': ('attention.q_proj.', 'attention.k_proj.', 'attention.v_proj.')}
IGNORED = ('embeddings.mask_token', )


def read_hf_folder(path: str) -> Tuple[Dict[str, Tensor], Dict]:
    """``(state dict, config dict)`` of a ``save_pretrained`` folder (or of
    a weights file, with an empty config).

    A folder is loaded by transformers itself (its ``architectures`` class,
    offline), so the keys are those of the modules: transformers 5 writes
    some models under older key names (Swin's ``attention.self.query`` is
    ``attention.q_proj`` in the module) and renames them when loading."""
    if osp.isdir(path):
        cfg_path = osp.join(path, 'config.json')
        if not osp.isfile(cfg_path):
            raise FileNotFoundError(f'{path}: no config.json (not a save_pretrained folder)')
        with open(cfg_path) as f:
            config = json.load(f)
        if not any(osp.isfile(osp.join(path, n)) for n in
                   ('model.safetensors', 'pytorch_model.bin', 'model.safetensors.index.json')):
            raise FileNotFoundError(f'{path}: neither model.safetensors nor pytorch_model.bin')
        return hf_model_class(config).from_pretrained(path, local_files_only=True).state_dict(), \
            config
    return load_state_dict_file(path), {}


def hf_model_class(config: Dict):
    """The transformers class of a ``config.json`` (its ``architectures``;
    the real class where transformers exports a placeholder for want of
    torchvision)."""
    import importlib

    import transformers
    arch = (config.get('architectures') or [None])[0]
    if arch is None:
        return transformers.AutoModel
    cls = getattr(transformers, arch, None)
    model_type = config.get('model_type', '')
    if cls is None or not hasattr(cls, 'from_pretrained'):
        module = importlib.import_module(f'transformers.models.{model_type}.modeling_{model_type}')
        cls = getattr(module, arch)
    return cls


def _layout(state: Dict[str, Tensor]) -> Tuple[str, str, str]:
    """``(rules, embeddings prefix, blocks prefix)`` of a HF ViT state dict."""
    legacy = any('.attention.attention.query.' in k for k in state)
    for key in state:
        m = re.match(r'(.*?)(encoder\.layer|model\.layer|layers|layer)\.0\.', key)
        if m:
            head = m.group(1)
            return ('dinov2' if legacy else 'proj'), head, head + m.group(2) + '.'
    raise CheckpointConversionError('no ViT blocks found (expected encoder.layer.N, '
                                    'model.layer.N, layer.N or layers.N keys)')


def resample_patch_kernel(weight: Tensor, size: int) -> Tensor:
    """(O, I, p, p) patch-embedding kernel -> (O, I, size, size), FlexiViT's
    pseudo-inverse resize: with ``M`` the bicubic resize of a p x p patch to
    size x size, the new kernel ``w'`` solves ``M^T w' = w``, so that a
    resized patch gets (as nearly as possible) the old embedding."""
    p = weight.shape[-1]
    if p == size:
        return weight
    basis = torch.eye(p * p, dtype=torch.float64).reshape(p * p, 1, p, p)
    resized = F.interpolate(basis, size=(size, size), mode='bicubic', align_corners=False,
                            antialias=True)
    mat = resized.reshape(p * p, size * size).T  # (size^2, p^2): M
    pinv = torch.linalg.pinv(mat.T)  # (size^2, p^2)
    flat = weight.double().reshape(-1, p * p)
    return (flat @ pinv.T).reshape(*weight.shape[:2], size, size).to(weight.dtype)


def resample_positions(table: Tensor, grid: Tuple[int, int]) -> Tensor:
    """(1, N, C) square position table -> (1, h * w, C), bicubic."""
    n = table.shape[1]
    side = int(round(n ** 0.5))
    if side * side != n:
        raise CheckpointConversionError(f'a position table of {n} entries is not square')
    if (side, side) == tuple(grid):
        return table
    t = table.reshape(1, side, side, -1).permute(0, 3, 1, 2).float()
    t = F.interpolate(t, size=tuple(grid), mode='bicubic', align_corners=False)
    return t.flatten(2).transpose(1, 2).to(table.dtype)


def convert_hf_vit(state: Dict[str, Tensor], *, patch_size: int, grid: Tuple[int, int],
                   embed_dims: int, prefix: str = '') -> Dict[str, Tensor]:
    """A HF ViT's weights (the keys under ``prefix``, or all) -> a state dict
    of a :class:`ViT` with this ``patch_size``, position ``grid`` and width
    (patch kernel and position table resampled to them).

    Raises :class:`CheckpointConversionError` on a key it does not know
    (:func:`check_vit_state` then checks the result against the ViT).
    """
    state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    rules, emb, blocks = _layout(state)
    out: Dict[str, Tensor] = {}
    used = set()

    def take(key: str) -> Tensor:
        used.add(key)
        return state[key]

    e = emb + 'embeddings.'
    cls = take(e + 'cls_token')
    if e + 'register_tokens' in state:
        out['reg_tokens'] = take(e + 'register_tokens')
    for k in (e + 'patch_embeddings.projection.', e + 'patch_embeddings.'):
        if k + 'weight' in state:
            out['patch_embed.weight'] = resample_patch_kernel(take(k + 'weight'), patch_size)
            out['patch_embed.bias'] = take(k + 'bias')
            break
    for key in (e + 'position_embeddings', e + 'position_embeddings.weight'):
        if key in state:
            table = take(key)
            table = table[None] if table.dim() == 2 else table
            n_side = int(round((table.shape[1] - 1) ** 0.5))
            if n_side * n_side == table.shape[1] - 1:  # DINOv2: the first is the class's
                cls = cls + table[:, :1]
                table = table[:, 1:]
            out['pos_embed'] = resample_positions(table, grid)
    out['cls_token'] = cls
    for k in IGNORED:
        used.update(x for x in state if x == emb + k)
    for norm in (emb + 'layernorm.', emb + 'norm.'):
        if norm + 'weight' in state:
            out['norm.weight'], out['norm.bias'] = take(norm + 'weight'), take(norm + 'bias')
    dim = embed_dims
    for key in list(state):
        m = re.match(re.escape(blocks) + r'(\d+)\.(.*)', key)
        if not m:
            continue
        i, rest = int(m.group(1)), m.group(2)
        q, k, v = _QKV[rules]
        if rest.startswith(q):
            kind = rest[len(q):]
            parts = [take(f'{blocks}{i}.{q}{kind}')]
            kkey, vkey = f'{blocks}{i}.{k}{kind}', f'{blocks}{i}.{v}{kind}'
            parts.append(take(kkey) if kkey in state else parts[0].new_zeros(dim))
            parts.append(take(vkey))
            out[f'blocks.{i}.attn.qkv.{kind}'] = torch.cat(parts)
            continue
        if rest.startswith((k, v)):
            continue  # taken with the query
        if rules == 'dinov2' and rest.startswith('mlp.weights_in.'):
            kind = rest[len('mlp.weights_in.'):]
            gate, up = take(key).chunk(2, dim=0)
            out[f'blocks.{i}.mlp.gate.{kind}'], out[f'blocks.{i}.mlp.fc1.{kind}'] = gate, up
            continue
        for pattern, repl in _BLOCK_RULES[rules]:
            mm = re.match(pattern, rest)
            if mm:
                out[f'blocks.{i}.{repl}{rest[mm.end():]}'] = take(key)
                break
        else:
            raise CheckpointConversionError(f'unknown ViT key: {prefix}{key}')
    unused = [k for k in state if k not in used and (k.startswith(emb + 'embeddings.')
                                                    or k.startswith(blocks))]
    if unused:
        raise CheckpointConversionError(f'ViT keys not converted: {unused[:5]}')
    return out


def check_vit_state(out: Dict[str, Tensor], vit) -> None:
    """Every key of ``vit`` filled with the right shape, nothing left over."""
    own = vit.state_dict()
    missing = [k for k in own if k not in out]
    if missing:
        raise CheckpointConversionError(f'the checkpoint fills no {missing[:5]} of the ViT')
    extra = [k for k in out if k not in own]
    if extra:
        raise CheckpointConversionError(f'the ViT has no {extra[:5]} (another architecture: '
                                        'check embed_dims, depth, registers, rope)')
    for k, t in out.items():
        if tuple(t.shape) != tuple(own[k].shape):
            raise CheckpointConversionError(
                f'{k}: the checkpoint gives {tuple(t.shape)}, the ViT has {tuple(own[k].shape)}')


def used_prefix_keys(state: Dict[str, Tensor], prefix: str) -> set:
    """The keys :func:`convert_hf_vit` reads from ``state`` under ``prefix``."""
    rules, emb, blocks = _layout({k[len(prefix):]: v for k, v in state.items()
                                  if k.startswith(prefix)})
    keep = (prefix + emb + 'embeddings.', prefix + blocks, prefix + emb + 'layernorm.',
            prefix + emb + 'norm.')
    return {k for k in state if k.startswith(keep)}


def load_hf_vit(vit, path: str, prefix: Optional[str] = None) -> None:
    """Load a HF folder or file into ``vit`` (see :func:`convert_hf_vit`);
    ``prefix`` defaults to what the folder's model class uses (none for the
    bare DINOv2 / DINOv3 models)."""
    state, _ = read_hf_folder(path)
    try:
        converted = convert_hf_vit(state, patch_size=vit.patch_size, grid=vit.pos_grid,
                                   embed_dims=vit.embed_dims, prefix=prefix or '')
        check_vit_state(converted, vit)
    except CheckpointConversionError as e:
        raise CheckpointConversionError(f'{path}: {e}') from None
    vit.load_state_dict(converted, strict=True)


__all__ = ['read_hf_folder', 'hf_model_class', 'convert_hf_vit', 'check_vit_state', 'load_hf_vit',
           'resample_patch_kernel',
           'resample_positions', 'used_prefix_keys']
