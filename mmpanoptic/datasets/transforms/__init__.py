from .formatting import PackPanopticInputs
from .geometric import AntialiasResize, PadToSize, ResizeShortestEdge, size_with_aspect_ratio
from .loading import LoadPanopticAnnotations

__all__ = ['AntialiasResize', 'PackPanopticInputs', 'LoadPanopticAnnotations', 'PadToSize',
           'ResizeShortestEdge', 'size_with_aspect_ratio']
