from ..compat import allow_mmengine_checkpoints, apply_compat_patches
from .setup_env import register_all_modules

__all__ = [
    'allow_mmengine_checkpoints', 'apply_compat_patches', 'register_all_modules'
]
