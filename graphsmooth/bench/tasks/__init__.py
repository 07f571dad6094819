"""Benchmark tasks: a registry of named tasks the runner can execute.

A task is a class registered with :func:`register_task`. It declares

- ``Config``: a dataclass (subclass of :class:`graphsmooth.bench.config.RunConfig`) whose fields
  are the task's strict YAML schema (unknown keys, wrong types and missing fields are errors);
- ``trials(config) -> list[dict]``: the trials of one sweep point (seeds x splits), each a small
  JSON-able dict such as ``{"seed": 3, "split": 0}``;
- ``run_trial(config, trial) -> dict[str, float]``: run one trial and return its metrics;
- optionally ``validate(config)`` (cheap checks before any training: dataset / model names),
  ``prepare(config)`` (work shared by all trials of a point, e.g. transform caching, run once in
  the main process), ``labels(config) -> (method, dataset)`` (table row / column) and the class
  attributes ``metrics`` (reported metrics, primary first) and ``higher_is_better``.

Adding a task is one module plus one line in :data:`TASK_MODULES` (see ``docs/runner.md``):
modules are imported lazily by name, so a task whose module is absent does not break the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["TASKS", "TASK_MODULES", "Task", "get_task", "register_task", "task_names"]

#: task name -> module that registers it (imported on first use).
TASK_MODULES: dict[str, str] = {
    "node_classification": "graphsmooth.bench.tasks.classification",
    "graph_classification": "graphsmooth.bench.tasks.classification",
    "signal_recovery": "graphsmooth.bench.tasks.signal_recovery",
    "smoothing": "graphsmooth.bench.tasks.smoothing",
    "hmm": "graphsmooth.bench.tasks.hmm",
}

#: task name -> task class (filled by :func:`register_task` when a module is imported).
TASKS: dict[str, type] = {}


class Task:
    """Base class with the optional hooks' defaults. Subclasses set ``Config`` and implement
    :meth:`trials` and :meth:`run_trial`."""

    name: str = ""
    Config: type = None  # type: ignore[assignment]
    #: metrics shown in tables, primary first
    metrics: tuple[str, ...] = ("test_acc",)
    higher_is_better: bool = True

    def validate(self, config) -> None:
        """Raise :class:`~graphsmooth.bench.config.ConfigError` for problems found before training."""

    def prepare(self, config) -> None:
        """Work shared by every trial of this sweep point (runs once, in the main process)."""

    def trials(self, config) -> list[dict]:
        """The trials of one cell: by default one per seed of ``config.seed_list``."""
        return [{"seed": s} for s in config.seed_list]

    def run_trial(self, config, trial: dict) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def labels(self, config) -> tuple[str, str]:
        """(method, dataset) labels of a sweep point: the table's row and column."""
        dataset = getattr(config, "dataset", "")
        dataset = getattr(dataset, "label", None) or getattr(dataset, "name", dataset)
        return self.name, str(dataset)


def register_task(name: str) -> Callable[[type], type]:
    """Class decorator registering a task under ``name``."""

    def decorator(cls: type) -> type:
        if name in TASKS and TASKS[name] is not cls:
            raise ValueError(f"register_task: the task {name!r} is already registered")
        cls.name = name
        TASKS[name] = cls
        return cls

    return decorator


def task_names() -> list[str]:
    """Names of all known tasks (registered or importable by name)."""
    return sorted(set(TASK_MODULES) | set(TASKS))


def get_task(name: str) -> Task:
    """Instantiate the task ``name``, importing its module on first use.

    Raises:
        ValueError: unknown task (with the known names) or a task whose module is not available.
    """
    if name not in TASKS:
        module = TASK_MODULES.get(name)
        if module is None:
            raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(task_names())}")
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                raise ValueError(
                    f"task {name!r} is not available: module {module} is missing"
                ) from exc
            raise
        if name not in TASKS:
            raise ValueError(f"module {module} did not register the task {name!r}")
    return TASKS[name]()
