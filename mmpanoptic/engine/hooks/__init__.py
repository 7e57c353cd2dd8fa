from .mask_annealing_hook import MaskAnnealingHook, annealed_probability
from .visualization_hook import PanopticVisualizationHook
from .vocabulary_hook import TextVocabularyHook

__all__ = ['MaskAnnealingHook', 'annealed_probability', 'PanopticVisualizationHook',
           'TextVocabularyHook']
