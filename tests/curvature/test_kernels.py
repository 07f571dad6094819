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
    # the exact solver with each table: compiled kernels (bit rows) vs the torch / SciPy
    # lookups
    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(300, 4, seed=5)
    G.add_edges_from(nx.complete_graph(range(280, 300)).edges())
    ei = to_edge_index(G)
    monkeypatch.setattr(orc_module, "distance_table", lambda csr, b: DistanceTable(csr, kind))
    monkeypatch.setattr(orc_module, "_TABLE_WORK_RATIO", 10**9)
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)  # compiled on this small graph
    calls = []
    for name in ("close_pairs_kernel", "edge_max_flow"):  # listed pairs, bit rows
        real = getattr(_kernels, name)
        monkeypatch.setattr(
            _kernels,
            name,
            lambda *a, _real=real, **kw: calls.append(a[0]) or _real(*a, **kw),
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


def _scipy_closure_flow(a, b, pairs):
    """Max-flow of one problem's closure network with SciPy (the reference)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    ns, nt, inf = len(a), len(b), 2**30
    x2 = [2 + 2 * s for s in range(ns)]
    y1 = [2 + 2 * ns + 2 * t for t in range(nt)]
    arcs = {}
    for s in range(ns):
        arcs[0, x2[s]] = arcs[0, x2[s] + 1] = int(a[s])
        arcs[x2[s] + 1, x2[s]] = inf
    for t in range(nt):
        arcs[y1[t], 1] = arcs[y1[t] + 1, 1] = int(b[t])
        arcs[y1[t] + 1, y1[t]] = inf
    for s, t, c in pairs:
        if c == 1:
            arcs[x2[s], y1[t]] = arcs[x2[s] + 1, y1[t] + 1] = inf
        else:
            arcs[x2[s] + 1, y1[t]] = inf
    r, cl = zip(*arcs, strict=True)
    n = 2 + 2 * ns + 2 * nt
    g = csr_matrix((np.array(list(arcs.values()), np.int32), (r, cl)), shape=(n, n))
    return maximum_flow(g, 0, 1, method="dinic").flow_value


def test_flow_kernel_equals_scipy_max_flow():
    # random closure networks, one per problem, solved together by the compiled kernel and
    # one by one by SciPy's Dinic; points given in shuffled order (the kernel groups them)
    rng = np.random.default_rng(7)
    P = 40
    src_edge, snk_edge, a, b, pi, pj, pc, want = [], [], [], [], [], [], [], []
    ns_tot = nt_tot = 0
    for e in range(P):
        ns, nt = int(rng.integers(0, 9)), int(rng.integers(0, 9))
        if e == 0:
            ns, nt = 30, 25  # one large problem
        ma, mb = rng.integers(1, 50, ns), rng.integers(1, 50, nt)
        pairs = []
        for s in range(ns):
            for t in range(nt):
                u = rng.random()
                if u < 0.35:
                    pairs.append((s, t, 1 if u < 0.15 else 2))
        want.append(_scipy_closure_flow(ma, mb, pairs) if ns and nt else 0)
        src_edge += [e] * ns
        snk_edge += [e] * nt
        a += ma.tolist()
        b += mb.tolist()
        for s, t, c in pairs:
            pi.append(ns_tot + s)
            pj.append(nt_tot + t)
            pc.append(c)
        ns_tot, nt_tot = ns_tot + ns, nt_tot + nt
    # shuffle the points and the pairs
    ps, pt = rng.permutation(ns_tot), rng.permutation(nt_tot)
    inv_s, inv_t = np.argsort(ps), np.argsort(pt)
    q = rng.permutation(len(pi))
    got = _kernels.closure_max_flow(
        P,
        np.array(src_edge)[ps],
        np.array(a)[ps],
        np.array(snk_edge)[pt],
        np.array(b)[pt],
        inv_s[np.array(pi)][q],
        inv_t[np.array(pj)][q],
        np.array(pc)[q],
        2**30,
    )
    assert got.tolist() == want
    assert sum(w > 0 for w in want) > 20  # most problems carry flow


@pytest.mark.parametrize("merge_ratio", [0.0, 6.0, float("inf")])
def test_compiled_flow_with_and_without_merging_equals_scipy(merge_ratio, monkeypatch):
    # the compiled max-flow on merged points (ratio 0), unmerged ones (inf) or a mix (hub
    # edges of the clique merged) gives the same curvature as SciPy's max-flow on merged points
    import graphsmooth.curvature._exact as exact_module
    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(300, 4, seed=11)
    G.add_edges_from(nx.complete_graph(range(270, 300)).edges())
    ei = to_edge_index(G)
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)
    monkeypatch.setattr(exact_module, "_BIT_FLOW", False)  # the listed-pair max-flow
    flows = []
    real = _kernels.closure_max_flow
    monkeypatch.setattr(
        _kernels, "closure_max_flow", lambda *a, **kw: flows.append(a[0]) or real(*a, **kw)
    )
    out = {}
    for flag in (True, False):
        monkeypatch.setattr(exact_module, "_FLOW_KERNEL", flag)
        monkeypatch.setattr(exact_module, "_MERGE_RATIO", merge_ratio)
        for alpha in (0.0, 0.5):
            orc_module._LAST.clear()
            out[flag, alpha] = ollivier_ricci(ei, 300, alpha=alpha).curvature
    assert flows  # the compiled max-flow ran
    for alpha in (0.0, 0.5):
        assert torch.equal(out[True, alpha], out[False, alpha])


# ----------------------------------------------------------------------------- bit rows
def _dense_graph(n, seed):
    # a random graph whose neighbourhoods are dense and close (as Squirrel's), with a hub
    G = nx.gnp_random_graph(n, 0.2, seed=seed)
    G.add_edges_from((0, x) for x in range(1, n, 2))
    return G


@pytest.mark.parametrize("kind", ["csr", "dense", "bitmap"])
def test_bitset_flow_equals_scipy_closure_flow(kind):
    # random problems (disjoint source / sink node sets, random integer masses) over a dense
    # graph: the bit-row max-flow of the reduced network equals SciPy's Dinic on the full
    # closure network (chain arcs included) built from brute-force distances; rows of 1-3
    # words, more sources than sinks (swapped inside), empty sides, problems switched off
    rng = np.random.default_rng(3)
    n = 200
    G = _dense_graph(n, seed=4)
    csr = to_csr(to_edge_index(G), n)
    table = DistanceTable(csr, kind)
    hops = _hops(G, n)
    sizes = [(0, 5), (7, 0), (1, 1), (70, 3), (3, 130), (64, 64), (20, 65), (150, 40)]
    sizes += [tuple(rng.integers(1, 40, 2)) for _ in range(20)]
    cnt_s, cnt_t, s_node, t_node, a, b, want = [], [], [], [], [], [], []
    for ns, nt in sizes:
        nodes = rng.choice(n, ns + nt, replace=False)
        ma, mb = rng.integers(1, 40, ns), rng.integers(1, 40, nt)
        pairs = [
            (s, t, int(hops[nodes[s], nodes[ns + t]]))
            for s in range(ns)
            for t in range(nt)
            if hops[nodes[s], nodes[ns + t]] < 3
        ]
        want.append(_scipy_closure_flow(ma, mb, pairs) if ns and nt else 0)
        cnt_s.append(ns)
        cnt_t.append(nt)
        s_node += nodes[:ns].tolist()
        t_node += nodes[ns:].tolist()
        a += ma.tolist()
        b += mb.tolist()
    on = np.ones(len(sizes), bool)
    on[-1] = False  # switched off: 0
    want[-1] = 0
    got = _kernels.bitset_max_flow(kind, table.arrays(), n, cnt_s, s_node, a, cnt_t, t_node, b, on)
    assert got.tolist() == want
    assert sum(w > 0 for w in want) > 20


@pytest.mark.parametrize("kind", ["csr", "dense", "bitmap"])
def test_bit_path_curvature_equals_listed_pairs_and_pot(kind, monkeypatch):
    # the whole solver on a dense graph: every edge by the bit-row kernel (problems built in
    # it, twins merged) gives the same curvature as the listed-pair path and as POT's
    # per-edge optimal transport
    import graphsmooth.curvature._exact as exact_module
    import graphsmooth.curvature.ollivier as orc_module

    from ._ref import pot_curvature

    G = _dense_graph(90, seed=6)
    ei = to_edge_index(G)
    monkeypatch.setattr(orc_module, "distance_table", lambda csr, b: DistanceTable(csr, kind))
    monkeypatch.setattr(orc_module, "_TABLE_WORK_RATIO", 10**9)
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)
    ran = []
    real = _kernels.edge_max_flow
    monkeypatch.setattr(
        _kernels, "edge_max_flow", lambda *x: ran.append(int(x[-1].sum())) or real(*x)
    )
    for alpha in (0.0, 0.5):
        out = {}
        for flag in (True, False):
            monkeypatch.setattr(exact_module, "_BIT_FLOW", flag)
            orc_module._LAST.clear()
            out[flag] = ollivier_ricci(ei, 90, alpha=alpha)
        assert torch.equal(out[True].curvature, out[False].curvature)
        ref = pot_curvature(G, alpha)
        res = out[True]
        got = {
            tuple(p): k
            for p, k in zip(res.pairs.T.tolist(), res.pair_curvature.tolist(), strict=True)
        }
        assert max(abs(got[e] - ref[e]) for e in ref) < 1e-9
    assert ran and sum(ran) > 0.9 * G.number_of_edges()  # most problems took the bit rows


@pytest.mark.parametrize("rows_max", [1 << 22, 8])
def test_bit_path_with_twins_alpha_and_routing(rows_max, monkeypatch):
    # false twins merged inside the kernel (the leaves of complete bipartite blocks), an
    # alpha with q != 2, and (rows_max=8) the edges whose bit matrices do not fit routed to
    # the listed-pair path: the same curvature as the listed-pair path, and POT's
    import graphsmooth.curvature._exact as exact_module
    import graphsmooth.curvature.ollivier as orc_module
    from graphsmooth.curvature._exact import bit_rows_fit, twin_classes, worth_merging

    from ._ref import pot_curvature

    G = nx.complete_bipartite_graph(4, 30)  # leaves 4..33: one twin class N = {0, 1, 2, 3}
    G.add_edges_from((a + 34, b + 34) for a, b in nx.gnp_random_graph(60, 0.15, seed=2).edges())
    G.add_edges_from((k, 34 + 7 * k + j) for k in range(4) for j in range(6))
    ei = to_edge_index(G)
    n = G.number_of_nodes()
    csr = to_csr(ei, n)
    assert worth_merging(csr, twin_classes(csr)) is not None  # twins are merged here
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)
    monkeypatch.setattr(exact_module, "_BIT_ROWS_MAX", rows_max)
    fit = bit_rows_fit(csr.deg[csr.row], csr.deg[csr.col])
    if rows_max == 8:
        assert 0 < int(fit.sum()) < fit.numel()  # both routes taken
    out = {}
    for flag in (True, False):
        monkeypatch.setattr(exact_module, "_BIT_FLOW", flag)
        orc_module._LAST.clear()
        out[flag] = ollivier_ricci(ei, n, alpha=0.3)
    assert torch.equal(out[True].curvature, out[False].curvature)
    ref = pot_curvature(G, 0.3)
    res = out[True]
    got = dict(zip(map(tuple, res.pairs.T.tolist()), res.pair_curvature.tolist(), strict=True))
    assert max(abs(got[e] - ref[e]) for e in ref) < 1e-9


def test_bit_path_in_worker_processes(monkeypatch):
    # forked workers run the bit-row kernel compiled by the parent: same values as one process
    import graphsmooth.curvature.ollivier as orc_module

    G = _dense_graph(150, seed=9)
    ei = to_edge_index(G)
    monkeypatch.setattr(orc_module, "_COMPILED_MIN_WORK", 0)
    monkeypatch.setattr(orc_module, "_PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(orc_module, "_BIT_CHUNK_FACTOR", 1)
    one = ollivier_ricci(ei, 150).curvature
    orc_module._LAST.clear()
    two = ollivier_ricci(ei, 150, workers=2, chunk_pairs=20_000).curvature
    assert torch.equal(one, two)


def test_compiled_two_hop_table_equals_scipy_and_brute_force(monkeypatch):
    # the sparse 2-hop table built row by row by the compiled kernel is SciPy's (A + cI)^2
    # table to the byte, and every entry is the networkx distance (1 or 2; absent = 3)
    G = nx.barabasi_albert_graph(400, 3, seed=2)
    G.add_edges_from(nx.complete_graph(range(380, 400)).edges())
    G.add_node(400)  # isolated: an empty row
    n = 401
    csr = to_csr(to_edge_index(G), n)
    got = DistanceTable(csr, "csr")
    monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", "1")
    _kernels._compiled.cache_clear()
    ref = DistanceTable(csr, "csr")  # SciPy's product
    monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", "")
    _kernels._compiled.cache_clear()
    for name in ("indptr", "indices", "data"):
        a, b = getattr(got, name), getattr(ref, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    hops = _hops(G, n)
    dense = np.full((n, n), 3)
    rows = np.repeat(np.arange(n), np.diff(got.indptr))
    dense[rows, got.indices] = got.data
    np.fill_diagonal(dense, 0)
    np.fill_diagonal(hops, 0)
    assert np.array_equal(dense, hops)
    assert got.indptr[-1] > 5000  # not a trivial table


def test_table_kind_by_memory_with_the_compiled_kernels(monkeypatch):
    # with the compiled kernels a 2-bit map much larger than the sparse table gives way to the
    # sparse table (built compiled); without them the 2-bit map stays (SciPy's sparse lookups
    # are the slow path); small maps stay either way
    import graphsmooth.curvature._exact as exact_module
    from graphsmooth.curvature._exact import distance_table

    G = nx.barabasi_albert_graph(9000, 2, seed=0)  # above the byte table's ~8,000 nodes
    csr = to_csr(to_edge_index(G), 9000)
    assert distance_table(csr, 4_000_000).kind == "bitmap"  # 20 MB: below the free size
    monkeypatch.setattr(exact_module, "_BITMAP_FREE_BYTES", 2**20)
    assert distance_table(csr, 4_000_000).kind == "csr"
    monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", "1")
    _kernels._compiled.cache_clear()
    try:
        assert distance_table(csr, 4_000_000).kind == "bitmap"
    finally:
        monkeypatch.setenv("GRAPHSMOOTH_NO_NUMBA", "")
        _kernels._compiled.cache_clear()
