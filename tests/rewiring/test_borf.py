"""BORF: batch logic against a brute-force networkx + POT loop, invariants, attributes, transform."""

from __future__ import annotations

import importlib
import pickle

import networkx as nx
import numpy as np
import pytest
import torch
from scipy.optimize import linprog
from torch_geometric.data import Batch, Data

from graphsmooth.rewiring import BORF, BORF_DEFAULTS, borf, borf_defaults
from tests.rewiring._borf_reference import brute_force_borf, edge_problem, nx_graph, pot_backend

borf_module = importlib.import_module("graphsmooth.rewiring.borf")


def both(pairs) -> torch.Tensor:
    e = torch.as_tensor(pairs, dtype=torch.long).reshape(-1, 2).t()
    return torch.cat([e, e.flip(0)], dim=1)


def random_graph(n: int, m: int, seed: int) -> torch.Tensor:
    return both(list(nx.gnm_random_graph(n, m, seed=seed).edges()))


def pairs_of(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(a, b) for a, b in edge_index.t().tolist() if a < b}


@pytest.fixture
def pot(monkeypatch):
    """Drive BORF with the POT reference backend (plans from ``ot.emd``)."""
    monkeypatch.setattr(borf_module, "_ollivier_ricci_backend", pot_backend)


# ----------------------------------------------------------------- brute force, POT-driven plans


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_equals_brute_force_loop(pot, seed, alpha):
    ei = random_graph(18, 34, seed)
    res = borf(ei, 18, iterations=3, add=4, remove=3, alpha=alpha)
    final, history = brute_force_borf(ei, 18, 3, 4, 3, alpha=alpha)
    assert sorted(pairs_of(res.edge_index)) == final
    assert len(res.batches) == len(history)
    for rec, (added, removed) in zip(res.batches, history, strict=True):
        assert [tuple(x) for x in rec.added.t().tolist()] == added
        assert [tuple(x) for x in rec.removed.t().tolist()] == removed
    if alpha == 0.0:  # with alpha = 0.5 the lazy mass often makes an existing edge the argmax
        assert sum(b.added.size(1) for b in res.batches) > 0


def test_equals_brute_force_per_graph_budget(pot):
    # three disjoint graphs with a batch vector: each gets its own add/remove budget
    blocks, batch, off = [], [], 0
    for g, seed in enumerate([1, 2, 3]):
        e = random_graph(9, 15, seed) + off
        blocks.append(e)
        batch += [g] * 9
        off += 9
    ei = torch.cat(blocks, 1)
    batch_t = torch.tensor(batch)
    res = borf(ei, off, iterations=2, add=2, remove=1, batch=batch_t)
    final, history = brute_force_borf(ei, off, 2, 2, 1, batch=batch_t)
    assert sorted(pairs_of(res.edge_index)) == final
    for rec, (added, removed) in zip(res.batches, history, strict=True):
        assert [tuple(x) for x in rec.added.t().tolist()] == added
        assert [tuple(x) for x in rec.removed.t().tolist()] == removed
        assert rec.removed.size(1) == 3  # one per graph


# ---------------------------------------------------------------- real curvature backend


def hand_graph() -> torch.Tensor:
    # u=0, v=1; N(u) = {1, 2, 3, 4}, N(v) = {0, 5}; 2 - 6 - 5 makes d(2, 5) = 2, d(3, 5) = 3.
    return both([[0, 1], [0, 2], [0, 3], [0, 4], [1, 5], [2, 6], [6, 5]])


def test_hand_computed_unique_plan():
    # W1(m_0, m_1): 1 reaches 5 (1/4, d=1); 5 needs 1/4 more, cheapest from 2 (d=2);
    # 3 and 4 go to 0 (d=1). Cost 1/4 + 1/2 + 1/4 + 1/4 = 5/4, kappa = -1/4, unique plan,
    # argmax pi*d = 1/4 * 2 at (2, 5): BORF adds (2, 5).
    ei = hand_graph()
    res = borf(ei, 7, iterations=1, add=1, remove=1)
    rec = res.batches[0]
    assert rec.negative.t().tolist() == [[0, 1]]  # ties with (0, 2) at -1/4: (0, 1) first
    assert rec.negative_curvature.tolist() == pytest.approx([-0.25])
    assert rec.proposed.t().tolist() == [[2, 5]]
    assert rec.proposed_value.tolist() == pytest.approx([0.5])
    assert rec.added.t().tolist() == [[2, 5]]
    # every other edge has curvature 0: the most positive is the first of them, (0, 3)
    assert rec.removed.t().tolist() == [[0, 3]]
    assert pairs_of(res.edge_index) == {(0, 1), (0, 2), (0, 4), (1, 5), (2, 6), (5, 6), (2, 5)}
    # independent check of the unique optimum with POT
    su, sv, _, _, cost, plan = edge_problem(nx_graph(ei, 7), 0, 1, 0.0)
    val = plan * cost
    i, j = np.unravel_index(val.argmax(), val.shape)
    assert (su[i], sv[j]) == (2, 5)


def optimal_face_is_point(mu, mv, cost) -> bool:
    """Whether the optimal transport plan is unique (LP: min and max of every entry on the
    optimal face coincide)."""
    a, b = len(mu), len(mv)
    c = cost.reshape(-1)
    A = np.zeros((a + b, a * b))
    for i in range(a):
        A[i, i * b : (i + 1) * b] = 1
    for j in range(b):
        A[a + j, j::b] = 1
    rhs = np.concatenate([mu, mv])
    opt = linprog(c, A_eq=A, b_eq=rhs, bounds=(0, None), method="highs").fun
    A_eq = np.vstack([A, c])
    b_eq = np.concatenate([rhs, [opt]])
    for k in range(a * b):
        e = np.zeros(a * b)
        e[k] = 1
        lo = linprog(e, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs").fun
        hi = -linprog(-e, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs").fun
        if hi - lo > 1e-7:
            return False
    return True


def test_choice_matches_brute_force_ot():
    """Real backend: the h most negative edges follow the POT curvatures and the documented
    tie-break; wherever the optimal plan is unique (checked by LP) the proposed edge is exactly
    the brute-force POT argmax of pi * d."""
    n, unique_checked = 12, 0
    for seed in range(8):
        ei = random_graph(n, 20, seed)
        rec = borf(ei, n, iterations=1, add=4, remove=0).batches[0]
        G = nx_graph(ei, n)
        ref = pot_backend(ei, n, 0.0, False)
        ref_k = dict(
            zip(map(tuple, ref.pairs.t().tolist()), ref.pair_curvature.tolist(), strict=True)
        )
        order = sorted(ref_k, key=lambda e: (round(ref_k[e] * 1e9), e))[:4]
        assert [tuple(x) for x in rec.negative.t().tolist()] == order
        for (u, v), (p, q), value in zip(
            rec.negative.t().tolist(),
            rec.proposed.t().tolist(),
            rec.proposed_value.tolist(),
            strict=True,
        ):
            su, sv, mu, mv, cost, plan = edge_problem(G, u, v, 0.0)
            assert p in su and q in sv
            if optimal_face_is_point(mu, mv, cost):
                val = plan * cost
                best = val.max()
                cands = [
                    (su[i], sv[j])
                    for i in range(len(su))
                    for j in range(len(sv))
                    if val[i, j] >= best - 1e-12
                ]
                assert (p, q) == min(cands)
                assert value == pytest.approx(best, abs=1e-12)
                unique_checked += 1
    assert unique_checked >= 3


def test_backend_plans_are_optimal_and_argmax_is_correct():
    n = 14
    ei = random_graph(n, 26, 7)
    ollivier_ricci = importlib.import_module("graphsmooth.curvature").ollivier_ricci
    res = ollivier_ricci(ei, n, return_plans=True)
    G = nx_graph(ei, n)
    rec = borf(ei, n, iterations=1, add=5, remove=0).batches[0]
    pair_index = {tuple(p): k for k, p in enumerate(res.pairs.t().tolist())}
    for (u, v), (p, q) in zip(rec.negative.t().tolist(), rec.proposed.t().tolist(), strict=True):
        k = pair_index[(u, v)]
        m = res.plans.pair == k
        src, dst = res.plans.src[m].tolist(), res.plans.dst[m].tolist()
        mass, dist = res.plans.mass[m].tolist(), res.plans.dist[m].tolist()
        _, _, _, _, cost, plan = edge_problem(G, u, v, 0.0)
        assert sum(a * b for a, b in zip(mass, dist, strict=True)) == pytest.approx(
            (plan * cost).sum()
        )
        vals = [a * b for a, b in zip(mass, dist, strict=True)]
        best = max(vals)
        cands = [(s, t) for s, t, x in zip(src, dst, vals, strict=True) if x >= best - 1e-12]
        assert (p, q) == min(cands)


# ------------------------------------------------------------------------------ invariants


@pytest.mark.parametrize("seed", range(3))
def test_invariants(seed):
    n = 40
    ei = random_graph(n, 90, seed)
    h, k = 5, 4
    res = borf(ei, n, iterations=3, add=h, remove=k)
    out = res.edge_index
    # simple and undirected, sorted by (row, col)
    assert (out[0] != out[1]).all()
    keys = out[0] * n + out[1]
    assert (keys[1:] > keys[:-1]).all()
    assert pairs_of(out) == {(b, a) for a, b in out.t().tolist() if a > b}
    current = pairs_of(ei)
    for rec in res.batches:
        assert rec.added.size(1) <= h and rec.removed.size(1) <= k
        added = {tuple(x) for x in rec.added.t().tolist()}
        removed = {tuple(x) for x in rec.removed.t().tolist()}
        assert all(a < b for a, b in added | removed)
        assert not (added & current) and removed <= current
        assert {tuple(x) for x in rec.pairs.t().tolist()} == current
        current = (current | added) - removed
    assert current == pairs_of(out)
    assert [tuple(x) for x in res.pairs.t().tolist()] == sorted(current)


def test_incremental_equals_full():
    n = 50
    ei = random_graph(n, 110, 11)
    inc = borf(ei, n, iterations=3, add=6, remove=5, incremental=True)
    full = borf(ei, n, iterations=3, add=6, remove=5, incremental=False)
    assert torch.equal(inc.edge_index, full.edge_index)
    for a, b in zip(inc.batches, full.batches, strict=True):
        assert torch.equal(a.added, b.added) and torch.equal(a.removed, b.removed)
        torch.testing.assert_close(a.curvature, b.curvature, atol=1e-12, rtol=0)
    torch.testing.assert_close(inc.curvature, full.curvature, atol=1e-12, rtol=0)
    # and the final curvature is the curvature of the final graph
    ref = pot_backend(inc.edge_index, n, 0.0, False)
    assert torch.equal(ref.pairs, inc.pairs)
    torch.testing.assert_close(inc.curvature, ref.pair_curvature, atol=1e-9, rtol=0)


def test_incremental_region_is_local(monkeypatch):
    # on a long path of triangles a change far away must not trigger a whole-graph computation
    calls = []
    real = borf_module._ollivier_ricci_backend

    def spy(edge_index, num_nodes, alpha, return_plans, edges):
        calls.append(None if edges is None else edges.size(1))
        return real(edge_index, num_nodes, alpha, return_plans, edges)

    monkeypatch.setattr(borf_module, "_ollivier_ricci_backend", spy)
    pairs = [[i, i + 1] for i in range(299)] + [[i, i + 2] for i in range(0, 298, 2)]
    pairs += [[0, 150]]  # one bridge: strongly negative
    res = borf(both(pairs), 300, iterations=2, add=1, remove=1)
    assert calls[0] is None  # initial curvature: every edge
    assert all(c is not None and c < 40 for c in calls[1:])  # plans and updates stay local
    assert len(res.batches) == 2


def test_determinism_and_permutation_of_columns():
    n = 30
    ei = random_graph(n, 60, 5)
    a = borf(ei, n, iterations=2, add=4, remove=3)
    perm = torch.randperm(ei.size(1), generator=torch.Generator().manual_seed(0))
    b = borf(ei[:, perm], n, iterations=2, add=4, remove=3)
    with pytest.warns(UserWarning, match="directed"):  # one direction only: symmetrised
        c = borf(ei[:, : ei.size(1) // 2], n, iterations=2, add=4, remove=3)
    assert torch.equal(a.edge_index, b.edge_index)
    assert torch.equal(a.edge_index, c.edge_index)


def test_edge_attr_kept_and_filled():
    n = 20
    ei = random_graph(n, 40, 3)
    E = ei.size(1)
    attr = torch.stack([torch.arange(E, dtype=torch.float32), -torch.arange(E).float()], 1)
    res = borf(ei, n, iterations=2, add=3, remove=2, edge_attr=attr, fill_value=7.0)
    out = res.edge_index
    assert res.edge_attr.shape == (out.size(1), 2)
    col = {(a, b): i for i, (a, b) in enumerate(ei.t().tolist())}
    new = {tuple(x) for x in res.added.t().tolist()}
    for i, (a, b) in enumerate(out.t().tolist()):
        if (min(a, b), max(a, b)) in new:
            assert res.edge_attr[i].tolist() == [7.0, 7.0]
        else:
            assert res.edge_attr[i].tolist() == attr[col[(a, b)]].tolist()
    # per-direction attributes survive as given
    w = torch.arange(E, dtype=torch.float64)
    res1 = borf(ei, n, iterations=1, add=2, remove=1, edge_attr=w, fill_value=-1.0)
    kept = res1.edge_attr >= 0
    for i in torch.nonzero(kept).flatten().tolist():
        a, b = res1.edge_index[:, i].tolist()
        assert int(res1.edge_attr[i]) == col[(a, b)]
    assert int((~kept).sum()) == 2 * res1.added.size(1)


def test_edge_cases():
    # empty graph, zero iterations, remove everything, isolated nodes
    empty = borf(torch.empty(2, 0, dtype=torch.long), 5, iterations=2, add=3, remove=3)
    assert empty.edge_index.shape == (2, 0) and empty.num_nodes == 5
    ei = random_graph(10, 15, 0)
    zero = borf(ei, 12, iterations=0)
    assert pairs_of(zero.edge_index) == pairs_of(ei) and zero.batches == []
    wipe = borf(both([[0, 1], [1, 2]]), 4, iterations=1, add=0, remove=5)
    assert wipe.edge_index.shape == (2, 0)
    assert wipe.curvature.numel() == 0
    with pytest.raises(ValueError, match="add"):
        borf(ei, add=-1)
    with pytest.raises(ValueError, match="alpha"):
        borf(ei, alpha=1.0)
    with pytest.raises(ValueError, match="edge_attr"):
        borf(ei, edge_attr=torch.zeros(3))
    with pytest.raises(ValueError, match="batch"):
        borf(ei, 10, batch=torch.zeros(3, dtype=torch.long))
    with pytest.warns(UserWarning, match="directed"):
        borf(torch.tensor([[0, 1], [1, 2]]), 3, iterations=1, add=1, remove=0)


# ------------------------------------------------------------------------------- transform


def test_defaults_table():
    assert BORF_DEFAULTS["cora"] == (3, 20, 10)
    assert BORF_DEFAULTS["chameleon"] == (3, 20, 20)
    assert borf_defaults("IMDB-BINARY") == {"iterations": 1, "add": 3, "remove": 0}
    assert borf_defaults("PROTEINS") == {"iterations": 3, "add": 4, "remove": 1}
    with pytest.raises(ValueError, match="known"):
        borf_defaults("squirrel")
    t = BORF.for_dataset("Cornell")
    assert (t.iterations, t.add, t.remove) == (2, 20, 30)


def test_transform_node_graph_matches_function():
    n = 25
    ei = random_graph(n, 50, 2)
    data = Data(x=torch.randn(n, 3), edge_index=ei, edge_attr=torch.randn(ei.size(1), 4), y=1)
    out = BORF(iterations=2, add=3, remove=2, fill_value=0.5)(data)
    ref = borf(ei, n, 2, 3, 2, edge_attr=data.edge_attr, fill_value=0.5)
    assert torch.equal(out.edge_index, ref.edge_index)
    assert torch.equal(out.edge_attr, ref.edge_attr)
    assert torch.equal(out.x, data.x)
    assert data.edge_index is ei  # input not modified


def test_transform_batched_equals_one_by_one():
    graphs = []
    for seed in range(5):
        e = random_graph(10, 16, seed)
        graphs.append(
            Data(
                x=torch.ones(10, 1),
                edge_index=e,
                edge_attr=torch.arange(e.size(1)).float(),
                y=torch.tensor([seed]),
            )
        )
    t = BORF(iterations=2, add=2, remove=1)
    one = [t(g) for g in graphs]
    many = t.transform_list(graphs)
    for a, b in zip(one, many, strict=True):
        assert torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.edge_attr, b.edge_attr)
        assert torch.equal(a.y, b.y)
    batched = t(Batch.from_data_list(graphs))
    assert torch.equal(batched.edge_index, Batch.from_data_list(one).edge_index)


def test_transform_identity_repr_pickle():
    t = BORF(iterations=2, add=3, remove=1)
    assert repr(t) == "BORF(iterations=2, add=3, remove=1, alpha=0.0)"
    assert pickle.loads(pickle.dumps(t)) == t
    assert hash(t) == hash(BORF(2, 3, 1, incremental=False))
    assert t != BORF(2, 3, 2)
    with pytest.raises(ValueError, match="alpha"):
        BORF(alpha=-0.1)


# ------------------------------------------------------------------------------ real data


@pytest.mark.data
def test_real_datasets(data_root):
    from graphsmooth.data import load_dataset

    texas = load_dataset("Texas", root=data_root)[0]
    settings = borf_defaults("Texas")
    with pytest.warns(UserWarning, match="directed"):  # WebKB graphs are directed
        res = borf(texas.edge_index, texas.num_nodes, **settings)
    assert len(res.batches) == 3
    for rec in res.batches:
        assert 0 < rec.added.size(1) <= 30 and rec.removed.size(1) == 10
    out = res.edge_index
    assert pairs_of(out) == {(b, a) for a, b in out.t().tolist() if a > b}
    # every negative edge is no less curved than every edge left out of the selection
    rec = res.batches[0]
    assert float(rec.negative_curvature.max()) <= float(rec.curvature.kthvalue(31).values)

    mutag = load_dataset("MUTAG", root=data_root)
    graphs = [mutag[i] for i in range(10)]
    t = BORF.for_dataset("MUTAG")
    one = [t(g) for g in graphs]
    many = t.transform_list(graphs)
    for a, b in zip(one, many, strict=True):
        assert torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.edge_attr, b.edge_attr)  # MUTAG's bond types follow their edges
        assert a.edge_attr.size(0) == a.edge_index.size(1)


# ------------------------------------------------------- pruned ranking (exact only where needed)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("incremental", [True, False])
def test_pruned_ranking_equals_full_curvature(monkeypatch, seed, alpha, incremental):
    # force the pruned rounds even on a small graph (chunks of one edge at first)
    monkeypatch.setattr(borf_module, "_LAZY_MIN_WORK", 0)
    G = nx.powerlaw_cluster_graph(70, 3, 0.4, seed=seed)
    ei = both(list(G.edges()))
    kw = dict(iterations=3, add=5, remove=4, alpha=alpha, incremental=incremental)
    lazy = borf(ei, 70, **kw)
    full = borf(ei, 70, full_curvature=True, **kw)
    assert torch.equal(lazy.edge_index, full.edge_index)
    evaluated = 0
    for a, b in zip(lazy.batches, full.batches, strict=True):
        assert torch.equal(a.added, b.added) and torch.equal(a.removed, b.removed)
        assert torch.equal(a.negative, b.negative)
        torch.testing.assert_close(a.negative_curvature, b.negative_curvature, atol=1e-12, rtol=0)
        torch.testing.assert_close(a.removed_curvature, b.removed_curvature, atol=1e-12, rtol=0)
        known = ~torch.isnan(a.curvature)
        torch.testing.assert_close(a.curvature[known], b.curvature[known], atol=1e-12, rtol=0)
        evaluated += int(known.sum())
        assert not torch.isnan(b.curvature).any()
    # the pruning really skipped edges, and the final curvature is complete
    assert evaluated < sum(b.curvature.numel() for b in full.batches)
    torch.testing.assert_close(lazy.curvature, full.curvature, atol=1e-12, rtol=0)
    # curvature_before fills the skipped edges of the input graph on demand
    torch.testing.assert_close(lazy.curvature_before, full.batches[0].curvature, atol=1e-12, rtol=0)


def test_pruned_ranking_per_graph_budget(monkeypatch):
    # a disjoint union with a batch vector: the pruning thresholds are per graph
    monkeypatch.setattr(borf_module, "_LAZY_MIN_WORK", 0)
    blocks, batch, off = [], [], 0
    for seed, n in ((1, 30), (2, 45), (3, 12)):
        G = nx.powerlaw_cluster_graph(n, 2, 0.5, seed=seed)
        blocks.append(both([(a + off, b + off) for a, b in G.edges()]))
        batch += [len(blocks) - 1] * n
        off += n
    ei, batch = torch.cat(blocks, 1), torch.tensor(batch)
    lazy = borf(ei, off, iterations=2, add=3, remove=2, batch=batch)
    full = borf(ei, off, iterations=2, add=3, remove=2, batch=batch, full_curvature=True)
    assert torch.equal(lazy.edge_index, full.edge_index)
    for a, b in zip(lazy.batches, full.batches, strict=True):
        assert torch.equal(a.added, b.added) and torch.equal(a.removed, b.removed)
