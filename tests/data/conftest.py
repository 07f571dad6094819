"""Fixtures of the data-layer tests.

``gs_cache`` is one writable cache folder per test session, so every dataset is processed at
most once per run (NCI1, IMDB-BINARY and Squirrel take a few seconds each).
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def gs_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graphsmooth_cache")
