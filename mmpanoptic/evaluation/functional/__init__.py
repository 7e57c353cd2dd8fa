from .pq import (
                 SIZE_RANGES,
                 PanopticEvalError,
                 PQStats,
                 check_same_size,
                 count_keys,
                 pair_counts,
                 pq_average,
                 pq_image_stats,
                 pq_image_stats_by_size,
                 pq_stats_from_pairs,
                 pq_summary,
                 size_of,
)

__all__ = [
    'SIZE_RANGES', 'PanopticEvalError', 'PQStats', 'check_same_size', 'count_keys',
    'pair_counts', 'pq_average', 'pq_image_stats', 'pq_image_stats_by_size',
    'pq_stats_from_pairs', 'pq_summary', 'size_of'
]
