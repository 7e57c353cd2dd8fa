from .text_classifier import TextEmbeddingClassifier, build_class_layer
from .text_encoders import CLIPTextEncoder, SentenceTransformerTextEncoder, clip_tokenize
from .vocabulary import (
                         Vocabulary,
                         get_templates,
                         list_vocabularies,
                         load_vocabulary,
                         parse_vocabulary,
)

__all__ = ['TextEmbeddingClassifier', 'build_class_layer', 'CLIPTextEncoder',
           'SentenceTransformerTextEncoder', 'clip_tokenize', 'Vocabulary', 'get_templates',
           'list_vocabularies', 'load_vocabulary', 'parse_vocabulary']
