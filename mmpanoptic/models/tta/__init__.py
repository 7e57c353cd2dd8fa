"""Test-time augmentation: one step per model family (:mod:`.step`) and the
:class:`PanopticTTAModel` that runs it."""
from .center_tta import CenterTTA, merge_center_outputs
from .panoptic_tta import PanopticTTAModel
from .query_tta import QueryTTA, merge_query_outputs
from .step import TTAStep, merge_dense_maps, unflip
from .two_stage_tta import (
                            PanopticFPNTTA,
                            TwoStageTTA,
                            UPSNetTTA,
                            boxes_to_original,
                            boxes_to_view,
                            merge_detections,
                            merge_roi_masks,
)

__all__ = ['TTAStep', 'PanopticTTAModel', 'QueryTTA', 'CenterTTA', 'TwoStageTTA',
           'PanopticFPNTTA', 'UPSNetTTA', 'merge_query_outputs', 'merge_center_outputs',
           'merge_dense_maps', 'merge_detections', 'merge_roi_masks', 'boxes_to_original',
           'boxes_to_view', 'unflip']
