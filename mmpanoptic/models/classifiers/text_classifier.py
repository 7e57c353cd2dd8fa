"""Open-vocabulary classification of mask embeddings by text embeddings."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS
from mmpanoptic.vocabularies import load_vocabulary

from .templates import get_templates

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

    ``logits[..., k] = s * max_j cos(W x + b, t_kj)`` where ``t_kj`` is the
    mean over prompt templates of the encoder's (normalised) embeddings of
    synonym j of class k, ``s = min(exp(logit_scale), 100)`` and the last
    column uses the learned void embedding.  This is FC-CLIP's (and
    OpenSeg's / ODISE's) classifier: a class scores as its best-matching
    synonym.  ``synonym_reduce='mean'`` averages the synonyms' embeddings
    into one per class instead (our earlier default; measured against the
    max in ``docs/open_vocabulary.md``).  Text embeddings are computed once
    per vocabulary (no gradient) and cached; :meth:`set_vocabulary` swaps
    the classes without rebuilding the model and invalidates the cache.

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
        synonym_reduce: ``'max'`` (FC-CLIP: max over the synonyms' logits)
            or ``'mean'`` (one averaged embedding per class).
        project: ``True``: a learned linear map of the embeddings into the
            text space; ``'text'``: a learned linear map of the text
            embeddings (and the void embedding, which then starts as the
            encoder's embedding of the empty text) into the embeddings'
            space (ODISE's ``CategoryEmbed.text_proj``); ``False``:
            embeddings already in the text space (SAN's CLIP [SOS] tokens;
            ``in_channels`` must then be the text space's size).
        learn_temperature: learn the logit scale (default); False keeps
            ``1 / init_temperature`` fixed, as SAN keeps CLIP's 100 (a
            buffer, so checkpoints of either kind load into the other).

    It replaces a query head's ``nn.Linear(C_in, C + 1)`` class layer
    (``Mask2FormerQueryHead(classifier=...)``).
    """

    def __init__(self, *, in_channels: int, text_encoder: Union[dict, nn.Module],
                 vocabulary: Union[str, Sequence[ClassName]],
                 templates: Union[str, Sequence[str]] = 'none',
                 init_temperature: float = 0.07, own_text_encoder: bool = True,
                 synonym_reduce: str = 'max', project: Union[bool, str] = True,
                 learn_temperature: bool = True) -> None:
        super().__init__()
        if synonym_reduce not in ('max', 'mean'):
            raise ValueError(f"synonym_reduce must be 'max' or 'mean', got {synonym_reduce!r}")
        self.synonym_reduce = synonym_reduce
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
        if project not in (True, False, 'text'):
            raise ValueError(f"project must be True, False or 'text', got {project!r}")
        if not project and in_channels != dim:
            raise ValueError(f'project=False needs embeddings of the text space\'s size {dim}, '
                             f'got {in_channels}')
        self.project = project
        self.proj = nn.Linear(in_channels, dim) if project is True else nn.Identity()
        self.text_proj = nn.Linear(dim, in_channels) if project == 'text' else None
        self.void_embedding = nn.Parameter(torch.randn(dim) / dim ** 0.5)
        scale = torch.tensor(1.0 / init_temperature).log()
        if learn_temperature:
            self.logit_scale = nn.Parameter(scale)
        else:
            self.register_buffer('logit_scale', scale)
        self.templates = get_templates(templates)
        self._cache: Optional[Tuple[tuple, Tuple[Tensor, Tensor]]] = None
        self.set_vocabulary(vocabulary)
        if project == 'text':  # ODISE's null embedding: the empty text's
            with torch.no_grad():
                self.void_embedding.copy_(F.normalize(
                    self.text_encoder.encode(['']).float()[0], dim=-1))

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

    def synonym_embeddings(self) -> Tuple[Tensor, Tensor]:
        """``(S, D)`` normalised embeddings of every synonym of the current
        vocabulary (mean over the prompt templates, renormalised) and ``(S,)``
        the class of each; computed once per (vocabulary, templates)."""
        key = (tuple(self.vocabulary), self.templates)
        if self._cache is None or self._cache[0] != key:
            texts = [t.format(s) for synonyms in self.vocabulary for s in synonyms
                     for t in self.templates]
            owner = [k for k, synonyms in enumerate(self.vocabulary) for _ in synonyms]
            with torch.no_grad():
                emb = F.normalize(self.text_encoder.encode(texts).float(), dim=-1)
            emb = F.normalize(emb.view(len(owner), len(self.templates), -1).mean(1), dim=-1)
            self._cache = (key, (emb, torch.tensor(owner, device=emb.device)))
        return self._cache[1]

    def text_embeddings(self) -> Tensor:
        """(C, D) normalised class embeddings: the mean of each class's
        synonym embeddings (what ``synonym_reduce='mean'`` classifies with)."""
        emb, owner = self.synonym_embeddings()
        summed = torch.zeros(self.num_classes, emb.shape[1], device=emb.device)
        return F.normalize(summed.index_add_(0, owner, emb), dim=-1)

    def logit_scale_value(self) -> Tensor:
        """``exp(logit_scale)`` clamped at 100, as CLIP and FC-CLIP do."""
        return self.logit_scale.exp().clamp(max=100.0)

    def class_logits(self, x: Tensor, scale, text_map: Optional[nn.Module] = None) -> Tensor:
        """(..., C) logits of normalised embeddings ``x`` (..., D) against the
        vocabulary: ``scale * cos`` reduced over synonyms by
        ``synonym_reduce``.  Also FC-CLIP's / ODISE's out-of-vocabulary
        classifier of mask-pooled CLIP image embeddings.  ``text_map``: a
        map of the text embeddings into ``x``'s space first (renormalised)."""
        def mapped(emb):
            emb = emb.to(x)
            return emb if text_map is None else F.normalize(text_map(emb), dim=-1)
        if self.synonym_reduce == 'mean':
            return scale * x @ mapped(self.text_embeddings()).t()
        emb, owner = self.synonym_embeddings()
        per_synonym = scale * x @ mapped(emb).t()  # (..., S)
        if len(owner) == self.num_classes:  # one name per class
            return per_synonym
        out = per_synonym.new_full((*x.shape[:-1], self.num_classes), float('-inf'))
        index = owner.to(x.device).expand_as(per_synonym)
        return out.scatter_reduce(-1, index, per_synonym, reduce='amax')

    def forward(self, x: Tensor) -> Tensor:
        """(..., in_channels) -> (..., C + 1) logits, "no object" last."""
        scale = self.logit_scale_value()
        x = F.normalize(self.proj(x), dim=-1)
        void_embedding = self.void_embedding.to(x)
        if self.text_proj is not None:
            void_embedding = self.text_proj(void_embedding)
        void = scale * x @ F.normalize(void_embedding, dim=0)
        return torch.cat([self.class_logits(x, scale, self.text_proj), void[..., None]], dim=-1)


def text_classifier_like(layer: TextEmbeddingClassifier,
                         in_channels: int) -> TextEmbeddingClassifier:
    """A new text class layer for ``in_channels``-wide embeddings with
    ``layer``'s vocabulary, templates and synonym rule, sharing its text
    encoder (stored by ``layer`` only): a second class layer in the same
    text space, e.g. DVIS's tracker on an open-vocabulary segmenter
    (OV-DVIS++)."""
    return TextEmbeddingClassifier(in_channels=in_channels, text_encoder=layer.text_encoder,
                                   vocabulary=list(layer.vocabulary), templates=layer.templates,
                                   own_text_encoder=False, synonym_reduce=layer.synonym_reduce)


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
