from .pq import (
                 SIZE_RANGES,
                 PanopticEvalError,
                 PQStats,
                 check_same_size,
                 count_keys,
                 format_pq_table,
                 pair_counts,
                 pq_average,
                 pq_image_stats,
                 pq_image_stats_by_size,
                 pq_stats_from_pairs,
                 pq_summary,
                 size_of,
)
from .stq import STQAccumulator
from .vpq import VPQStream, vpq_group, vpq_summary, vpq_video_stats

__all__ = [
    'SIZE_RANGES', 'PanopticEvalError', 'PQStats', 'check_same_size', 'count_keys',
    'format_pq_table', 'pair_counts', 'pq_average', 'pq_image_stats', 'pq_image_stats_by_size',
    'pq_stats_from_pairs', 'pq_summary', 'size_of', 'STQAccumulator', 'VPQStream',
    'vpq_group', 'vpq_video_stats', 'vpq_summary'
]
