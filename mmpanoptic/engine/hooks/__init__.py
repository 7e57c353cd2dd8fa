from .visualization_hook import PanopticVisualizationHook

__all__ = ['PanopticVisualizationHook']
