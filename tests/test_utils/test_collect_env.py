import subprocess
import sys

from mmpanoptic.utils.collect_env import collect_env, mmcv_ops_status


def test_collect_env_reports_versions_and_ops():
    full, short = collect_env()
    for key in ('torch', 'numpy', 'mmengine', 'mmcv', 'mmdet', 'mmseg', 'mmcv ops', 'device'):
        assert key in short
    assert short['mmcv'] == '2.1.0'
    ok, detail = mmcv_ops_status()
    assert ok, detail


def test_cli():
    out = subprocess.run([sys.executable, '-m', 'mmpanoptic.utils.collect_env', '--short'],
                         capture_output=True, text=True, check=True).stdout
    assert 'mmcv ops: compiled ops load' in out and 'device: ' in out
