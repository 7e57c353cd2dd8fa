from .appearance import color_histogram_embeddings
from .base import BaseTracker
from .online_tracker import OnlineMaskTracker, PerFrameIds
from .query_tracker import QueryPropagationTracker
from .stitching import NextFrameStitcher

__all__ = ['BaseTracker', 'OnlineMaskTracker', 'PerFrameIds', 'QueryPropagationTracker',
           'color_histogram_embeddings', 'NextFrameStitcher']
