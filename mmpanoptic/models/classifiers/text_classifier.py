"""Open-vocabulary classification of mask embeddings by text embeddings."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from .vocabulary import get_templates, load_vocabulary

# A class is a name or a list of synonyms ("person", ["person", "people"]).
ClassName = Union[str, Sequence[str]]


def _synonyms(name: ClassName) -> List[str]:
    if isinstance(name, str):
        return [s.strip() for s in name.split(',') if s.strip()] or [name]
    return [str(s) for s in name]


@MODELS.register_module()
class TextEmbeddingClassifier(nn.Module):
    """Class logits = scaled cosine similarity of projected mask embeddings
    with text embeddings of the class names, plus a learned "no object"
    embedding as the last column.

    ``logits[..., k] = exp(logit_scale) * cos(W x + b, t_k)`` where ``t_k``
    is the mean over synonyms and prompt templates of the encoder's
    (normalised) embeddings of class k, and ``t_{C}`` is the learned void
    embedding.  Text embeddings are computed once per vocabulary (no
    gradient) and cached; :meth:`set_vocabulary` swaps the classes without
    rebuilding the model and invalidates the cache.

    Args:
        in_channels: width of the mask / query embeddings.
        text_encoder: config or module with ``encode(texts: List[str]) ->
            (N, D)`` and an ``embed_dim`` attribute.
        vocabulary: class names (``"person, people"`` or a list of synonyms
            per class), things first as every mmpanoptic label; or the name
            of a bundled vocabulary (``'coco_panoptic'``, see
            :func:`load_vocabulary`).
        templates: prompt templates with one ``{}`` or a set's name
            (``'none'``, ``'photo'``, ``'vild'``, ``'imagenet'``, see
            :func:`get_templates`); embeddings averaged.
        init_temperature: initial temperature (logit scale = 1 / T, learned).
        own_text_encoder: register the encoder as a sub-module (in
            ``state_dict``); ``False`` for an encoder owned by another
            classifier (K-Net's stages share one), so it is stored once.

    It replaces a query head's ``nn.Linear(C_in, C + 1)`` class layer
    (``Mask2FormerQueryHead(classifier=...)``).
    """

    def __init__(self, *, in_channels: int, text_encoder: Union[dict, nn.Module],
                 vocabulary: Union[str, Sequence[ClassName]],
                 templates: Union[str, Sequence[str]] = 'none',
                 init_temperature: float = 0.07, own_text_encoder: bool = True) -> None:
        super().__init__()
        encoder = MODELS.build(text_encoder) if isinstance(text_encoder, dict) \
            else text_encoder
        if own_text_encoder:
            self.text_encoder = encoder
        else:  # a plain attribute: not in this module's state_dict / children
            self.__dict__['text_encoder'] = encoder
        for p in self.text_encoder.parameters() if isinstance(self.text_encoder,
                                                                nn.Module) else ():
            p.requires_grad_(False)  # a frozen, pretrained text space
        dim = int(self.text_encoder.embed_dim)
        self.proj = nn.Linear(in_channels, dim)
        self.void_embedding = nn.Parameter(torch.randn(dim) / dim ** 0.5)
        self.logit_scale = nn.Parameter(torch.tensor(1.0 / init_temperature).log())
        self.templates = get_templates(templates)
        self._cache: Optional[Tuple[tuple, Tensor]] = None
        self.set_vocabulary(vocabulary)

    @property
    def num_classes(self) -> int:
        return len(self.vocabulary)

    def set_vocabulary(self, vocabulary: Sequence[ClassName]) -> None:
        """Use these classes from now on (no retraining, no reload)."""
        if isinstance(vocabulary, str):
            vocabulary = load_vocabulary(vocabulary).classes
        if not vocabulary:
            raise ValueError('the vocabulary is empty')
        self.vocabulary = [tuple(_synonyms(c)) for c in vocabulary]

    def text_embeddings(self) -> Tensor:
        """(C, D) normalised class embeddings of the current vocabulary,
        computed once per (vocabulary, templates)."""
        key = (tuple(self.vocabulary), self.templates)
        if self._cache is None or self._cache[0] != key:
            texts, owner = [], []
            for k, synonyms in enumerate(self.vocabulary):
                for s in synonyms:
                    for t in self.templates:
                        texts.append(t.format(s))
                        owner.append(k)
            with torch.no_grad():
                emb = F.normalize(self.text_encoder.encode(texts).float(), dim=-1)
            owner_t = torch.tensor(owner, device=emb.device)
            summed = torch.zeros(self.num_classes, emb.shape[1], device=emb.device)
            summed.index_add_(0, owner_t, emb)
            self._cache = (key, F.normalize(summed, dim=-1))
        return self._cache[1]

    def forward(self, x: Tensor) -> Tensor:
        """(..., in_channels) -> (..., C + 1) logits, "no object" last."""
        text = torch.cat([self.text_embeddings().to(x.device, x.dtype),
                          F.normalize(self.void_embedding, dim=0)[None]])
        return self.logit_scale.exp() * F.normalize(self.proj(x), dim=-1) @ text.t()


def build_class_layer(classifier: Optional[dict], in_channels: int, num_classes: int,
                      text_encoder: Optional[nn.Module] = None) -> nn.Module:
    """The ``C + 1``-way class layer of a query head: ``nn.Linear`` by default,
    or the given classifier config (e.g. :class:`TextEmbeddingClassifier`)
    with ``in_channels`` filled in.  ``text_encoder`` (an already built one)
    lets several layers share one encoder (K-Net's per-stage classifiers).
    """
    if classifier is None:
        return nn.Linear(in_channels, num_classes + 1)
    cfg = dict(classifier, in_channels=in_channels)
    if text_encoder is not None:  # shared: stored by its owner only
        cfg.update(text_encoder=text_encoder, own_text_encoder=False)
    layer = MODELS.build(cfg)
    if getattr(layer, 'num_classes', num_classes) != num_classes:
        raise ValueError(f'the classifier has {layer.num_classes} classes, the model '
                         f'{num_classes}: its vocabulary and the class counts disagree')
    return layer
