"""graphsmooth.bench.alloc: the allocator tuning keeps freed large blocks in the heap."""

import os
import subprocess
import sys

import pytest

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc only",
)

# page faults of 20 allocate-fill-free rounds of a 48 MB tensor, after 10 warm-up rounds (while
# the heap grows to its steady state, glibc 2.36 + torch 2.13: rounds 2-8 still fault)
_PROBE = """
import resource, sys, torch
from graphsmooth.bench.alloc import tune_allocator
tuned = tune_allocator()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    x = torch.ones(12_000_000)
    del x
before = faults()
for _ in range(20):
    x = torch.ones(12_000_000)
    del x
print(int(tuned), faults() - before)
"""


def _probe(setting: str) -> tuple[bool, int]:
    env = {**os.environ, "GRAPHSMOOTH_MALLOC_TUNING": setting, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return bool(int(out[0])), int(out[1])


@glibc
def test_tuning_stops_the_page_faults_of_reallocated_blocks():
    tuned, faults_tuned = _probe("1")
    untuned, faults_default = _probe("0")
    assert tuned and not untuned
    # default glibc: every 48 MB block is a fresh mmap, 11,719 pages faulted in per round
    assert faults_default > 20 * 10_000
    # tuned: the block is reused from the heap, no new pages
    assert faults_tuned < 1_000


def test_disabled_by_the_environment(monkeypatch):
    from graphsmooth.bench import alloc

    monkeypatch.setenv("GRAPHSMOOTH_MALLOC_TUNING", "0")
    assert alloc.tune_allocator() is False
