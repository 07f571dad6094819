"""TimeGNN layer and Sobolev loss: checked against dense matrices, scipy and PyG's ChebConv."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from torch_geometric.nn import ChebConv

from graphsmooth.nn.losses import (
    SobolevLoss,
    sobolev_operator,
    sobolev_smoothness,
    temporal_difference,
    temporal_difference_adjoint,
)
from graphsmooth.nn.timegnn import TimeGNN, chebyshev_basis, scaled_laplacian
from tests.dense_reference import dense_dh, random_weighted_graph


@pytest.mark.parametrize("order", [1, 2])
def test_temporal_difference_matches_dense_operator(order):
    x = torch.randn(4, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    dh = dense_dh(9, order)
    np.testing.assert_allclose(temporal_difference(x, order).numpy(), x.numpy() @ dh, atol=1e-12)
    z = torch.randn(4, 9 - order, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(
        temporal_difference_adjoint(z, order).numpy(), z.numpy() @ dh.T, atol=1e-12
    )


def test_temporal_difference_hand_values():
    x = torch.tensor([[1.0, 4.0, 9.0, 16.0]])
    assert temporal_difference(x).tolist() == [[3.0, 5.0, 7.0]]
    assert temporal_difference(x, 2).tolist() == [[2.0, 2.0]]
    with pytest.raises(ValueError, match="order"):
        temporal_difference(x, 0)
    with pytest.raises(ValueError, match="time steps"):
        temporal_difference(x, 4)


@pytest.mark.parametrize("beta", [1.0, 2.0, 0.5, 1.5])
@pytest.mark.parametrize("order", [1, 2])
def test_sobolev_smoothness_equals_dense_trace(beta, order):
    ei, ew, w = random_weighted_graph(7, 0.4, seed=3)
    lap = np.diag(w.sum(1)) - w
    eps = 0.1
    s = scipy.linalg.fractional_matrix_power(lap + eps * np.eye(7), beta).real
    x = torch.randn(7, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    xd = x.numpy() @ dense_dh(11, order)
    expected = np.trace(xd.T @ s @ xd)
    got = sobolev_smoothness(x, ei, ew, eps=eps, beta=beta, order=order)
    assert float(got) == pytest.approx(expected, rel=1e-9)
    op = sobolev_operator(ei, ew, 7, eps=eps, beta=beta)
    np.testing.assert_allclose(op.dense().numpy(), s, atol=1e-9)
    np.testing.assert_allclose(op.diagonal().numpy(), np.diag(s), atol=1e-9)


def test_sobolev_gradient_is_two_s_x_dh_dht():
    ei, ew, w = random_weighted_graph(6, 0.5, seed=4)
    s = np.diag(w.sum(1)) - w + 0.05 * np.eye(6)
    x = torch.randn(6, 8, dtype=torch.float64, requires_grad=True)
    sobolev_smoothness(x, ei, ew, eps=0.05).backward()
    dh = dense_dh(8, 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * s @ x.detach().numpy() @ dh @ dh.T, atol=1e-10)


def test_sobolev_operator_rejects_bad_arguments():
    ei, ew, _ = random_weighted_graph(5, 0.5, seed=0)
    with pytest.raises(ValueError, match="needs eps > 0"):
        sobolev_operator(ei, ew, 5, eps=0.0, beta=0.5)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        sobolev_operator(ei, ew, 5, eps=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        sobolev_operator(ei, -ew, 5)


def test_sobolev_loss_value_and_repr():
    ei, ew, w = random_weighted_graph(5, 0.5, seed=5)
    s = np.diag(w.sum(1)) - w + 0.02 * np.eye(5)
    gen = torch.Generator().manual_seed(6)
    x_hat = torch.randn(5, 6, dtype=torch.float64, generator=gen)
    y = torch.randn(5, 6, dtype=torch.float64, generator=gen)
    mask = torch.rand(5, 6, generator=gen) < 0.5
    loss = SobolevLoss(ei, ew, 5, lam=0.3, eps=0.02)
    xd = x_hat.numpy() @ dense_dh(6, 1)
    expected = ((x_hat - y)[mask] ** 2).mean().item() + 0.3 * np.trace(xd.T @ s @ xd)
    assert float(loss(x_hat, y, mask)) == pytest.approx(expected, rel=1e-10)
    # float32 input uses a float32 copy of the operator
    assert float(loss(x_hat.float(), y.float(), mask)) == pytest.approx(expected, rel=1e-4)
    assert repr(loss) == "SobolevLoss(lam=0.3, eps=0.02, beta=1, order=1)"


def test_chebyshev_basis_recurrence():
    ei, ew, w = random_weighted_graph(6, 0.5, seed=7)
    lap = scaled_laplacian(ei, ew, 6, dtype=torch.float64).to_dense().numpy()
    d = w.sum(1)
    np.testing.assert_allclose(lap, -w / np.sqrt(np.outer(d, d)), atol=1e-12)
    x = torch.randn(6, 3, dtype=torch.float64)
    basis = chebyshev_basis(x, torch.from_numpy(lap), 3).numpy()
    xn = x.numpy()
    t2 = 2 * lap @ lap @ xn - xn
    t3 = 2 * lap @ t2 - lap @ xn
    np.testing.assert_allclose(basis[2], t2, atol=1e-12)
    np.testing.assert_allclose(basis[3], t3, atol=1e-12)


@pytest.mark.parametrize("branch", [1, 2, 3])
def test_timegnn_branch_equals_pyg_chebconv(branch):
    torch.manual_seed(0)
    ei, ew, _ = random_weighted_graph(8, 0.4, seed=8)
    model = TimeGNN(5, 4, hidden_channels=3, K=3, num_linear=1, dropout=0.0).double()
    ref = ChebConv(5, 3, K=branch + 1, normalization="sym").double()
    with torch.no_grad():
        for j, lin in enumerate(ref.lins):
            model.weight[branch - 1, j] = lin.weight.T
        model.bias[branch - 1] = torch.randn(3, dtype=torch.float64)
        ref.bias.copy_(model.bias[branch - 1])
        model.fusion.zero_()
        model.fusion[branch - 1] = 1.0
    x = torch.randn(8, 5, dtype=torch.float64)
    expected = torch.relu(ref(x, ei, ew.double(), lambda_max=2.0))
    torch.testing.assert_close(model.encode(x, ei, ew), expected)


def test_timegnn_permutation_equivariant_and_shapes():
    torch.manual_seed(1)
    ei, ew, _ = random_weighted_graph(9, 0.4, seed=9)
    model = TimeGNN(7, 8, hidden_channels=5, K=3, num_linear=2, linear_hidden=6).double().eval()
    x = torch.randn(9, 7, dtype=torch.float64)
    out = model(x, ei, ew)
    assert out.shape == (9, 8)
    perm = torch.randperm(9)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(9)
    out_p = model(x[perm], inv[ei], ew)
    torch.testing.assert_close(out_p, out[perm])
    # the cached Laplacian is rebuilt for a different graph
    assert not torch.allclose(model(x, ei[:, :4], ew[:4]), out)


def test_timegnn_repr_and_errors():
    model = TimeGNN(599, 600, hidden_channels=32, K=4, num_linear=2, dropout=0.1)
    assert repr(model) == "TimeGNN(599, 600, hidden_channels=32, K=4, num_linear=2, dropout=0.1)"
    with pytest.raises(ValueError, match="K must be >= 1"):
        TimeGNN(3, 4, K=0)
    with pytest.raises(ValueError, match="dropout"):
        TimeGNN(3, 4, dropout=1.0)
    with pytest.raises(ValueError, match=r"x must be \[N, 599\]"):
        model(torch.randn(4, 3), torch.tensor([[0, 1], [1, 0]]))


def test_timegnn_masked_weights_get_no_gradient():
    ei, ew, _ = random_weighted_graph(6, 0.5, seed=10)
    model = TimeGNN(4, 5, hidden_channels=3, K=2)
    model(torch.randn(6, 4), ei, ew.float()).sum().backward()
    # branch 1 (degree 1) must not use the degree-2 term
    assert torch.all(model.weight.grad[0, 2] == 0)
    assert torch.any(model.weight.grad[1, 2] != 0)
