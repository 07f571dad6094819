"""Fixtures of the data-layer tests.

``gs_cache`` is one writable cache folder per test run, so every dataset is processed at most
once (NCI1, IMDB-BINARY and Squirrel take a few seconds each). Under pytest-xdist all workers
share it (the loaders lock each working root while processing).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def gs_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = tmp_path_factory.getbasetemp().parent / "graphsmooth_cache"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("graphsmooth_cache")
