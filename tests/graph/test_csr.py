import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphsmooth.graph import (
    common_neighbor_counts,
    common_neighbors,
    degree,
    expand_neighbors,
    to_csr,
    undirected_pairs,
)
from tests.graph.helpers import nx_to_edge_index, random_graphs


@pytest.mark.parametrize("G", random_graphs(1))
def test_csr_matches_networkx(G):
    ei, n = nx_to_edge_index(G)
    csr = to_csr(ei, n)
    assert csr.num_nodes == n
    assert csr.deg.tolist() == [G.degree(v) for v in range(n)]
    for v in range(n):
        assert csr.neighbors(v).tolist() == sorted(G[v])
    # degree() on the raw edge index
    assert degree(ei, n).tolist() == [G.degree(v) for v in range(n)]


@pytest.mark.parametrize("G", random_graphs(2))
def test_triangles_per_edge_match_networkx(G):
    ei, n = nx_to_edge_index(G)
    csr = to_csr(ei, n)
    pairs = undirected_pairs(csr.edge_index)
    counts = common_neighbor_counts(csr, pairs[0], pairs[1])
    expected = [len(set(G[a]) & set(G[b])) for a, b in pairs.T.tolist()]
    assert counts.tolist() == expected
    # total triangles: each counted once per edge -> 3 per triangle
    # each triangle lies on 3 edges and at 3 nodes
    assert int(counts.sum()) == sum(nx.triangles(G).values())
    seg, node = common_neighbors(csr, pairs[0], pairs[1])
    for p, w in zip(seg.tolist(), node.tolist(), strict=True):
        a, b = pairs[:, p].tolist()
        assert G.has_edge(a, w) and G.has_edge(b, w)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 30),
    edges=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=80),
    queries=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), min_size=1, max_size=30),
)
def test_edge_lookup_hypothesis(n, edges, queries):
    edges = [(a % n, b % n) for a, b in edges]
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from((a, b) for a, b in edges if a != b)
    ei = torch.tensor(edges, dtype=torch.long).reshape(-1, 2).T.contiguous()
    csr = to_csr(ei, n)
    q = torch.tensor([(a % n, b % n) for a, b in queries]).T
    has = csr.has_edge(q[0], q[1]).tolist()
    assert has == [G.has_edge(a, b) for a, b in q.T.tolist()]
    ids = csr.edge_ids(q[0], q[1])
    ok = ids >= 0
    assert torch.equal(csr.row[ids[ok]], q[0][ok]) and torch.equal(csr.col[ids[ok]], q[1][ok])


def test_expand_neighbors_order():
    csr = to_csr(torch.tensor([[0, 0, 1], [1, 2, 2]]), 4)
    seg, nbr = expand_neighbors(csr, torch.tensor([2, 3, 0]))
    assert seg.tolist() == [0, 0, 2, 2]
    assert nbr.tolist() == [0, 1, 1, 2]


def test_weights_follow_canonical_order():
    ei = torch.tensor([[1, 0], [2, 1]])
    csr = to_csr(ei, 3, torch.tensor([5.0, 7.0]))
    d = {tuple(e): w for e, w in zip(csr.edge_index.T.tolist(), csr.weight.tolist(), strict=True)}
    assert d == {(0, 1): 7.0, (1, 0): 7.0, (1, 2): 5.0, (2, 1): 5.0}


@pytest.mark.parametrize("kind", ["small", "mid", "nearly_sorted", "random", "bool", "tiny"])
def test_numpy_sorts_equal_torch(kind):
    from graphsmooth.graph.csr import fast_argsort, stable_argsort, unique_inverse

    g = torch.Generator().manual_seed(7)
    n = 10 if kind == "tiny" else 20_000
    x = {
        "small": lambda: torch.randint(-3, 7, (n,), generator=g),
        "mid": lambda: torch.randint(0, 40_000, (n,), generator=g),
        "nearly_sorted": lambda: (
            torch.randint(0, 10**9, (n,), generator=g).sort().values // 7 * 7
            + torch.randint(0, 7, (n,), generator=g)
        ),
        "random": lambda: torch.randint(0, 2**40, (n,), generator=g),
        "bool": lambda: torch.randint(0, 2, (n,), generator=g).bool(),
        "tiny": lambda: torch.randint(0, 3, (n,), generator=g),
    }[kind]()
    for desc in (False, True):
        assert torch.equal(
            stable_argsort(x, descending=desc), torch.argsort(x, stable=True, descending=desc)
        )
    if kind != "bool":
        o = fast_argsort(x)
        assert torch.equal(x[o], torch.sort(x).values)
        assert torch.equal(torch.sort(o).values, torch.arange(n))
        u, inv = unique_inverse(x)
        u2, inv2 = torch.unique(x, return_inverse=True)
        assert torch.equal(u, u2) and torch.equal(inv, inv2)
