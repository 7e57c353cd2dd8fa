"""The model zoo by name: ``list_models``, ``model_info`` and ``get_model``.

Every config has an entry in its family's ``configs/<family>/metafile.yml``
(written by ``tools/misc/make_metafiles.py``): config, paper, dataset,
reported results and, where a public checkpoint exists, its URL (mmdet's
released Mask2Former / MaskFormer / Panoptic FPN weights load as they are)
or the converter a detectron2 checkpoint needs.

Weights are read from a local path, from torch's download cache
(``$TORCH_HOME/hub/checkpoints/<file name>``, where mmengine puts
downloads) or downloaded from the URL; without a network the error says
which file to fetch and where to put it.
"""
import fnmatch
import glob
import os
import os.path as osp
from typing import Dict, List, Optional, Union

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class ModelZooError(RuntimeError):
    """A model name or its weights cannot be resolved; the message says what to do."""


def _index() -> Dict[str, Dict]:
    import yaml
    models = {}
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml'))):
        with open(path) as f:
            data = yaml.safe_load(f) or {}
        papers = {c['Name']: c.get('Paper') for c in data.get('Collections', [])}
        for m in data.get('Models', []):
            models[m['Name']] = dict(m, Paper=papers.get(m.get('In Collection')),
                                     Metafile=osp.relpath(path, ROOT))
    return models


def list_models(pattern: Optional[str] = None) -> List[str]:
    """Model names, all or those matching ``pattern`` (a glob such as
    ``'mask2former*coco*'``, or a plain substring)."""
    names = sorted(_index())
    if not pattern:
        return names
    if any(ch in pattern for ch in '*?['):
        return [n for n in names if fnmatch.fnmatch(n, pattern)]
    return [n for n in names if pattern in n]


def model_info(name: str) -> Dict:
    """The metafile entry of a model (config, paper, dataset, results, weights)."""
    index = _index()
    if name not in index:
        close = [n for n in index if name.split('_')[0] in n][:8]
        raise ModelZooError(f'unknown model {name!r}; list_models() has {len(index)} names'
                            + (f', e.g. {close}' if close else ''))
    return index[name]


def _download(url: str, dst: str) -> None:
    """Fetch a URL to a file (torch.hub's downloader); separate so that tests
    can stand in for the network."""
    import torch
    torch.hub.download_url_to_file(url, dst, progress=True)


def checkpoint_file(name: str, pretrained: Union[bool, str] = True) -> Optional[str]:
    """Local path of a model's weights (downloading them when needed), or None.

    Args:
        pretrained: True: the metafile's weights; a path: that file; False: none.
    """
    if pretrained is False or pretrained is None:
        return None
    if isinstance(pretrained, str) and not pretrained.startswith(('http://', 'https://')):
        if not osp.isfile(pretrained):
            raise ModelZooError(f'checkpoint {pretrained} not found')
        return pretrained
    info = model_info(name)
    url = pretrained if isinstance(pretrained, str) else info.get('Weights')
    if not url:
        how = (f' convert a detectron2 checkpoint with {info["Converter"]} and pass '
               'pretrained=<converted file>' if info.get('Converter') else
               ' train it (tools/train.py) and pass pretrained=<checkpoint>')
        raise ModelZooError(f'{name} has no released weights:{how}')
    import torch
    cache = osp.join(torch.hub.get_dir(), 'checkpoints')
    local = osp.join(cache, osp.basename(url.split('?')[0]))
    if osp.isfile(local):
        return local
    os.makedirs(cache, exist_ok=True)
    try:
        _download(url, local)
    except Exception as e:  # noqa: BLE001 - any network failure gets the same advice
        if osp.exists(local):
            os.remove(local)
        raise ModelZooError(
            f'cannot download the weights of {name} ({type(e).__name__}: {e}). Download\n'
            f'  {url}\nand put it at\n  {local}\n(or pass pretrained=<path to the file>)'
        ) from None
    return local


def get_model(name: str, pretrained: Union[bool, str] = True, device: str = 'cpu'):
    """Build a model by its zoo name, with its weights.

    Args:
        name: a name from :func:`list_models`.
        pretrained: True (the released weights), a local path or URL, or False.
        device: where to put the model.

    Returns:
        The model in eval mode, with ``cfg`` (its config) and, when the
        checkpoint has it, ``dataset_meta`` attached.
    """
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint

    from mmpanoptic.registry import MODELS
    from mmpanoptic.utils import register_all_modules
    info = model_info(name)
    register_all_modules()
    cfg = Config.fromfile(osp.join(ROOT, info['Config']))
    model = MODELS.build(cfg.model)
    path = checkpoint_file(name, pretrained)
    model.dataset_meta = None
    if path is not None:
        ckpt = load_checkpoint(model, path, map_location='cpu', strict=True)
        model.dataset_meta = (ckpt.get('meta') or {}).get('dataset_meta')
    model.cfg = cfg
    return model.to(device).eval()
