from .online_tracker import OnlineMaskTracker, PerFrameIds

__all__ = ['OnlineMaskTracker', 'PerFrameIds']
