from .open_vocab_ensemble import geometric_ensemble, mask_pool, resize_mask_logits
from .templates import get_templates
from .text_classifier import TextEmbeddingClassifier, build_class_layer
from .text_encoders import (
    CLIPTextEncoder,
    HFCLIPTextEncoder,
    SentenceTransformerTextEncoder,
    clip_tokenize,
)

__all__ = ['geometric_ensemble', 'mask_pool', 'resize_mask_logits', 'TextEmbeddingClassifier',
           'build_class_layer', 'CLIPTextEncoder', 'HFCLIPTextEncoder',
           'SentenceTransformerTextEncoder',
           'clip_tokenize', 'get_templates']
