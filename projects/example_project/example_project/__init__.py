from .light_semantic_head import LightSemanticHead

__all__ = ['LightSemanticHead']
