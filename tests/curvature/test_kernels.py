"""The compiled close-pair kernel (Numba, optional) against brute force and the SciPy path."""

import networkx as nx
import numpy as np
import pytest
import torch

from graphsmooth.curvature import _kernels, ollivier_ricci
from graphsmooth.curvature._exact import DistanceTable
from graphsmooth.graph import to_csr

from ._ref import to_edge_index

pytestmark = pytest.mark.skipif(not _kernels.have_kernel(), reason="Numba not installed")


def _hops(G, n):
    d = np.full((n, n), 3, dtype=np.int64)
    for s, lengths in nx.all_pairs_shortest_path_length(G, cutoff=2):
        for t, h in lengths.items():
            d[s, t] = h
    return d


@pytest.mark.parametrize("kind", ["csr", "dense", "bitmap"])
@pytest.mark.parametrize("capacity", [None, 1, 7])
def test_kernel_finds_exactly_the_close_pairs(kind, capacity):
    # random "problems" over a random graph: each pairs a run of points with another run;
    # the kernel must list every pair at distance 1 or 2 (brute force from networkx), once,
    # with its distance -- also with tiny output buffers (capacity 1 and 7: many calls)
    rng = np.random.default_rng(0)
    G = nx.barabasi_albert_graph(80, 3, seed=1)
    G.add_edges_from(nx.complete_graph(range(60, 70)).edges())
    n = 80
    csr = to_csr(to_edge_index(G), n)
    table = DistanceTable(csr, kind)
    hops = _hops(G, n)
    E = 60
    k = rng.integers(0, 12, E)
    nb = rng.integers(0, 30, E)
    k[3], nb[5] = 0, 0  # empty sides
    # each problem: its X run then its Y run; a side's nodes are distinct (as in the solver)
    runs, x_start, y_start, at = [], [], [], 0
    for e in range(E):
        side = rng.choice(n, k[e] + nb[e], replace=False)
        runs.append(side)
        x_start.append(at)
        y_start.append(at + k[e])
        at += side.size
    pt_node = np.concatenate(runs)
    x_start, y_start = np.array(x_start), np.array(y_start)
    arrays = {
        "csr": lambda: (table.indptr, table.indices, table.data),
        "dense": lambda: (table.dense.numpy(),),
        "bitmap": lambda: (table.bits.numpy(),),
    }[kind]()
    xs, ys, cs = _kernels.close_pairs_kernel(
        kind, arrays, n, pt_node, x_start, k, y_start, nb, capacity
    )
    got = sorted(zip(xs.tolist(), ys.tolist(), cs.tolist(), strict=True))
    want = []
    for e in range(E):
        for a in range(k[e]):
            for b in range(nb[e]):
                x, y = x_start[e] + a, y_start[e] + b
                h = hops[pt_node[x], pt_node[y]]
                if h in (1, 2):
                    want.append((int(x), int(y), int(h)))
    assert got == sorted(want)
    assert len(want) > 100  # the case is not trivial


@pytest.mark.parametrize("kind", ["csr", "dense", "bitmap"])
def test_kernel_and_scipy_paths_give_identical_curvature(kind, monkeypatch):
    # the exact solver with each table: compiled kernel vs the torch / SciPy lookups
    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(300, 4, seed=5)
    G.add_edges_from(nx.complete_graph(range(280, 300)).edges())
    ei = to_edge_index(G)
    monkeypatch.setattr(orc_module, "distance_table", lambda csr, b: DistanceTable(csr, kind))
    monkeypatch.setattr(orc_module, "_TABLE_WORK_RATIO", 10**9)
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)  # compiled on this small graph
    calls = []
    real = _kernels.close_pairs_kernel
    monkeypatch.setattr(
        _kernels, "close_pairs_kernel", lambda *a, **kw: calls.append(a[0]) or real(*a, **kw)
    )
    out = {}
    for flag in ("", "1"):
        monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", flag)
        _kernels._compiled.cache_clear()
        orc_module._LAST.clear()
        assert _kernels.have_kernel() == (flag == "")
        for alpha in (0.0, 0.5):
            out[flag, alpha] = ollivier_ricci(ei, 300, alpha=alpha).curvature
    _kernels._compiled.cache_clear()
    assert calls and set(calls) == {kind}  # the compiled path ran (only without the flag)
    for alpha in (0.0, 0.5):
        assert torch.equal(out["", alpha], out["1", alpha])


def test_compiled_kernel_in_worker_processes(monkeypatch):
    # the parent compiles before forking; the workers' curvature equals one process without
    # the kernel
    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(300, 4, seed=3)
    ei = to_edge_index(G)
    monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", "1")
    _kernels._compiled.cache_clear()
    ref = ollivier_ricci(ei, 300)
    monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", "")
    _kernels._compiled.cache_clear()
    monkeypatch.setattr(orc_module, "_PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)
    warmed = []
    real = _kernels.warm_up
    monkeypatch.setattr(_kernels, "warm_up", lambda *a: warmed.append(a[0]) or real(*a))
    par = ollivier_ricci(ei.clone(), 300, workers=2, chunk_pairs=2_000)
    assert warmed == ["dense"]
    assert torch.equal(par.pair_curvature, ref.pair_curvature)
