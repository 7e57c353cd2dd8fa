from .panoptic_ids import VOID, id2rgb, mask_bbox, rgb2id, segment_pixels

__all__ = ['VOID', 'id2rgb', 'mask_bbox', 'rgb2id', 'segment_pixels']
