"""Print the environment mmpanoptic runs in.

    python -m mmpanoptic.utils.collect_env [--short]
"""
import argparse
import importlib
from collections import OrderedDict


def _version(name):
    try:
        module = importlib.import_module(name)
    except Exception as e:  # report, do not crash: this is a diagnostic tool
        return f'not importable ({type(e).__name__}: {e})'
    version = getattr(module, '__version__', None)
    if version is None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version
        try:
            version = dist_version(name)
        except PackageNotFoundError:
            version = 'unknown'
    return version


def mmcv_ops_status():
    """Return (ok, detail) telling whether mmcv's compiled ops load."""
    try:
        from mmcv.ops import MultiScaleDeformableAttention, nms  # noqa: F401
        from mmcv.utils import ext_loader
        ext_loader.load_ext('_ext', ['nms'])
        return True, 'compiled ops load (mmcv._ext)'
    except Exception as e:
        return False, f'{type(e).__name__}: {e}'


def collect_env():
    """Collect versions and device information as an ordered dict."""
    from mmengine.utils.dl_utils import collect_env as mmengine_env
    env = OrderedDict()
    import torch
    env['mmpanoptic'] = _version('mmpanoptic')
    for name in ('torch', 'numpy', 'mmengine', 'mmcv', 'mmdet', 'mmseg',
                 'pycocotools', 'cv2'):
        env[name] = _version(name)
    ok, detail = mmcv_ops_status()
    env['mmcv ops'] = detail
    env['device'] = ('CUDA: ' + torch.cuda.get_device_name(0)
                     if torch.cuda.is_available() else 'CPU')
    env['torch threads'] = torch.get_num_threads()
    full = OrderedDict(mmengine_env())
    full.update(env)
    return full, env


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--short', action='store_true',
                        help='only the versions mmpanoptic depends on')
    args = parser.parse_args()
    full, short = collect_env()
    for k, v in (short if args.short else full).items():
        print(f'{k}: {v}')
    ok, _ = mmcv_ops_status()
    if not ok:
        raise SystemExit('mmcv ops are not compiled: run bash tools/setup_env.sh')


if __name__ == '__main__':
    main()
