from .panoptic import draw_panoptic, gt_segments_with_labels, segment_colors

__all__ = ['draw_panoptic', 'gt_segments_with_labels', 'segment_colors']
