from .panoptic_fpn import PanopticFPN, build_part

__all__ = ['PanopticFPN', 'build_part']
