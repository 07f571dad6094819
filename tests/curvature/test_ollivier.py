import math
import warnings

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphsmooth.curvature import ollivier_ricci
from graphsmooth.curvature._exact import alpha_fraction, exact_w1
from graphsmooth.graph import simple_undirected, to_csr, undirected_pairs

from ._ref import pot_curvature, to_edge_index


def _check_against_pot(G, alpha, atol=1e-12):
    n = G.number_of_nodes()
    res = ollivier_ricci(to_edge_index(G), n, alpha=alpha)
    ref = pot_curvature(G, alpha)
    assert res.pairs.size(1) == len(ref)
    for k, (u, v) in enumerate(res.pairs.T.tolist()):
        assert res.pair_curvature[k].item() == pytest.approx(ref[(u, v)], abs=atol), (u, v)
    return res


@pytest.mark.parametrize("n", [2, 3, 5, 8])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.2])
def test_complete_graph_closed_form(n, alpha):
    # common neighbours cancel; only (v -> u) mass is left: W1 = |alpha - (1 - alpha) / (n - 1)|
    res = ollivier_ricci(to_edge_index(nx.complete_graph(n)), n, alpha=alpha)
    expected = 1.0 - abs(alpha - (1 - alpha) / (n - 1))
    assert torch.allclose(res.curvature, torch.full_like(res.curvature, expected), atol=1e-14)


@pytest.mark.parametrize(
    "n,alpha,expected",
    # alpha = 0: both walks step off the edge, 1 hop each -> flat. alpha = 1/2 (hand-computed):
    # C4: 1/4 moves 0->1 and 3->2 (W1 = 1/2); C5: 0->1 and 4->2 at 1 and 2 hops (W1 = 3/4);
    # n >= 6: u->v at 1 hop plus (u-1)->(v+1) at 3 hops (W1 = 1).
    [(4, 0.0, 0.0), (5, 0.0, 0.0), (9, 0.0, 0.0), (4, 0.5, 0.5), (5, 0.5, 0.25), (6, 0.5, 0.0)],
)
def test_cycle(n, alpha, expected):
    res = ollivier_ricci(to_edge_index(nx.cycle_graph(n)), n, alpha=alpha)
    assert torch.allclose(res.curvature, torch.full_like(res.curvature, expected), atol=1e-14)


@pytest.mark.parametrize("leaves", [1, 2, 5])
def test_star(leaves):
    G = nx.star_graph(leaves)
    ei = to_edge_index(G)
    # alpha = 0: the leaf's measure is delta_centre, every leaf is at distance 1 -> kappa = 0
    assert torch.allclose(ollivier_ricci(ei, alpha=0.0).curvature, torch.zeros(ei.size(1)).double())
    # alpha = 1/2: the other leaves' mass (1/2n each) travels 2 hops to the leaf -> kappa = 1/n
    k = ollivier_ricci(ei, alpha=0.5).curvature
    assert torch.allclose(k, torch.full_like(k, 1.0 / leaves), atol=1e-14)


def test_grid_interior_edges_are_flat():
    G = nx.convert_node_labels_to_integers(nx.grid_2d_graph(6, 6), ordering="sorted")
    res = ollivier_ricci(to_edge_index(G), 36)
    deg = torch.tensor([G.degree(i) for i in range(36)])
    interior = (deg[res.pairs[0]] == 4) & (deg[res.pairs[1]] == 4)
    assert interior.sum() > 10
    assert torch.allclose(res.pair_curvature[interior], torch.zeros(int(interior.sum())).double())
    _check_against_pot(G, 0.0)


def test_random_tree_formula():
    # on a tree, kappa(u, v) = -2 (1 - 1/d_u - 1/d_v)_+  (alpha = 0)
    g = torch.Generator().manual_seed(3)
    n = 60
    parent = torch.tensor([int(torch.randint(0, i, (1,), generator=g)) for i in range(1, n)])
    child = torch.arange(1, n)
    ei = torch.cat([torch.stack([parent, child]), torch.stack([child, parent])], 1)
    res = ollivier_ricci(ei, n)
    deg = torch.bincount(ei[0], minlength=n).double()
    du, dv = deg[res.pairs[0]], deg[res.pairs[1]]
    expected = -2 * (1 - 1 / du - 1 / dv).clamp(min=0)
    assert torch.allclose(res.pair_curvature, expected, atol=1e-14)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(2, 22),
    p=st.floats(0.05, 0.7),
    seed=st.integers(0, 10_000),
    alpha=st.sampled_from([0.0, 0.5, 0.25, 0.1]),
)
def test_agrees_with_pot_on_random_graphs(n, p, seed, alpha):
    G = nx.gnp_random_graph(n, p, seed=seed)
    if G.number_of_edges() == 0:
        return
    _check_against_pot(G, alpha)


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_pot_hubs_and_clusters(seed):
    # large supports (max-flow path) and many triangles (cancellation)
    G = nx.barabasi_albert_graph(45, 4, seed=seed)
    G.add_edges_from(nx.complete_graph(range(37, 45)).edges())
    _check_against_pot(G, 0.0)
    _check_against_pot(G, 0.5)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_small_solver_equals_max_flow(alpha):
    G = nx.powerlaw_cluster_graph(120, 3, 0.4, seed=5)
    ei, _, n = simple_undirected(to_edge_index(G), 120)
    csr = to_csr(ei, n, canonical=False)
    u, v = undirected_pairs(ei)
    p, q = alpha_fraction(alpha, 10**6)
    w_flow, _ = exact_w1(csr, u, v, p, q, small_k=0)
    w_small, _ = exact_w1(csr, u, v, p, q, small_k=6)
    assert torch.equal(w_flow, w_small)


def test_plans_are_optimal_couplings():
    G = nx.powerlaw_cluster_graph(40, 3, 0.3, seed=1)
    for alpha in (0.0, 0.5):
        res = ollivier_ricci(to_edge_index(G), 40, alpha=alpha, return_plans=True)
        pl = res.plans
        E = res.pairs.size(1)
        cost = torch.zeros(E, dtype=torch.float64).index_add_(0, pl.pair, pl.mass * pl.dist)
        assert torch.allclose(1 - cost, res.pair_curvature, atol=1e-12)
        assert (pl.mass > 0).all() and ((pl.dist >= 0) & (pl.dist <= 3)).all()
        assert torch.equal(pl.src == pl.dst, pl.dist == 0)
        # marginals: sum over dst of plan = m_u, sum over src = m_v
        for e in [0, E // 2, E - 1]:
            u, v = res.pairs[:, e].tolist()
            sel = pl.pair == e
            for x, side in ((u, pl.src), (v, pl.dst)):
                nb = list(G.neighbors(x))
                for y in set(nb + [x]):
                    want = (1 - alpha) / len(nb) * (y in nb) + alpha * (y == x)
                    got = pl.mass[sel & (side == y)].sum().item()
                    assert got == pytest.approx(want, abs=1e-12)
            # the stated distances are hop distances
            for s, t, d in zip(
                pl.src[sel].tolist(), pl.dst[sel].tolist(), pl.dist[sel].tolist(), strict=True
            ):
                assert nx.shortest_path_length(G, s, t) == d


def test_symmetry_duplicates_self_loops():
    ei = torch.tensor([[0, 1, 1, 2, 2, 0, 2, 3, 3, 3, 0], [1, 0, 2, 1, 0, 2, 3, 2, 3, 2, 1]])
    res = ollivier_ricci(ei, 4)
    k = res.curvature
    assert k[0] == k[1] == k[10]  # (0,1), (1,0) and a duplicate (0,1)
    assert k[6] == k[7] == k[9]
    assert math.isnan(k[8])  # the self loop (3, 3)
    assert res.column_pair[8] == -1
    assert res.pairs.size(1) == 4
    # the self loop does not change the graph
    ref = ollivier_ricci(ei[:, [0, 1, 2, 3, 4, 5, 6, 7]], 4)
    assert torch.equal(ref.pair_curvature, res.pair_curvature)


def test_directed_input_is_symmetrised_with_warning():
    G = nx.gnp_random_graph(15, 0.3, seed=2)
    one_way = torch.tensor(list(G.edges())).T
    with pytest.warns(UserWarning, match="directed"):
        r1 = ollivier_ricci(one_way, 15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r2 = ollivier_ricci(to_edge_index(G), 15)
    assert torch.equal(r1.pair_curvature, r2.pair_curvature)
    assert r1.curvature.numel() == one_way.size(1)


def test_isolated_and_degree_one_nodes():
    # node 4 isolated; 3 is a leaf hanging on a triangle
    ei = torch.tensor([[0, 1, 1, 2, 2, 0, 2, 3], [1, 0, 2, 1, 0, 2, 3, 2]])
    res = ollivier_ricci(ei, 5)
    by_pair = dict(zip(map(tuple, res.pairs.T.tolist()), res.pair_curvature.tolist(), strict=True))
    assert by_pair[(0, 1)] == pytest.approx(0.5)
    assert by_pair[(0, 2)] == pytest.approx(1 / 3)
    assert by_pair[(1, 2)] == pytest.approx(1 / 3)
    assert by_pair[(2, 3)] == pytest.approx(0.0)
    empty = ollivier_ricci(torch.zeros(2, 0, dtype=torch.long), 3)
    assert empty.curvature.numel() == 0 and empty.pairs.size(1) == 0


def test_permutation_invariance():
    G = nx.powerlaw_cluster_graph(50, 3, 0.3, seed=7)
    ei = to_edge_index(G)
    perm = torch.randperm(50, generator=torch.Generator().manual_seed(0))
    r1 = ollivier_ricci(ei, 50, alpha=0.5)
    r2 = ollivier_ricci(perm[ei], 50, alpha=0.5)
    assert torch.allclose(r1.curvature, r2.curvature, atol=1e-15)


def test_graphricci_curvature_otd_agrees():
    from GraphRicciCurvature.OllivierRicci import OllivierRicci

    G = nx.karate_club_graph()
    for _, _, d in G.edges(data=True):
        d.clear()  # karate carries integer weights that GRC would use
    orc = OllivierRicci(G, alpha=0.5, method="OTD", proc=1, verbose="ERROR")
    orc.compute_ricci_curvature()
    res = ollivier_ricci(to_edge_index(G), 34, alpha=0.5)
    for k, (u, v) in enumerate(res.pairs.T.tolist()):
        assert res.pair_curvature[k].item() == pytest.approx(
            orc.G[u][v]["ricciCurvature"], abs=1e-9
        )


def test_sinkhorn_approximates_exact_and_warns():
    G = nx.powerlaw_cluster_graph(30, 3, 0.3, seed=4)
    ei = to_edge_index(G)
    exact = ollivier_ricci(ei, 30).pair_curvature
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converges
        sk = ollivier_ricci(ei, 30, method="sinkhorn", reg=0.25, tol=1e-7).pair_curvature
    # a coupling with (nearly) exact marginals costs at least W1: curvature from below
    assert (sk <= exact + 1e-6).all()
    assert (exact - sk).abs().max() < 0.2
    sk2 = ollivier_ricci(ei, 30, method="sinkhorn", reg=0.5, tol=1e-7).pair_curvature
    assert (exact - sk2).mean() > (exact - sk).mean()  # bias grows with the regularisation
    with pytest.warns(RuntimeWarning, match="did not converge"):
        ollivier_ricci(ei, 30, method="sinkhorn", max_iter=1)


def test_errors():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="method"):
        ollivier_ricci(ei, method="nope")
    with pytest.raises(ValueError, match="alpha"):
        ollivier_ricci(ei, alpha=1.0)
    with pytest.raises(ValueError, match="return_plans"):
        ollivier_ricci(ei, method="bounds", return_plans=True)
    with pytest.raises(ValueError, match="alpha"):
        ollivier_ricci(ei, alpha=0.123456789123)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_edge_subset_equals_full_computation(alpha):
    # a hub-heavy graph with cliques: subsets take the table path and the per-pair path
    G = nx.barabasi_albert_graph(60, 3, seed=2)
    G.add_edges_from(nx.complete_graph(range(50, 60)).edges())
    ei = to_edge_index(G)
    full = ollivier_ricci(ei, 60, alpha=alpha, return_plans=True)
    gen = torch.Generator().manual_seed(0)
    for k in (1, 7, full.pairs.size(1) // 2):
        pick = torch.randperm(full.pairs.size(1), generator=gen)[:k]
        edges = full.pairs[:, pick].flip(0)  # the other orientation is accepted too
        sub = ollivier_ricci(ei, 60, alpha=alpha, edges=edges, return_plans=True)
        assert torch.equal(sub.pairs, full.pairs)
        done = ~torch.isnan(sub.pair_curvature)
        assert int(done.sum()) == int(torch.unique(pick).numel())
        assert done[pick].all()
        torch.testing.assert_close(
            sub.pair_curvature[done], full.pair_curvature[done], atol=1e-12, rtol=0
        )
        # plans only for the chosen edges, and equal-cost couplings for them
        assert set(sub.plans.pair.tolist()) == set(pick.tolist())
        cost = torch.zeros(sub.pairs.size(1), dtype=torch.float64)
        cost.index_add_(0, sub.plans.pair, sub.plans.mass * sub.plans.dist)
        torch.testing.assert_close(1 - cost[done], full.pair_curvature[done], atol=1e-12, rtol=0)
        b = ollivier_ricci(ei, 60, alpha=alpha, method="bounds", edges=edges)
        bf = ollivier_ricci(ei, 60, alpha=alpha, method="bounds")
        torch.testing.assert_close(b.pair_lower[done], bf.pair_lower[done])
        assert torch.isnan(b.pair_upper[~done]).all()


def test_edge_subset_errors():
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    with pytest.raises(ValueError, match=r"\[0, 2\].*not an edge"):
        ollivier_ricci(ei, 3, edges=torch.tensor([[0], [2]]))
    with pytest.raises(ValueError, match="shape"):
        ollivier_ricci(ei, 3, edges=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="sinkhorn"):
        ollivier_ricci(ei, 3, method="sinkhorn", edges=torch.tensor([[0], [1]]))


def _blow_up(G: nx.Graph, copies: dict[int, int]) -> nx.Graph:
    """Replace node x by ``copies[x]`` false twins (same neighbourhood, not adjacent)."""
    H = nx.Graph()
    names = {x: [(x, c) for c in range(copies.get(x, 1))] for x in G.nodes()}
    for x in G.nodes():
        H.add_nodes_from(names[x])
    for a, b in G.edges():
        H.add_edges_from((p, q) for p in names[a] for q in names[b])
    return nx.convert_node_labels_to_integers(H, ordering="sorted")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_false_twins_are_merged_exactly(seed, alpha):
    # many false twins (also twins of edge endpoints): the merged problems must stay exact
    from graphsmooth.curvature._exact import twin_classes, worth_merging

    base = nx.gnp_random_graph(12, 0.3, seed=seed)
    rng = torch.Generator().manual_seed(seed)
    copies = {x: int(torch.randint(1, 4, (1,), generator=rng)) for x in base.nodes()}
    G = _blow_up(base, copies)
    m = G.number_of_nodes()
    G.add_edges_from([(m + i, 0) for i in range(3)])  # three leaves on node 0: twins too
    _check_against_pot(G, alpha)
    # the classes are exactly the groups of equal open neighbourhoods
    ei, _, n = simple_undirected(to_edge_index(G), G.number_of_nodes())
    csr = to_csr(ei, n, canonical=False)
    rep = twin_classes(csr)
    assert rep is not None
    assert worth_merging(csr, rep) is rep  # many twins: the solver above merged them
    for x in G.nodes():  # isolated nodes carry no edge and stay alone
        want = min(y for y in G.nodes() if set(G[y]) == set(G[x])) if G.degree(x) else x
        assert int(rep[x]) == want


def test_twins_are_merged_only_where_they_hold_a_tenth_of_the_edge_ends():
    from graphsmooth.curvature._exact import twin_classes, worth_merging

    # a path 0-1-2-3-4-5 plus leaves: k leaves on node 0 are twins of each other (and of
    # nothing else); share = (k leaf ends) / (2 * edges) = k / (28 + 2k): 0.06, 0.09, 0.11, 0.15
    for k, merged in ((2, False), (3, False), (4, True), (6, True)):
        G = nx.path_graph(10)
        G.add_edges_from((0, 10 + i) for i in range(k))
        G.add_edges_from([(2, 20), (20, 21), (21, 22), (22, 23), (23, 24)])
        n = max(G.nodes()) + 1
        G.add_nodes_from(range(n))
        ei, _, n = simple_undirected(to_edge_index(G), n)
        csr = to_csr(ei, n, canonical=False)
        twins = twin_classes(csr)
        in_class = torch.bincount(twins, minlength=n)[twins] > 1
        share = float(csr.deg[in_class].sum() / csr.deg.sum())
        assert (share >= 0.1) == merged, share
        assert (worth_merging(csr, twins) is twins) == merged
    assert worth_merging(csr, None) is None


@pytest.mark.parametrize("kind", ["dense", "bitmap", "csr"])
def test_distance_tables_equal_networkx(kind):
    # every kind of table gives the hop distance capped at 3, for every ordered pair
    from graphsmooth.curvature._exact import DistanceTable, pair_costs

    G = nx.powerlaw_cluster_graph(70, 3, 0.5, seed=4)
    ei, _, n = simple_undirected(to_edge_index(G), 70)
    csr = to_csr(ei, n, canonical=False)
    s, t = torch.cartesian_prod(torch.arange(n), torch.arange(n)).T
    off = s != t
    s, t = s[off], t[off]
    dist = dict(nx.all_pairs_shortest_path_length(G))
    want = torch.tensor([min(3, dist[a][b]) for a, b in zip(s.tolist(), t.tolist(), strict=True)])
    table = DistanceTable(csr, kind)
    assert torch.equal(table.costs(s, t), want)
    # the per-pair path (no table) agrees on pairs at distance <= 3
    close = want <= 3
    assert torch.equal(pair_costs(csr, s[close], t[close]), want[close])


@pytest.mark.parametrize("kind", ["bitmap", "csr", "csr-bulk", None])
def test_exact_with_every_table_kind(kind, monkeypatch):
    # big graphs take the bitmap / csr tables or per-pair tests: force each on a small graph;
    # "csr-bulk": a large minimum lookup batch, so that rounds are gathered into one padded call
    import graphsmooth.curvature.ollivier as orc_module
    from graphsmooth.curvature._exact import DistanceTable

    def forced(csr, budget):
        if kind is None:
            return None
        table = DistanceTable(csr, kind.split("-")[0])
        if kind == "csr-bulk":
            table.batch = 50_000
        return table

    G = nx.barabasi_albert_graph(60, 4, seed=3)
    G.add_edges_from(nx.complete_graph(range(50, 60)).edges())
    ref = ollivier_ricci(to_edge_index(G), 60, alpha=0.5)
    monkeypatch.setattr(orc_module, "distance_table", forced)
    monkeypatch.setattr(orc_module, "_TABLE_WORK_RATIO", 10**9)  # always ask for a table
    res = ollivier_ricci(to_edge_index(G), 60, alpha=0.5)
    torch.testing.assert_close(res.pair_curvature, ref.pair_curvature, atol=1e-12, rtol=0)
    _check_against_pot(G, 0.0)


def test_reuse_of_graph_structures_is_safe():
    # consecutive calls on the same tensor reuse the simple graph, tables and twins; warnings
    # repeat, and an in-place change of the tensor is seen (no stale graph)
    G = nx.barabasi_albert_graph(40, 3, seed=2)
    ei = to_edge_index(G)
    one_way = ei[:, ei[0] < ei[1]].clone()
    with pytest.warns(UserWarning, match="directed"):
        a = ollivier_ricci(one_way, 40, edges=one_way[:, :5])
    with pytest.warns(UserWarning, match="directed"):
        b = ollivier_ricci(one_way, 40, edges=one_way[:, 5:9])
    ref = ollivier_ricci(ei, 40)
    for res, sl in ((a, slice(0, 5)), (b, slice(5, 9))):
        want = ref.curvature[_columns(ei, one_way[:, sl])]
        torch.testing.assert_close(res.curvature[sl], want, atol=1e-12, rtol=0)
    x = int(one_way[0, 0])
    one_way[1, 0] = next(y for y in range(40) if y != x and not G.has_edge(x, y))  # in place
    G2 = nx.Graph()
    G2.add_nodes_from(range(40))
    G2.add_edges_from(one_way.t().tolist())
    G2.remove_edges_from(nx.selfloop_edges(G2))
    with pytest.warns(UserWarning, match="directed"):
        c = ollivier_ricci(one_way, 40, edges=one_way[:, 0:4])
    ref2 = ollivier_ricci(to_edge_index(G2), 40)
    want2 = ref2.curvature[_columns(to_edge_index(G2), one_way[:, 0:4])]
    torch.testing.assert_close(c.curvature[0:4], want2, atol=1e-12, rtol=0)


def _columns(ei, cols):
    keys = (ei[0] * 1000 + ei[1]).tolist()
    return torch.tensor([keys.index(int(a) * 1000 + int(b)) for a, b in cols.t().tolist()])


def test_kept_structures_are_released_with_their_tensor():
    import gc

    import graphsmooth.curvature.ollivier as orc_module

    ei = to_edge_index(nx.barabasi_albert_graph(30, 2, seed=1)).clone()
    ollivier_ricci(ei, 30)
    assert orc_module._LAST and orc_module._LAST[0][0]() is ei
    del ei
    gc.collect()
    assert not orc_module._LAST  # no graph is held after its tensor is gone


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_worker_processes_give_the_same_curvature(monkeypatch, alpha):
    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(300, 4, seed=3)
    ei = to_edge_index(G)
    ref = ollivier_ricci(ei, 300, alpha=alpha)
    monkeypatch.setattr(orc_module, "_PARALLEL_MIN_WORK", 0)  # fork even for this small graph
    calls = []
    real = orc_module.exact_w1
    monkeypatch.setattr(orc_module, "exact_w1", lambda *a, **k: calls.append(1) or real(*a, **k))
    # chunk_pairs small: many chunks shared by two forked workers
    par = ollivier_ricci(ei.clone(), 300, alpha=alpha, workers=2, chunk_pairs=2_000)
    assert torch.equal(par.pair_curvature, ref.pair_curvature)
    assert not calls  # the chunks ran in the children, not here (the patch is not forked back)
    one = ollivier_ricci(ei.clone(), 300, alpha=alpha, workers=2)  # one chunk: split in two
    assert torch.equal(one.pair_curvature, ref.pair_curvature)
    assert not calls


def test_workers_argument(monkeypatch):
    import graphsmooth.curvature.ollivier as orc_module

    ei = to_edge_index(nx.cycle_graph(6))
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            ollivier_ricci(ei, 6, workers=bad)
    monkeypatch.setattr(orc_module, "_PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(orc_module, "_can_fork", lambda: False)
    with pytest.warns(RuntimeWarning, match="forked worker processes are unavailable"):
        res = ollivier_ricci(ei, 6, workers=2)
    torch.testing.assert_close(res.pair_curvature, torch.zeros(6, dtype=torch.float64))


def test_a_failing_worker_batch_stops_the_call(monkeypatch):
    import time

    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(300, 4, seed=3)
    ei = to_edge_index(G)
    monkeypatch.setattr(orc_module, "_PARALLEL_MIN_WORK", 0)
    real = orc_module.exact_w1

    def flaky(csr, u, v, *a, **k):  # runs in the forked workers
        whole = orc_module._JOB[1]
        if torch.equal(u, whole[-u.numel() :]):  # the last batch, submitted first: fails
            raise RuntimeError("boom")
        time.sleep(30)  # the other batches would hold the call for minutes
        return real(csr, u, v, *a, **k)

    monkeypatch.setattr(orc_module, "exact_w1", flaky)
    import multiprocessing as mp

    t = time.monotonic()
    with pytest.raises(RuntimeError, match="boom"):
        ollivier_ricci(ei, 300, workers=2, chunk_pairs=2_000)
    assert time.monotonic() - t < 20  # not after every sleeping batch
    # and no worker is left behind (a sleeping one would live on for 30 s per batch, or block
    # for ever on a queue lock held by a killed sibling)
    assert mp.active_children() == []
