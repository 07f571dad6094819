"""Benchmark runner: strict YAML configs, tasks, executors, resumable JSONL results, reports.

- :func:`run` — run or resume a config (``graphsmooth run CONFIG``).
- :func:`load_config`, :func:`expand` — parse a config and list its sweep points.
- :func:`write_report` — rebuild tables and the plot (``graphsmooth report DIR``).
- :func:`register_task`, :func:`get_task` — the task registry (:mod:`graphsmooth.bench.tasks`).
- :func:`register_transform` — the transform registry (:mod:`graphsmooth.bench.transforms`).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "run": "graphsmooth.bench.runner",
    "plan": "graphsmooth.bench.runner",
    "RunResult": "graphsmooth.bench.runner",
    "load_config": "graphsmooth.bench.config",
    "expand": "graphsmooth.bench.config",
    "ConfigError": "graphsmooth.bench.config",
    "write_report": "graphsmooth.bench.report",
    "read_records": "graphsmooth.bench.report",
    "register_task": "graphsmooth.bench.tasks",
    "get_task": "graphsmooth.bench.tasks",
    "register_transform": "graphsmooth.bench.transforms",
    "make_executor": "graphsmooth.bench.executors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'graphsmooth.bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
