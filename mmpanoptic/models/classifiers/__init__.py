from .open_vocab_ensemble import geometric_ensemble, mask_pool, resize_mask_logits
from .text_classifier import TextEmbeddingClassifier, build_class_layer
from .text_encoders import CLIPTextEncoder, SentenceTransformerTextEncoder, clip_tokenize
from .vocabulary import (
                         Vocabulary,
                         get_templates,
                         list_vocabularies,
                         load_vocabulary,
                         parse_vocabulary,
)

__all__ = ['geometric_ensemble', 'mask_pool', 'resize_mask_logits', 'TextEmbeddingClassifier',
           'build_class_layer', 'CLIPTextEncoder', 'SentenceTransformerTextEncoder',
           'clip_tokenize', 'Vocabulary', 'get_templates', 'list_vocabularies',
           'load_vocabulary', 'parse_vocabulary']
