from .online_tracker import OnlineMaskTracker, PerFrameIds
from .query_tracker import QueryPropagationTracker

__all__ = ['OnlineMaskTracker', 'PerFrameIds', 'QueryPropagationTracker']
