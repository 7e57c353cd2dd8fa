from .visualization_hook import PanopticVisualizationHook
from .vocabulary_hook import TextVocabularyHook

__all__ = ['PanopticVisualizationHook', 'TextVocabularyHook']
