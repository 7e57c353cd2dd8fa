from .formatting import PackPanopticInputs
from .geometric import PadToSize, ResizeShortestEdge, size_with_aspect_ratio
from .loading import LoadPanopticAnnotations

__all__ = ['PackPanopticInputs', 'LoadPanopticAnnotations', 'PadToSize', 'ResizeShortestEdge',
           'size_with_aspect_ratio']
