"""Allocator tuning for CPU training (glibc on Linux).

Full-batch training allocates and frees the same large tensors every epoch (PubMed: the
19,717 x 500 dropout input, 39 MB; the 256-wide hidden layers, 20 MB). glibc serves blocks
above its mmap threshold (at most 32 MiB with the default dynamic threshold) with fresh
``mmap`` calls and returns them to the kernel on ``free``, so every epoch page-faults and
zeroes them again, and it trims the heap top back to the kernel. On this project's 2-core
machine a PubMed GCN epoch spent about a third of its time in the kernel:

=================  =========  =========
PubMed, 1 thread   default    tuned
=================  =========  =========
GCN   s / epoch    0.664      0.465
GAT   s / epoch    1.046      0.604
wGCN  s / epoch    0.878      0.842
wGAT  s / epoch    2.181      1.446
=================  =========  =========

(20 epochs of each model of ``configs/omega/planetoid_pubmed.yaml``, the two settings run one
after the other, identical accuracies; command in docs/runner.md.)
:func:`tune_allocator` raises the mmap and trim thresholds to 2 GiB with ``mallopt``, so freed
blocks stay in the heap and are reused; the price is that the process keeps its peak heap
(PubMed above: 1.98 GiB peak RSS against 1.77 GiB). The runner calls it in every process
that executes trials; set ``GRAPHSMOOTH_MALLOC_TUNING=0`` to leave the allocator alone. It
changes no number, only where memory comes from. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["tune_allocator"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 2**31 - 1  # mallopt takes an int
_STATE: dict[str, bool] = {}


def tune_allocator() -> bool:
    """Keep freed large blocks in the heap (glibc ``mallopt``: mmap and trim thresholds to
    2 GiB) in this process, once. Returns whether the tuning is in effect: ``False`` when
    ``GRAPHSMOOTH_MALLOC_TUNING=0``, off Linux, or where the C library has no ``mallopt``."""
    if os.environ.get("GRAPHSMOOTH_MALLOC_TUNING", "1").strip() in ("0", "false", "no", "off"):
        return False
    if "done" in _STATE:
        return _STATE["done"]
    ok = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # musl has no mallopt
            mallopt = None
        if mallopt is not None:
            mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            mallopt.restype = ctypes.c_int
            ok = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
            ok = bool(mallopt(_M_TRIM_THRESHOLD, _THRESHOLD)) and ok
    _STATE["done"] = ok
    return ok
