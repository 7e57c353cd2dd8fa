from .inferencer import PanopticInferencer, class_palette, inference_pipeline
from .model_zoo import ModelZooError, checkpoint_file, get_model, list_models, model_info
from .video_inferencer import VideoInferencer, open_frames

__all__ = [
    'PanopticInferencer', 'VideoInferencer', 'open_frames', 'class_palette',
    'inference_pipeline', 'ModelZooError', 'checkpoint_file', 'get_model', 'list_models',
    'model_info'
]
