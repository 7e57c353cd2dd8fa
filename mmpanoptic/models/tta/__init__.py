from .panoptic_tta import (
                           PanopticTTAModel,
                           boxes_to_original,
                           boxes_to_view,
                           merge_center_outputs,
                           merge_dense_maps,
                           merge_detections,
                           merge_query_outputs,
                           merge_roi_masks,
)

__all__ = ['PanopticTTAModel', 'merge_query_outputs', 'merge_center_outputs',
           'merge_dense_maps', 'merge_detections', 'merge_roi_masks', 'boxes_to_original',
           'boxes_to_view']
