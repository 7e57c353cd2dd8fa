from .checkpoint_hook import CheckpointHook
from .mask_annealing_hook import MaskAnnealingHook, annealed_probability
from .nonfinite_hook import NonFiniteCheckHook, NonFiniteLossError
from .visualization_hook import PanopticVisualizationHook
from .vocabulary_hook import TextVocabularyHook

__all__ = ['CheckpointHook', 'NonFiniteCheckHook', 'NonFiniteLossError', 'MaskAnnealingHook',
           'annealed_probability', 'PanopticVisualizationHook', 'TextVocabularyHook']
