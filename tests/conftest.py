import os
import os.path as osp

import pytest

DATA = osp.join(osp.dirname(__file__), 'data')
ROOT = osp.dirname(osp.dirname(__file__))


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: end-to-end trainings (pytest -m slow)')


@pytest.fixture(scope='session', autouse=True)
def _registered():
    from mmpanoptic.utils import register_all_modules
    register_all_modules()
    os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory):
    """A small toy dataset shared by the tests (8 train, 4 val, 128x128)."""
    from mmpanoptic.datasets import make_toy_panoptic
    out = str(tmp_path_factory.mktemp('toy'))
    make_toy_panoptic(out, num_train=8, num_val=4, progress=False)
    return out
