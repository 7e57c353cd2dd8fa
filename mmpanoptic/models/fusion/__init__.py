from .functional import heuristic_merge
from .heuristic_fusion import HeuristicFusion

__all__ = ['heuristic_merge', 'HeuristicFusion']
