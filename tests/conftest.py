"""Shared test configuration.

Tests marked ``data`` read the shared data root ``$GRAPHSMOOTH_DATA``; they fail (not skip)
when it is missing, so that CI cannot pass without exercising real data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("GRAPHSMOOTH_DATA")
    if not root or not Path(root).is_dir():
        pytest.fail(
            "GRAPHSMOOTH_DATA is not set to an existing folder; tests marked 'data' need the "
            "shared data root (e.g. export GRAPHSMOOTH_DATA=../shared/data)"
        )
    return Path(root)
