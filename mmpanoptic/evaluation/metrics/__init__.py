from .panoptic_derived import InstanceFromPanopticMetric, SemanticIoUMetric
from .panoptic_quality import PanopticQualityMetric, format_pq_table
from .video_panoptic_quality import VideoPanopticMetric

__all__ = [
    'InstanceFromPanopticMetric', 'SemanticIoUMetric', 'PanopticQualityMetric',
    'format_pq_table', 'VideoPanopticMetric'
]
