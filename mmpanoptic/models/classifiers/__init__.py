from .text_classifier import TextEmbeddingClassifier

__all__ = ['TextEmbeddingClassifier']
