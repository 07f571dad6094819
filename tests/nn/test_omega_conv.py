"""Tests of the omega-GNN layers against dense references built independently (networkx)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.nn import GCNConv
from torch_geometric.utils import spmm, to_torch_coo_tensor, to_torch_csr_tensor

from graphsmooth.nn.conv import OmegaGATConv, OmegaGCNConv, dirichlet_energy, omega_mix
from graphsmooth.nn.conv.omega import csr_linear, csr_matmul, csr_transpose


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny graphs: one intra-op thread avoids oversubscribing the shared CPU (restored after)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _graph(n: int = 9, p: float = 0.35, seed: int = 0) -> tuple[nx.Graph, torch.Tensor]:
    g = nx.gnp_random_graph(n, p, seed=seed)
    g.add_edge(0, n - 1)  # at least one edge; isolated nodes are kept on purpose
    e = np.array(list(g.edges()), dtype=np.int64).T
    ei = torch.from_numpy(np.concatenate([e, e[::-1]], axis=1).copy())
    return g, ei


def _dense_adj(g: nx.Graph, n: int, weight: str | None = None) -> torch.Tensor:
    return torch.tensor(nx.to_numpy_array(g, nodelist=range(n), weight=weight), dtype=torch.float64)


def _gcn_operator(a: torch.Tensor) -> torch.Tensor:
    a_hat = a + torch.eye(a.size(0), dtype=a.dtype)
    d = a_hat.sum(1).rsqrt()
    return d[:, None] * a_hat * d[None, :]


@pytest.fixture
def data():
    gen = torch.Generator().manual_seed(1)
    g, ei = _graph()
    x = torch.randn(9, 8, generator=gen, dtype=torch.float64)
    return g, ei, x


def test_omega_one_equals_gcnconv_propagation(data):
    g, ei, x = data
    w = torch.rand(ei.size(1), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    conv = OmegaGCNConv(8).double()
    ref = GCNConv(8, 8, bias=False).double()
    with torch.no_grad():
        ref.lin.weight.copy_(torch.eye(8))
    torch.testing.assert_close(conv(x, ei), ref(x, ei))
    torch.testing.assert_close(conv(x, ei, w), ref(x, ei, w))


def test_omega_zero_is_identity(data):
    _, ei, x = data
    conv = OmegaGCNConv(8, omega_init=0.0).double()
    torch.testing.assert_close(conv(x, ei), x)
    gat = OmegaGATConv(8, heads=2, omega_init=0.0).double()
    torch.testing.assert_close(gat(x, ei), x)


def test_channelwise_omega_matches_dense_formula(data):
    g, ei, x = data
    conv = OmegaGCNConv(8).double()
    omega = torch.linspace(-0.5, 2.5, 8, dtype=torch.float64)
    with torch.no_grad():
        conv.omega.copy_(omega)
    s = _gcn_operator(_dense_adj(g, 9))
    expected = (1 - omega) * x + omega * (s @ x)
    torch.testing.assert_close(conv(x, ei), expected)
    # omega > 1 sharpens: it moves features away from the neighbourhood average.
    sharp = OmegaGCNConv(8, omega="scalar", omega_init=2.0).double()
    torch.testing.assert_close(sharp(x, ei), 2 * (s @ x) - x)


def test_weighted_graph_matches_dense_formula(data):
    g, ei, x = data
    gen = torch.Generator().manual_seed(5)
    for u, v in g.edges():
        g[u][v]["weight"] = float(torch.rand((), generator=gen)) + 0.1
    w = torch.tensor([g[int(u)][int(v)]["weight"] for u, v in ei.t()], dtype=torch.float64)
    conv = OmegaGCNConv(8, omega="scalar", omega_init=0.7).double()
    s = _gcn_operator(_dense_adj(g, 9, weight="weight"))
    torch.testing.assert_close(conv(x, ei, w), 0.3 * x + 0.7 * (s @ x))


@pytest.mark.parametrize("layer", ["gcn", "gat"])
def test_permutation_equivariance(data, layer):
    _, ei, x = data
    torch.manual_seed(0)  # only for the layers' default initialisation
    conv = (OmegaGCNConv(8) if layer == "gcn" else OmegaGATConv(8, heads=4)).double()
    with torch.no_grad():
        conv.omega.copy_(torch.linspace(0.2, 1.8, 8))
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(7))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(9)
    out = conv(x, ei)
    out_perm = conv(x[perm], inv[ei])
    torch.testing.assert_close(out_perm, out[perm])


def test_gat_uniform_attention_is_mean_with_self_loop(data):
    g, ei, x = data
    gat = OmegaGATConv(8, heads=2).double()
    with torch.no_grad():
        gat.att_src.zero_()
        gat.att_dst.zero_()
    a_hat = _dense_adj(g, 9) + torch.eye(9, dtype=torch.float64)
    mean = (a_hat / a_hat.sum(1, keepdim=True)) @ x
    torch.testing.assert_close(gat(x, ei), mean)
    # an input that already contains self loops gets exactly one per node
    ei_loops = torch.cat([ei, torch.arange(9).repeat(2, 1)], dim=1)
    torch.testing.assert_close(gat(x, ei_loops), mean)


def test_gat_attention_matches_bruteforce(data):
    g, ei, x = data
    heads, c = 2, 8
    gat = OmegaGATConv(c, heads=heads, negative_slope=0.1).double()
    omega = torch.linspace(0.5, 1.5, c, dtype=torch.float64)
    with torch.no_grad():
        gat.omega.copy_(omega)
    a_hat = _dense_adj(g, 9) + torch.eye(9, dtype=torch.float64)
    expected = torch.empty_like(x)
    a_src, a_dst = gat.att_src.detach(), gat.att_dst.detach()
    for h in range(heads):
        block = slice(h * c // heads, (h + 1) * c // heads)
        for i in range(9):
            nbrs = torch.nonzero(a_hat[i]).flatten()
            e = torch.nn.functional.leaky_relu(x[nbrs] @ a_src[:, h] + x[i] @ a_dst[:, h], 0.1)
            alpha = torch.softmax(e, 0)
            sx = (alpha[:, None] * x[nbrs][:, block]).sum(0)
            expected[i, block] = (1 - omega[block]) * x[i, block] + omega[block] * sx
    torch.testing.assert_close(gat(x, ei), expected)


def test_gat_returns_its_attention_weights(data):
    """``return_attention_weights=True`` gives the graph with one self loop per node and the
    per-head coefficients: they match the brute-force softmax, sum to one over each target's
    neighbourhood, and rebuild the output through a dense S; same for sparse input."""
    g, ei, x = data
    heads, c = 2, 8
    gat = OmegaGATConv(c, heads=heads, omega_init=0.7).double().eval()
    out, (graph, alpha) = gat(x, ei, return_attention_weights=True)
    torch.testing.assert_close(out, gat(x, ei))
    a_hat = _dense_adj(g, 9) + torch.eye(9, dtype=torch.float64)
    assert graph.size(1) == int(a_hat.sum()) and alpha.shape == (graph.size(1), heads)
    src, dst = graph
    assert (src == dst).sum() == 9  # exactly one self loop per node
    sums = torch.zeros(9, heads, dtype=torch.float64).index_add_(0, dst, alpha)
    torch.testing.assert_close(sums, torch.ones(9, heads, dtype=torch.float64))
    a_src, a_dst = gat.att_src.detach(), gat.att_dst.detach()
    for k in range(graph.size(1)):
        j, i = int(src[k]), int(dst[k])
        nbrs = torch.nonzero(a_hat[i]).flatten()
        for h in range(heads):
            e = torch.nn.functional.leaky_relu(x[nbrs] @ a_src[:, h] + x[i] @ a_dst[:, h], 0.2)
            expected = torch.softmax(e, 0)[(nbrs == j).nonzero().item()]
            torch.testing.assert_close(alpha[k, h], expected)
    rebuilt = torch.empty_like(x)
    for h in range(heads):
        s = torch.zeros(9, 9, dtype=torch.float64)
        s[dst, src] = alpha[:, h]
        block = slice(h * c // heads, (h + 1) * c // heads)
        rebuilt[:, block] = 0.3 * x[:, block] + 0.7 * (s @ x[:, block])
    torch.testing.assert_close(out, rebuilt)
    _, (graph_sp, alpha_sp) = gat(
        x, to_torch_csr_tensor(ei.flip(0), size=9), return_attention_weights=True
    )
    dense = torch.zeros(9, 9, heads, dtype=torch.float64)
    dense[dst, src] = alpha
    dense_sp = torch.zeros(9, 9, heads, dtype=torch.float64)
    dense_sp[graph_sp[1], graph_sp[0]] = alpha_sp
    torch.testing.assert_close(dense_sp, dense)


def test_sparse_inputs_equal_edge_index(data):
    _, ei, x = data
    w = torch.rand(ei.size(1), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    conv = OmegaGCNConv(8, omega_init=0.6).double()
    gat = OmegaGATConv(8, heads=2, omega_init=1.3).double()
    ref_conv, ref_gat = conv(x, ei, w), gat(x, ei)
    for to_sparse in (to_torch_coo_tensor, to_torch_csr_tensor):
        adj_t = to_sparse(ei.flip(0), w, size=9)  # PyG passes the transposed adjacency
        torch.testing.assert_close(conv(x, adj_t), ref_conv)
        torch.testing.assert_close(gat(x, adj_t), ref_gat)


def test_gradient_reaches_omega_and_attention(data):
    _, ei, x = data
    for conv in (OmegaGCNConv(8, omega_init=0.5), OmegaGATConv(8, heads=2)):
        conv = conv.double()
        conv(x, ei).pow(2).sum().backward()
        assert conv.omega.grad is not None and conv.omega.grad.abs().sum() > 0
        if isinstance(conv, OmegaGATConv):
            assert conv.att_src.grad.abs().sum() > 0 and conv.att_dst.grad.abs().sum() > 0


def test_omega_grad_is_channel_sum_of_sx_minus_x(data):
    g, ei, x = data
    conv = OmegaGCNConv(8, omega_init=0.5).double()
    conv(x, ei).sum().backward()
    s = _gcn_operator(_dense_adj(g, 9))
    torch.testing.assert_close(conv.omega.grad, (s @ x - x).sum(0))


def test_external_shared_omega(data):
    _, ei, x = data
    conv = OmegaGCNConv(8, omega="none").double()
    assert conv.omega is None and len(list(conv.parameters())) == 0
    with pytest.raises(ValueError, match="omega='none'"):
        conv(x, ei)
    shared = torch.nn.Parameter(torch.full((8,), 0.0, dtype=torch.float64))
    torch.testing.assert_close(conv(x, ei, omega=shared), x)
    gat = OmegaGATConv(8, omega="none").double()
    torch.testing.assert_close(gat(x, ei, omega=shared), x)


def test_cached_operator_is_reused_and_reset(data):
    _, ei, x = data
    conv = OmegaGCNConv(8, cached=True).double()
    first = conv(x, ei)
    # a cached layer ignores a new graph until reset_parameters() clears the cache
    torch.testing.assert_close(conv(x, ei[:, :2]), first)
    conv.reset_parameters()
    assert not torch.allclose(conv(x, ei[:, :2]), first)
    gat = OmegaGATConv(8, cached=True).double()
    out = gat(x, ei)
    torch.testing.assert_close(gat(x, ei[:, :2]), out)


def test_repr_and_parameter_shapes():
    assert repr(OmegaGCNConv(64)) == "OmegaGCNConv(64, omega='channel')"
    assert repr(OmegaGATConv(64, heads=8, omega="scalar")) == (
        "OmegaGATConv(64, heads=8, omega='scalar')"
    )
    assert OmegaGCNConv(16).omega.shape == (16,)
    assert OmegaGCNConv(16, omega="scalar").omega.shape == (1,)
    assert OmegaGATConv(16, heads=4).att_src.shape == (16, 4)
    assert torch.equal(OmegaGCNConv(5).omega, torch.ones(5))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="omega must be one of"):
        OmegaGCNConv(8, omega="layer")
    with pytest.raises(ValueError, match="multiple of heads"):
        OmegaGATConv(10, heads=3)
    with pytest.raises(ValueError, match=r"expected node features \[N, 8\]"):
        OmegaGCNConv(8)(torch.randn(4, 5), torch.tensor([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="omega must have shape"):
        omega_mix(torch.zeros(3, 4), torch.zeros(3, 4), torch.zeros(3))


def test_dirichlet_energy_matches_laplacian_traces(data):
    g, ei, x = data
    a = _dense_adj(g, 9)
    lap = torch.tensor(nx.laplacian_matrix(g, nodelist=range(9)).toarray(), dtype=torch.float64)
    torch.testing.assert_close(dirichlet_energy(x, ei), torch.trace(x.T @ lap @ x))
    torch.testing.assert_close(
        dirichlet_energy(x, ei, reduction="mean"), torch.trace(x.T @ lap @ x) / 9
    )
    lap_gcn = torch.eye(9, dtype=torch.float64) - _gcn_operator(a)
    torch.testing.assert_close(
        dirichlet_energy(x, ei, normalization="sym"), torch.trace(x.T @ lap_gcn @ x)
    )
    # constant features have zero energy, and self loops change nothing
    assert dirichlet_energy(torch.ones(9, 3), ei).item() == 0.0
    loops = torch.cat([ei, torch.arange(9).repeat(2, 1)], dim=1)
    torch.testing.assert_close(dirichlet_energy(x, loops), dirichlet_energy(x, ei))
    with pytest.raises(ValueError, match="normalization"):
        dirichlet_energy(x, ei, normalization="rw")


def _random_csr(m: int, n: int, nnz: int, seed: int, duplicates: bool = False):
    """A random directed pattern (with repeated positions when ``duplicates``) as CSR + dense."""
    gen = torch.Generator().manual_seed(seed)
    row = torch.randint(0, m, (nnz,), generator=gen)
    col = torch.randint(0, n, (nnz,), generator=gen)
    if duplicates:
        row, col = torch.cat([row, row[:5]]), torch.cat([col, col[:5]])
    val = torch.rand(row.numel(), generator=gen, dtype=torch.float64)
    dense = torch.zeros(m, n, dtype=torch.float64).index_put_((row, col), val, accumulate=True)
    coo = torch.sparse_coo_tensor(torch.stack([row, col]), val, (m, n))
    # a CSR with every stored entry (repeats kept): sort by row only, stably
    order = torch.argsort(row, stable=True)
    crow = torch.zeros(m + 1, dtype=torch.long)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=m), 0)
    csr = torch.sparse_csr_tensor(crow, col[order], val[order], (m, n))
    return (coo.coalesce().to_sparse_csr() if not duplicates else csr), dense


@pytest.mark.parametrize("duplicates", [False, True])
def test_csr_transpose_matches_dense_and_permutation(duplicates):
    a, dense = _random_csr(7, 5, 20, seed=1, duplicates=duplicates)
    a_t, perm = csr_transpose(a)
    assert a_t.shape == (5, 7) and a_t.layout == torch.sparse_csr
    torch.testing.assert_close(a_t.to_dense(), dense.t())
    assert torch.equal(a_t.values(), a.values()[perm])
    assert torch.equal(torch.sort(perm).values, torch.arange(a.values().numel()))
    # other values on the same pattern transpose by the same permutation
    v = torch.arange(a.values().numel(), dtype=torch.float64)
    b = torch.sparse_csr_tensor(a.crow_indices(), a.col_indices(), v, a.shape)
    b_t = torch.sparse_csr_tensor(a_t.crow_indices(), a_t.col_indices(), v[perm], (5, 7))
    torch.testing.assert_close(b_t.to_dense(), b.to_dense().t())
    with pytest.raises(ValueError, match="CSR"):
        csr_transpose(dense)


def test_csr_matmul_equals_spmm_and_its_gradient_bitwise():
    """Directed pattern (A != A^T): forward and gradient equal autograd through PyG's spmm to
    the bit, and the dense A X / A^T G."""
    a, dense = _random_csr(30, 30, 120, seed=2)
    a = a.to(torch.float32)
    a_t, _ = csr_transpose(a)
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(30, 6, generator=gen, requires_grad=True)
    g = torch.randn(30, 6, generator=gen)
    ref = spmm(a, x, reduce="sum")
    ref.backward(g)
    ref_grad = x.grad.clone()
    x.grad = None
    out = csr_matmul(a, a_t, x)
    out.backward(g)
    assert torch.equal(out, ref) and torch.equal(x.grad, ref_grad)
    torch.testing.assert_close(x.grad, dense.t().float() @ g)
    w = a.values().clone().requires_grad_(True)
    with pytest.raises(ValueError, match="constant"):
        csr_matmul(torch.sparse_csr_tensor(a.crow_indices(), a.col_indices(), w, a.shape), a_t, x)


@pytest.mark.parametrize("train_weight", [True, False])
def test_csr_linear_equals_addmm_and_its_gradients_bitwise(train_weight):
    a, _ = _random_csr(40, 25, 90, seed=4)
    a = a.to(torch.float32)
    a_t, perm = csr_transpose(a)
    # dropout-like new values on the same pattern; the transpose pattern is reused
    v = a.values() * (
        torch.rand(a.values().numel(), generator=torch.Generator().manual_seed(5)) > 0.5
    )
    x = torch.sparse_csr_tensor(a.crow_indices(), a.col_indices(), v * 2.0, a.shape)
    gen = torch.Generator().manual_seed(6)
    w = torch.randn(8, 25, generator=gen).requires_grad_(train_weight)
    b = torch.randn(8, generator=gen, requires_grad=True)
    g = torch.randn(40, 8, generator=gen)
    ref = torch.addmm(b, x, w.t())
    ref.backward(g)
    ref_w = w.grad.clone() if train_weight else None
    ref_b = b.grad.clone()
    w.grad, b.grad = None, None
    out = csr_linear(x, (a_t.crow_indices(), a_t.col_indices(), perm), w, b)
    out.backward(g)
    assert torch.equal(out, ref) and torch.equal(b.grad, ref_b)
    if train_weight:
        assert torch.equal(w.grad, ref_w)
        torch.testing.assert_close(w.grad, g.t() @ x.to_dense())
    else:
        assert w.grad is None
