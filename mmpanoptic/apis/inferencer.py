"""Panoptic inference on images from Python, with an open vocabulary."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner import load_checkpoint

from mmpanoptic.registry import MODELS
from mmpanoptic.utils import register_all_modules
from mmpanoptic.visualization.panoptic import draw_panoptic
from mmpanoptic.vocabularies import parse_vocabulary

ImageLike = Union[str, np.ndarray]


def inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline on in-memory images, without annotations."""
    steps = []
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'LoadImageFromFile':
            steps.append(dict(type='mmdet.LoadImageFromNDArray'))
        elif step['type'] != 'LoadPanopticAnnotations':
            steps.append(step)
    return Compose(steps)


def class_palette(n: int) -> List[tuple]:
    """n well-separated RGB colours (golden-ratio hues)."""
    out = []
    for i in range(n):
        hsv = np.uint8([[[int(i * 0.618034 * 180) % 180, 200, 230]]])
        out.append(tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]))
    return out


class PanopticInferencer:
    """Build a model from a config + checkpoint and segment images.

    Args:
        config: config file path, :class:`mmengine.Config`, or a model name
            from :func:`mmpanoptic.apis.list_models` (its config; its released
            weights unless ``checkpoint`` is given).
        checkpoint: checkpoint path (its ``dataset_meta`` gives the class
            names of a closed model); ``None`` keeps the initial weights.
        device: ``'cpu'``, ``'cuda'``, ...
        classes, things: an open vocabulary for a model with a text
            classifier: comma-separated names (or lists), synonyms joined by
            ``/``; ``things`` are the classes with instances, all others are
            stuff.  Can be changed later with :meth:`set_vocabulary` or per
            call.
        compile: ``torch.compile`` the network (:meth:`compile_network` of
            the segmentor; the first image of each size compiles).

    Each result is a dict: ``ids`` (H, W) int64 segment ids (0 = VOID) at the
    image's size, ``segments_info`` (the model's ``id``, ``label``,
    ``isthing``, ``area``, ``score`` when it gives one, plus the class name
    ``category`` and, for a checkpoint converted from the Hugging Face hub,
    the label's id there, ``category_id``) and the RGB ``image``.

    >>> # inferencer = PanopticInferencer('configs/open_vocab/....py', 'ckpt.pth',
    >>> #                                 classes='road,sky,car,solar panel',
    >>> #                                 things='car,solar panel')
    >>> # result = inferencer('street.jpg')[0]
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None, *,
                 device: str = 'cpu', classes: Optional[Union[str, Sequence[str]]] = None,
                 things: Optional[Union[str, Sequence[str]]] = None,
                 compile: bool = False) -> None:
        register_all_modules()
        if isinstance(config, str) and not config.endswith('.py') and not osp.isfile(config):
            from .model_zoo import ROOT, checkpoint_file, model_info
            name = config
            config = osp.join(ROOT, model_info(name)['Config'])
            if checkpoint is None and model_info(name).get('Weights'):
                checkpoint = checkpoint_file(name, True)
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        self.model = MODELS.build(cfg.model)
        meta = {}
        if checkpoint is not None:
            ckpt = load_checkpoint(self.model, checkpoint, map_location='cpu')
            meta = (ckpt.get('meta') or {}).get('dataset_meta') or {}
        self.model.to(device).eval()
        if compile:
            self.model.compile_network()
        self.device = device
        self.category_ids = None
        self.pipeline = inference_pipeline(cfg)
        if classes is not None:
            self.set_vocabulary(classes, things)
        elif meta.get('classes'):
            self.classes = list(meta['classes'])
            # a converted hub checkpoint: each label's id in the checkpoint
            self.category_ids = list(meta.get('category_ids') or []) or None
            self.num_things = len(meta.get('thing_classes', ()))
            self.palette = [tuple(c) for c in meta.get('palette') or
                            class_palette(len(self.classes))]
        else:
            raise ValueError('no class names: give a checkpoint saved by the runner (it holds '
                             'dataset_meta) or classes=... for an open-vocabulary model')

    def set_vocabulary(self, classes: Union[str, Sequence[str]],
                       things: Optional[Union[str, Sequence[str]]] = None) -> None:
        """Segment these classes from now on (needs a text classifier)."""
        vocab = parse_vocabulary(classes, things)
        if not hasattr(self.model, 'set_vocabulary'):
            raise TypeError(f'{type(self.model).__name__} has no open vocabulary')
        self.model.set_vocabulary(vocab.classes, vocab.num_things)
        self.classes = [c.split(',')[0] for c in vocab.classes]
        self.num_things = vocab.num_things
        self.palette = class_palette(len(self.classes))

    @torch.no_grad()
    def __call__(self, images: Union[ImageLike, Sequence[ImageLike]], *,
                 classes: Optional[Union[str, Sequence[str]]] = None,
                 things: Optional[Union[str, Sequence[str]]] = None) -> List[Dict]:
        """Segment one image or a list (paths or RGB uint8 arrays)."""
        if classes is not None:
            self.set_vocabulary(classes, things)
        single = isinstance(images, (str, np.ndarray))
        results = []
        for image in [images] if single else images:
            rgb = self.read(image)
            packed = self.pipeline(dict(img=np.ascontiguousarray(rgb[..., ::-1]), img_id=0))
            sample = self.model.test_step(pseudo_collate([packed]))[0]
            pred = sample.pred_panoptic_seg
            ids = pred.sem_seg[0].cpu().numpy().astype(np.int64)
            # the fusions give id, label, isthing, area (and score): add the name
            # (and, for a converted hub checkpoint, the label's id there)
            segments = [dict(s, category=self.classes[s['label']])
                        for s in pred.segments_info]
            if self.category_ids is not None:
                for s in segments:
                    s['category_id'] = self.category_ids[s['label']]
            results.append(dict(ids=ids, segments_info=segments, image=rgb))
        return results

    @staticmethod
    def read(image: ImageLike) -> np.ndarray:
        """RGB uint8 (H, W, 3) from a path or an array (taken as RGB)."""
        if isinstance(image, str):
            bgr = cv2.imread(image, cv2.IMREAD_COLOR)
            if bgr is None:
                raise FileNotFoundError(f'cannot read image {image}')
            return bgr[..., ::-1]
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB array, got {image.shape} '
                             f'{image.dtype}')
        return image

    def visualize(self, result: Dict, *, scale: int = 1, title: Optional[str] = None
                  ) -> np.ndarray:
        """(H * scale, W * scale, 3) RGB picture of one result."""
        return draw_panoptic(result['image'], result['ids'], result['segments_info'],
                             self.classes, self.palette, scale=scale, title=title)
