from .functional import heuristic_fusion
from .heuristic_fusion import HeuristicFusion

__all__ = ['heuristic_fusion', 'HeuristicFusion']
