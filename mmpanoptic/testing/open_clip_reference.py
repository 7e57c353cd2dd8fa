"""open_clip itself as the reference for our CLIP towers (tests only).

Run in a subprocess, never imported by the library:

    python -m mmpanoptic.testing.open_clip_reference OUT_DIR --model NAME [--tiny] [--keys]

open_clip builds its ConvNeXt towers through timm, and both import
torchvision at module level; here torchvision's CUDA-linked wheel does not
load with the CPU torch.  Neither the model code nor the tokenizer use
torchvision (only the image transforms and datasets do), so this process
installs an import hook that answers every ``torchvision*`` import with an
inert placeholder module before importing open_clip.  The placeholder never
runs: a model or tokenizer call that reached it would fail loudly.

``--keys``: writes ``keys.json`` (every state-dict key and shape of the
named open_clip model, built on the meta device: no memory, no weights).
Otherwise: builds the model with random weights (``--tiny``: a small
ConvNeXt-T tower and a 2-layer text tower in the named model's layout),
writes ``open_clip.pt`` (its state dict: what a user's checkpoint holds),
``inputs.pt`` and ``outputs.pt`` (stage features, ``encode_image``,
FC-CLIP's per-mask head on pooled vectors, the tokenizer's ids and
``encode_text``).
"""
import argparse
import importlib.abc
import importlib.machinery
import json
import os
import os.path as osp
import sys
import types


class _Placeholder(type):
    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


class _NoTorchvision(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == 'torchvision' or name.startswith('torchvision.'):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        module.__version__ = '0.0.0'
        return module

    def exec_module(self, module):
        pass


def import_open_clip():
    sys.meta_path.insert(0, _NoTorchvision())
    import open_clip
    return open_clip


def tiny_config(name: str, open_clip, out_dir: str) -> str:
    """A small model of ``name``'s layout registered with open_clip: timm's
    ConvNeXt class (the one ``convnext_large`` builds) at depths 1-1-2-1,
    widths 32-64-96-128, and a 2-layer text tower."""
    from timm.models import register_model
    from timm.models.convnext import _create_convnext

    @register_model
    def convnext_toy_reference(pretrained=False, **kwargs):
        # timm's own builder (convnext_tiny's settings) at a small size
        return _create_convnext('convnext_tiny', pretrained=False,
                                **dict(kwargs, depths=(1, 1, 2, 1), dims=(32, 64, 96, 128)))

    cfg = open_clip.get_model_config(name)
    if cfg is None:
        raise SystemExit(f'open_clip has no model {name!r}')
    cfg = json.loads(json.dumps(cfg))
    cfg['embed_dim'] = 48
    cfg['vision_cfg'].update(timm_model_name='convnext_toy_reference', image_size=64,
                             timm_drop_path=0.0)
    cfg['text_cfg'].update(width=64, heads=4, layers=2)
    folder = osp.join(out_dir, 'model_configs')
    os.makedirs(folder, exist_ok=True)
    with open(osp.join(folder, f'tiny_{name}.json'), 'w') as f:
        json.dump(cfg, f)
    open_clip.add_model_config(folder)
    return f'tiny_{name}'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('out_dir')
    p.add_argument('--model', default='convnext_large_d_320')
    p.add_argument('--tiny', action='store_true')
    p.add_argument('--keys', action='store_true')
    args = p.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    open_clip = import_open_clip()
    import torch

    if args.keys:
        with torch.device('meta'):
            model = open_clip.create_model(args.model, pretrained=None, device='meta')
        with open(osp.join(args.out_dir, 'keys.json'), 'w') as f:
            json.dump({k: list(v.shape) for k, v in model.state_dict().items()}, f)
        return
    name = tiny_config(args.model, open_clip, args.out_dir) if args.tiny else args.model
    torch.manual_seed(0)
    model = open_clip.create_model(name, pretrained=None).eval()
    with torch.no_grad():  # random, not near-zero, layer scales and norms
        for k, v in model.state_dict().items():
            if k.endswith('gamma') or (('norm' in k or 'ln' in k) and k.endswith('weight')):
                v.copy_(1 + 0.2 * torch.randn_like(v))
            elif 'norm' in k and k.endswith('bias'):
                v.copy_(0.1 * torch.randn_like(v))
    torch.save(model.state_dict(), osp.join(args.out_dir, 'open_clip.pt'))
    size = model.visual.image_size if isinstance(model.visual.image_size, int) else \
        model.visual.image_size[0]
    image = torch.randn(2, 3, size, size + 32)
    pooled = torch.randn(2, 5, model.visual.trunk.num_features)
    texts = ['a photo of a solar panel.', 'sofa, couch', 'traffic light']
    tokenizer = open_clip.get_tokenizer(name)
    with torch.no_grad():
        trunk = model.visual.trunk
        x = trunk.stem(image)
        stages = []
        for stage in trunk.stages:
            x = stage(x)
            stages.append(x)
        # FC-CLIP's visual_prediction_forward_convnext on mask-pooled vectors
        flat = pooled.reshape(-1, pooled.shape[-1], 1, 1)
        per_mask = model.visual.head(trunk.head(flat)).view(2, 5, -1)
        tokens = tokenizer(texts)
        outputs = dict(stages=stages, encode_image=model.encode_image(image),
                       per_mask=per_mask, tokens=tokens, encode_text=model.encode_text(tokens))
    torch.save(dict(image=image, pooled=pooled, texts=texts),
               osp.join(args.out_dir, 'inputs.pt'))
    torch.save(outputs, osp.join(args.out_dir, 'outputs.pt'))


if __name__ == '__main__':
    main()
