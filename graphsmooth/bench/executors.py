"""Executors: how the runner's trials are executed.

An executor takes a picklable function and an iterable of payloads and yields
``(payload, result)`` pairs as trials finish, in any order. The runner writes results itself
(one writer, in the main process), so executors never touch the output files.

- :class:`LocalExecutor` runs trials one after another in this process.
- :class:`ProcessPoolExecutor` runs them in ``workers`` processes (``spawn`` start method, each
  worker limited to ``cpu_count // workers`` torch threads).

A distributed executor on an existing engine (e.g. Ray: ``ray.remote(fn)`` per payload and
``ray.wait`` to yield finished ones) implements the same two methods and registers itself in
:data:`EXECUTORS`; nothing else changes.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "ProcessPoolExecutor", "make_executor"]


class Executor:
    """Interface: ``map_unordered(fn, payloads)`` yields ``(payload, fn(payload))`` as trials
    finish; ``close()`` releases resources. Usable as a context manager."""

    def map_unordered(self, fn: Callable, payloads: Iterable) -> Iterator[tuple[Any, Any]]:
        raise NotImplementedError  # pragma: no cover

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalExecutor(Executor):
    """Sequential execution in the calling process.

    Args:
        threads (int, optional): torch intra-op threads while trials run (restored afterwards).
            (default: ``None``, unchanged)
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def map_unordered(self, fn, payloads):
        import torch

        before = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            for payload in payloads:
                yield payload, fn(payload)
        finally:
            torch.set_num_threads(before)


def _init_worker(threads: int, parent: int | None = None) -> None:
    import torch

    torch.set_num_threads(threads)
    if parent is not None:
        _exit_with_parent(parent)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """End this worker once its parent is gone (killed runner: SIGKILL, or SIGTERM, which
    Python does not turn into a clean pool shutdown). Without this the workers are re-parented
    and finish their current trial for nobody, holding the cores a resumed run needs."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="graphsmooth-parent-watch", daemon=True).start()


class ProcessPoolExecutor(Executor):
    """A local process pool.

    Args:
        workers (int): number of processes (>= 1).
        threads (int, optional): torch threads per worker. (default: ``cpu_count // workers``)
        start_method (str): multiprocessing start method. (default: ``"spawn"``, safe with torch)
    """

    def __init__(self, workers: int, threads: int | None = None, start_method: str = "spawn"):
        if workers < 1:
            raise ValueError(f"ProcessPoolExecutor: workers must be >= 1, got {workers}")
        self.workers = workers
        self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context(start_method),
            initializer=_init_worker,
            initargs=(self.threads, os.getpid()),
        )

    def map_unordered(self, fn, payloads):
        payloads = list(payloads)
        futures = {self._pool.submit(fn, p): p for p in payloads}
        try:
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _local(workers: int, threads: int | None) -> Executor:
    if workers <= 1:
        return LocalExecutor(threads)
    return ProcessPoolExecutor(workers, threads)


#: name -> factory(workers, threads); add e.g. "ray" here.
EXECUTORS: dict[str, Callable[[int, int | None], Executor]] = {
    "local": _local,
    "process": lambda workers, threads: ProcessPoolExecutor(workers, threads),
}


def make_executor(workers: int = 1, threads: int | None = None, kind: str = "local") -> Executor:
    """Executor by name: ``local`` (sequential for 1 worker, else a process pool) or ``process``.

    Args:
        workers (int): parallel trial processes. (default: 1)
        threads (int, optional): torch threads per trial process. (default: ``None``: unchanged
            for sequential runs, ``cpu_count // workers`` in a pool)
        kind (str): registered executor name. (default: ``"local"``)
    """
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r}; known: {', '.join(EXECUTORS)}")
    return EXECUTORS[kind](workers, threads)
