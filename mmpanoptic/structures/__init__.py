from .panoptic_ids import VOID, id2rgb, rgb2id

__all__ = ['VOID', 'id2rgb', 'rgb2id']
