from .pq import (PanopticEvalError, PQStats, pq_average, pq_image_stats,
                 pq_summary)

__all__ = ['PanopticEvalError', 'PQStats', 'pq_average', 'pq_image_stats', 'pq_summary']
