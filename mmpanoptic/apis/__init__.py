from .inferencer import PanopticInferencer, class_palette, inference_pipeline

__all__ = ['PanopticInferencer', 'class_palette', 'inference_pipeline']
