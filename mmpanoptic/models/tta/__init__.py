from .panoptic_tta import PanopticTTAModel, merge_center_outputs, merge_query_outputs

__all__ = ['PanopticTTAModel', 'merge_query_outputs', 'merge_center_outputs']
