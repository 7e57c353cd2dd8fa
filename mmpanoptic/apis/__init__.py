from .inferencer import PanopticInferencer, class_palette, inference_pipeline
from .model_zoo import ModelZooError, checkpoint_file, get_model, list_models, model_info

__all__ = [
    'PanopticInferencer', 'class_palette', 'inference_pipeline', 'ModelZooError',
    'checkpoint_file', 'get_model', 'list_models', 'model_info'
]
