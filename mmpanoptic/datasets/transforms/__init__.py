from .formatting import PackPanopticInputs
from .loading import LoadPanopticAnnotations

__all__ = ['LoadPanopticAnnotations', 'PackPanopticInputs']
