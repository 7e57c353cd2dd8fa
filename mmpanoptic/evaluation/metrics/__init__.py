from .panoptic_quality import PanopticQualityMetric, format_pq_table

__all__ = ['PanopticQualityMetric', 'format_pq_table']
