from .inferencer import PanopticInferencer, class_palette, inference_pipeline
from .model_zoo import ModelZooError, checkpoint_file, get_model, list_models, model_info
from .video_inferencer import StepPredictionWriter, VideoInferencer, match_category_ids, open_frames

__all__ = [
    'PanopticInferencer', 'VideoInferencer', 'StepPredictionWriter', 'match_category_ids',
    'open_frames', 'class_palette',
    'inference_pipeline', 'ModelZooError', 'checkpoint_file', 'get_model', 'list_models',
    'model_info'
]
