import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphsmooth.graph import (
    dirichlet_energy,
    from_networkx,
    from_scipy,
    knn_graph,
    laplacian,
    to_networkx,
    to_scipy,
)
from tests.graph.helpers import nx_to_edge_index, random_graphs


@pytest.mark.parametrize("G", random_graphs(5))
def test_laplacians_match_networkx(G):
    ei, n = nx_to_edge_index(G)
    nodes = list(range(n))
    L = laplacian(ei, num_nodes=n, dense=True).numpy()
    assert np.allclose(L, nx.laplacian_matrix(G, nodelist=nodes).toarray())
    Ls = laplacian(ei, num_nodes=n, normalization="sym", dense=True).numpy()
    assert np.allclose(Ls, nx.normalized_laplacian_matrix(G, nodelist=nodes).toarray())
    if n:
        A = nx.to_numpy_array(G, nodelist=nodes)
        deg = A.sum(1)
        Drw = np.where(deg > 0, 1 / np.where(deg > 0, deg, 1), 0)
        ref_rw = np.diag((deg > 0).astype(float)) - Drw[:, None] * A
        Lrw = laplacian(ei, num_nodes=n, normalization="rw", dense=True).numpy()
        assert np.allclose(Lrw, ref_rw)


def test_weighted_laplacian_sparse_equals_dense():
    G = nx.gnp_random_graph(15, 0.3, seed=7)
    rng = np.random.default_rng(0)
    for a, b in G.edges:
        G[a][b]["weight"] = float(rng.uniform(0.1, 2.0))
    ei, w, n, _ = from_networkx(G, weight="weight")
    L = laplacian(ei, w, n)
    assert L.is_sparse
    ref = nx.laplacian_matrix(G, nodelist=range(n), weight="weight").toarray()
    assert np.allclose(L.to_dense().numpy(), ref)


def test_knn_graph_matches_bruteforce_networkx():
    gen = torch.Generator().manual_seed(0)
    pos = torch.rand(40, 2, generator=gen, dtype=torch.float64)
    k = 5
    ei, w = knn_graph(pos, k, symmetrize="max")
    D = torch.cdist(pos, pos).numpy()
    knn = {i: set(np.argsort(D[i])[1 : k + 1].tolist()) for i in range(40)}
    sigma = np.mean([D[i, j] for i in range(40) for j in knn[i]])
    ref = nx.Graph()
    for i in range(40):
        for j in knn[i]:
            ref.add_edge(i, j, weight=np.exp(-(D[i, j] ** 2) / sigma**2))
    got = {tuple(e): x for e, x in zip(ei.T.tolist(), w.tolist(), strict=True)}
    assert len(got) == 2 * ref.number_of_edges()
    for a, b, d in ref.edges(data=True):
        assert got[(a, b)] == pytest.approx(d["weight"]) == got[(b, a)]
    # average symmetrisation halves weights of one-directional neighbours
    ei2, w2 = knn_graph(pos, k, symmetrize="average")
    got2 = {tuple(e): x for e, x in zip(ei2.T.tolist(), w2.tolist(), strict=True)}
    for (a, b), x in got2.items():
        both = (b in knn[a]) + (a in knn[b])
        assert x == pytest.approx(ref[a][b]["weight"] * both / 2)
    with pytest.raises(ValueError, match="k must be"):
        knn_graph(pos, 40)
    with pytest.raises(ValueError, match="NaN"):
        knn_graph(torch.full((3, 2), float("nan")), 1)


def test_dirichlet_energy_is_trace_xtlx():
    G = nx.gnp_random_graph(20, 0.3, seed=3)
    ei, n = nx_to_edge_index(G)
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    L = laplacian(ei, num_nodes=n, dense=True)
    assert dirichlet_energy(x, ei).item() == pytest.approx(torch.trace(x.T @ L @ x).item())
    # constant signal: zero energy in both normalisations when degrees are equal
    c = nx.cycle_graph(6)
    eic, nc = nx_to_edge_index(c)
    ones = torch.ones(nc, 2, dtype=torch.float64)
    assert dirichlet_energy(ones, eic, normalization="sym").item() == pytest.approx(0.0)


def test_dirichlet_energy_of_a_directed_edge_list_is_its_symmetrisation():
    # one direction per edge (as in the geom-gcn Wikipedia graphs): the energy is that of the
    # undirected graph, with a warning (before, half the edges and in-degrees only were used)
    G = nx.gnp_random_graph(30, 0.2, seed=4)
    ei, n = nx_to_edge_index(G)
    one_way = ei[:, ei[0] < ei[1]]
    x = torch.randn(n, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for norm in (None, "sym"):
        want = dirichlet_energy(x, ei, normalization=norm)
        with pytest.warns(UserWarning, match="directed"):
            got = dirichlet_energy(x, one_way, normalization=norm)
        assert got.item() == pytest.approx(want.item())


def test_conversions_roundtrip():
    G = nx.gnp_random_graph(12, 0.4, seed=2)
    G.add_node(12)
    ei, w, n, nodes = from_networkx(G)
    assert n == 13 and w is None and nodes == list(range(13))
    H = to_networkx(ei, n)
    assert nx.utils.graphs_equal(G, H)
    A = to_scipy(ei, num_nodes=n)
    assert (A != nx.to_scipy_sparse_array(G, nodelist=range(n), format="csr")).nnz == 0
    ei2, w2 = from_scipy(A)
    assert torch.equal(ei2, ei[:, torch.argsort(ei[0] * n + ei[1])])
    assert torch.all(w2 == 1)
    with pytest.raises(ValueError, match="square"):
        from_scipy(sp.random(3, 4, density=0.5))


def test_knn_graph_breaks_ties_by_lower_index():
    # a regular grid has many equal distances; neighbours must be the lowest-index ones
    xs, ys = torch.meshgrid(torch.arange(5.0), torch.arange(5.0), indexing="ij")
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
    ei, _ = knn_graph(pos, 2, symmetrize="min", sigma=1.0)
    D = torch.cdist(pos, pos)
    D.fill_diagonal_(float("inf"))
    for i in range(25):
        order = sorted(range(25), key=lambda j: (float(D[i, j]), j))[:2]
        mutual = {j for j in order if i in sorted(range(25), key=lambda t: (float(D[j, t]), t))[:2]}
        assert set(ei[1][ei[0] == i].tolist()) == mutual
