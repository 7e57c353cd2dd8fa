from .appearance import color_histogram_embeddings
from .online_tracker import OnlineMaskTracker, PerFrameIds
from .query_tracker import QueryPropagationTracker

__all__ = ['OnlineMaskTracker', 'PerFrameIds', 'QueryPropagationTracker',
           'color_histogram_embeddings']
