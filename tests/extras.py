"""Test extras (requirements/tests.txt, installed by tools/setup_env.sh): a
missing one fails the run in CI (``CI`` set) and skips elsewhere, so a check
against a reference never passes by not running."""
import importlib
import os

import pytest


def require(module: str, package: str):
    """Import ``module`` (of the PyPI ``package``) or fail / skip as above."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        message = (f'{module} is not importable ({e}): {package} is a test extra '
                   '(bash tools/setup_env.sh installs it)')
        if os.environ.get('CI'):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
