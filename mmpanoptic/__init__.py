"""mmpanoptic: panoptic segmentation on OpenMMLab (mmengine, mmcv, mmdet, mmseg)."""
import mmcv
import mmengine
from mmengine.utils import digit_version

from .utils.compat import apply_compat_patches
from .version import __version__

MMCV_MIN, MMCV_MAX = '2.0.0', '2.2.0'
MMENGINE_MIN, MMENGINE_MAX = '0.10.0', '0.11.0'


def _check_version(name, version, low, high):
    if not digit_version(low) <= digit_version(version) < digit_version(high):
        raise ImportError(
            f'{name}=={version} is installed, but mmpanoptic needs '
            f'{low} <= {name} < {high} (mmdet 3.3.0 and mmsegmentation 1.2.2 '
            f'refuse mmcv>=2.2). Run `bash tools/setup_env.sh`.')


_check_version('mmcv', mmcv.__version__, MMCV_MIN, MMCV_MAX)
_check_version('mmengine', mmengine.__version__, MMENGINE_MIN, MMENGINE_MAX)
apply_compat_patches()

__all__ = ['__version__']
