"""Synthetic graphs against networkx and against their defining statistics."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.utils import homophily as pyg_homophily

from graphsmooth.data.synthetic import (
    barabasi_albert,
    barbell,
    binary_tree,
    contextual_sbm,
    edge_homophily,
    ring_of_cliques,
)
from graphsmooth.graph import is_undirected, simple_undirected


def _edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(u), int(v)) for u, v in edge_index.t() if u < v}


def _nx_edge_set(g: nx.Graph) -> set[tuple[int, int]]:
    return {(min(u, v), max(u, v)) for u, v in g.edges()}


def _assert_canonical(data) -> None:
    ei = data.edge_index
    assert ei.dtype == torch.long
    canon, _, _ = simple_undirected(ei, data.num_nodes)
    assert torch.equal(canon, ei)  # symmetric, sorted, no loops / duplicates
    assert is_undirected(ei, data.num_nodes)


# ------------------------------------------------------------------ edge_homophily
def test_edge_homophily_hand_made():
    # path 0-1-2-3 with labels a a b b: edges (0,1) same, (1,2) different, (2,3) same
    ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    y = torch.tensor([0, 0, 1, 1])
    assert edge_homophily(ei, y) == pytest.approx(2 / 3)
    assert edge_homophily(ei[:, ::2], y) == pytest.approx(2 / 3)  # one direction each
    assert np.isnan(edge_homophily(torch.zeros(2, 0, dtype=torch.long), y))
    with pytest.raises(ValueError, match="y has 2 labels"):
        edge_homophily(ei, y[:2])


def test_edge_homophily_matches_pyg():
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        ei = torch.randint(0, 50, (2, 300), generator=gen)
        y = torch.randint(0, 4, (50,), generator=gen)
        assert edge_homophily(ei, y) == pytest.approx(pyg_homophily(ei, y, method="edge"))


# ------------------------------------------------------------------ contextual SBM
@pytest.mark.parametrize("h", [0.0, 0.1, 0.5, 0.8, 1.0])
def test_csbm_homophily_knob(h):
    data = contextual_sbm(num_nodes=1500, num_classes=3, avg_degree=8, homophily=h, seed=1)
    _assert_canonical(data)
    assert edge_homophily(data.edge_index, data.y) == pytest.approx(h, abs=1e-3)
    assert pyg_homophily(data.edge_index, data.y, method="edge") == pytest.approx(h, abs=1e-3)
    # the mean fraction of same-class neighbours per node is close to h as well
    node_h = pyg_homophily(data.edge_index, data.y, method="node")
    assert node_h == pytest.approx(h, abs=0.03)
    assert data.edge_index.shape[1] == 1500 * 8  # mean degree exactly avg_degree


def test_csbm_labels_masks_features():
    data = contextual_sbm(num_nodes=3000, num_classes=4, num_features=16, feature_signal=3.0)
    assert data.x.shape == (3000, 16) and data.y.shape == (3000,)
    assert torch.equal(torch.bincount(data.y), torch.full((4,), 750))
    masks = torch.stack([data.train_mask, data.val_mask, data.test_mask])
    assert torch.equal(masks.sum(0), torch.ones(3000, dtype=torch.long))
    assert [int(m.sum()) for m in masks] == [1800, 600, 600]
    # empirical class means sit at distance ~feature_signal from the origin (noise ~1/sqrt(750))
    for c in range(4):
        mean = data.x[data.y == c].mean(0)
        assert float(mean.norm()) == pytest.approx(3.0, abs=0.25)
    # no signal: class means collapse to the origin
    flat = contextual_sbm(num_nodes=3000, num_classes=4, num_features=16, feature_signal=0.0)
    for c in range(4):
        assert float(flat.x[flat.y == c].mean(0).norm()) < 0.25


def test_csbm_inter_class_edges_spread_over_class_pairs():
    # heterophilous graph: cross-class edges are uniform over the 3 class pairs
    data = contextual_sbm(num_nodes=3000, num_classes=3, avg_degree=10, homophily=0.0, seed=2)
    u, v = data.edge_index
    keep = u < v
    pair = torch.sort(torch.stack([data.y[u[keep]], data.y[v[keep]]]), dim=0).values
    counts = torch.bincount(pair[0] * 3 + pair[1], minlength=9)[[1, 2, 5]].double()
    assert float(counts.min() / counts.max()) > 0.93


def test_csbm_deterministic_and_seeded():
    a = contextual_sbm(num_nodes=400, seed=5)
    b = contextual_sbm(num_nodes=400, seed=5)
    c = contextual_sbm(num_nodes=400, seed=6)
    for key in ("x", "y", "edge_index", "train_mask"):
        assert torch.equal(a[key], b[key])
    assert not torch.equal(a.edge_index, c.edge_index) or not torch.equal(a.y, c.y)


def test_csbm_errors():
    with pytest.raises(ValueError, match="homophily must be in"):
        contextual_sbm(homophily=1.5)
    with pytest.raises(ValueError, match="num_classes must be an int >= 2"):
        contextual_sbm(num_classes=1)
    with pytest.raises(ValueError, match="intra-class"):
        contextual_sbm(num_nodes=10, num_classes=5, avg_degree=8, homophily=1.0)


# ------------------------------------------------------------------ bottleneck graphs
@pytest.mark.parametrize("num_cliques,size", [(2, 3), (3, 4), (6, 5)])
def test_ring_of_cliques_isomorphic_to_networkx(num_cliques, size):
    data = ring_of_cliques(num_cliques, size)
    _assert_canonical(data)
    ours = nx.Graph(list(_edge_set(data.edge_index)))
    ref = nx.ring_of_cliques(num_cliques, size)
    assert ours.number_of_edges() == num_cliques * size * (size - 1) // 2 + num_cliques
    assert nx.is_isomorphic(ours, ref)
    assert torch.equal(data.y, torch.arange(num_cliques).repeat_interleave(size))


def test_ring_of_cliques_degenerate():
    assert ring_of_cliques(1, 4).edge_index.shape[1] == 2 * 6  # one clique, no bridge
    cycle = ring_of_cliques(5, 1)  # cliques of one node: a 5-cycle
    assert _edge_set(cycle.edge_index) == _nx_edge_set(nx.cycle_graph(5))


@pytest.mark.parametrize("k,p", [(2, 0), (4, 0), (5, 3)])
def test_barbell_equals_networkx(k, p):
    data = barbell(k, p)
    _assert_canonical(data)
    assert data.num_nodes == 2 * k + p
    assert _edge_set(data.edge_index) == _nx_edge_set(nx.barbell_graph(k, p))
    assert data.y.tolist() == [0] * k + [2] * p + [1] * k


@pytest.mark.parametrize("depth", [0, 1, 4])
def test_binary_tree_equals_networkx(depth):
    data = binary_tree(depth)
    _assert_canonical(data)
    ref = nx.balanced_tree(2, depth)
    assert data.num_nodes == ref.number_of_nodes()
    assert _edge_set(data.edge_index) == _nx_edge_set(ref)
    levels = nx.single_source_shortest_path_length(ref, 0)
    assert data.y.tolist() == [levels[i] for i in range(data.num_nodes)]


def test_structure_errors():
    with pytest.raises(ValueError, match="clique_size must be an int >= 2"):
        barbell(1)
    with pytest.raises(ValueError, match="depth must be an int >= 0"):
        binary_tree(-1)
    with pytest.raises(ValueError, match="num_cliques"):
        ring_of_cliques(0, 3)


# ------------------------------------------------------------------ Barabasi-Albert
@pytest.mark.parametrize("n,m", [(2, 1), (10, 3), (500, 1), (2000, 4)])
def test_barabasi_albert_structure(n, m):
    data = barabasi_albert(n, m, seed=3)
    _assert_canonical(data)
    ei = data.edge_index
    assert ei.shape[1] == 2 * (m + m * (n - m - 1))
    # every node added after the initial star has exactly m edges to earlier nodes
    u, v = ei
    later = torch.bincount(torch.maximum(u, v)[u < v], minlength=n)
    assert torch.all(later[m + 1 :] == m)
    assert int(torch.bincount(u, minlength=n).min()) >= 1 if n > 1 else True
    assert nx.is_connected(nx.Graph(list(_edge_set(ei))))


def _ba_sequential_reference(n: int, m: int, seed: int) -> set[tuple[int, int]]:
    """Plain-loop version of the same draws: every round resolves the whole repeated-nodes
    list in order (entry q copies entry src[q] < q), then redraws the later copies of repeated
    targets, consuming the random stream in the same order as the vectorised code."""
    rng = np.random.default_rng(seed)
    new = n - m - 1
    L = [0 if i % 2 == 0 else i // 2 + 1 for i in range(2 * m)]
    src = {}
    for k in range(new * m):
        L += [m + 1 + k // m, None]
    start = [2 * m * (1 + k // m) for k in range(new * m)]
    draws = rng.random(new * m)
    for k in range(new * m):
        src[2 * m + 2 * k + 1] = int(draws[k] * start[k])
    while True:
        for q in sorted(src):
            L[q] = L[src[q]]
        pending = []
        for t in range(new):
            seen = set()
            for j in range(m):
                value = L[2 * m + 2 * (t * m + j) + 1]
                if value in seen:
                    pending.append(t * m + j)
                seen.add(value)
        if not pending:
            break
        draws = rng.random(len(pending))
        for k, u in zip(pending, draws, strict=True):
            src[2 * m + 2 * k + 1] = int(u * start[k])
    return {(min(a, b), max(a, b)) for a, b in zip(L[::2], L[1::2], strict=True)}


@pytest.mark.parametrize("n,m,seed", [(8, 3, 0), (60, 4, 1), (400, 3, 2), (300, 6, 5)])
def test_barabasi_albert_equals_sequential_reference(n, m, seed):
    # the vectorised pointer jumping and incremental redraws give exactly the plain loop's graph
    assert _edge_set(barabasi_albert(n, m, seed=seed).edge_index) == _ba_sequential_reference(
        n, m, seed
    )


def test_barabasi_albert_deterministic():
    a = barabasi_albert(1000, 3, seed=1).edge_index
    assert torch.equal(a, barabasi_albert(1000, 3, seed=1).edge_index)
    assert not torch.equal(a, barabasi_albert(1000, 3, seed=2).edge_index)


def test_barabasi_albert_degree_distribution_matches_networkx():
    # pooled over seeds: share of minimum-degree nodes, tail share, max degree, and the
    # preferential-attachment signature (older nodes have larger degree)
    n, m, seeds = 3000, 2, range(6)

    def stats(degrees: list[np.ndarray]) -> np.ndarray:
        d = np.stack(degrees)
        first = d[:, : n // 10].mean() / d[:, -n // 2 :].mean()
        return np.array([(d == m).mean(), (d >= 10).mean(), d.max(1).mean(), first])

    ours = stats(
        [torch.bincount(barabasi_albert(n, m, seed=s).edge_index[0], minlength=n).numpy()
         for s in seeds]
    )  # fmt: skip
    ref = stats(
        [np.array([d for _, d in sorted(nx.barabasi_albert_graph(n, m, seed=s).degree())])
         for s in seeds]
    )  # fmt: skip
    # share of degree-m nodes ~0.5, tail share ~0.07, max degree ~100, old/new ratio ~4
    np.testing.assert_allclose(ours[0], ref[0], atol=0.02)
    np.testing.assert_allclose(ours[1], ref[1], atol=0.01)
    np.testing.assert_allclose(ours[2], ref[2], rtol=0.25)
    np.testing.assert_allclose(ours[3], ref[3], rtol=0.1)


def test_barabasi_albert_errors():
    with pytest.raises(ValueError, match="num_nodes must be an int >= 4"):
        barabasi_albert(3, 3)
    with pytest.raises(ValueError, match="m must be an int >= 1"):
        barabasi_albert(10, 0)
