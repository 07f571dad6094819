"""Recovery baselines against closed-form (dense Kronecker) solutions, sampling, metrics, TimeGNN fit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from graphsmooth.recovery import (
    conjugate_gradient,
    evaluation_mask,
    fit_timegnn,
    graphtrss,
    interpolate,
    recover,
    recovery_metrics,
    sampling_mask,
    split_mask,
    tikhonov,
)
from tests.dense_reference import dense_dh, random_weighted_graph


def _problem(n=6, t=7, seed=0, density=0.5):
    ei, ew, w = random_weighted_graph(n, 0.4, seed, low=0.1, path_weight=0.7)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, t, dtype=torch.float64, generator=gen)
    mask = torch.rand(n, t, generator=gen, dtype=torch.float64) < density
    return ei, ew, w, x * mask, mask


@pytest.mark.parametrize("beta,order", [(1.0, 1), (2.0, 1), (0.5, 1), (1.0, 2)])
def test_graphtrss_solves_the_dense_normal_equations(beta, order):
    n, t, alpha, eps = 6, 7, 0.3, 0.05
    ei, ew, w, y, mask = _problem(n, t, seed=1)
    lap = np.diag(w.sum(1)) - w
    s = scipy.linalg.fractional_matrix_power(lap + eps * np.eye(n), beta).real
    dh = dense_dh(t, order)
    # column-major vec: vec(S X M) = (M^T kron S) vec(X)
    a = np.diag(mask.numpy().T.reshape(-1).astype(float)) + alpha * np.kron(dh @ dh.T, s)
    x_ref = np.linalg.solve(a, y.numpy().T.reshape(-1)).reshape(t, n).T
    res = graphtrss(y, mask, ei, ew, alpha=alpha, eps=eps, beta=beta, order=order, tol=1e-12)
    assert res.info["converged"]
    np.testing.assert_allclose(res.x_hat.numpy(), x_ref, atol=1e-8)


def test_graphtrss_minimises_its_objective():
    """The gradient of the GraphTRSS objective (by autograd) vanishes at the returned point."""
    n, t, alpha, eps = 7, 9, 0.2, 0.05
    ei, ew, w, y, mask = _problem(n, t, seed=2)
    res = graphtrss(y, mask, ei, ew, alpha=alpha, eps=eps, tol=1e-12)
    x = res.x_hat.clone().requires_grad_(True)
    s = torch.from_numpy(np.diag(w.sum(1)) - w + eps * np.eye(n))
    xd = x[:, 1:] - x[:, :-1]
    obj = 0.5 * ((mask * x - y) ** 2).sum() + 0.5 * alpha * torch.trace(xd.T @ s @ xd)
    obj.backward()
    assert float(x.grad.abs().max()) < 1e-9


def test_tikhonov_solves_the_dense_normal_equations():
    n, t, gb, gt = 6, 8, 0.7, 0.2
    ei, ew, w, y, mask = _problem(n, t, seed=3)
    lap = np.diag(w.sum(1)) - w
    dh = dense_dh(t, 1)
    a = (
        np.diag(mask.numpy().T.reshape(-1).astype(float))
        + gb * np.kron(np.eye(t), lap)
        + gt * np.kron(dh @ dh.T, np.eye(n))
    )
    x_ref = np.linalg.solve(a, y.numpy().T.reshape(-1)).reshape(t, n).T
    res = tikhonov(y, mask, ei, ew, graph_weight=gb, time_weight=gt, tol=1e-12)
    np.testing.assert_allclose(res.x_hat.numpy(), x_ref, atol=1e-8)
    with pytest.raises(ValueError, match="not both 0"):
        tikhonov(y, mask, ei, ew, graph_weight=0.0, time_weight=0.0)


def test_conjugate_gradient_matches_numpy_solve_with_and_without_preconditioner():
    rng = np.random.default_rng(4)
    b_ = rng.normal(size=(12, 12))
    a = torch.from_numpy(b_ @ b_.T + 0.5 * np.eye(12))
    rhs = torch.from_numpy(rng.normal(size=(12, 1)))
    ref = np.linalg.solve(a.numpy(), rhs.numpy())
    plain = conjugate_gradient(lambda v: a @ v, rhs, tol=1e-13)
    pre = conjugate_gradient(lambda v: a @ v, rhs, tol=1e-13, precond=torch.diag(a)[:, None])
    np.testing.assert_allclose(plain.x.numpy(), ref, atol=1e-9)
    np.testing.assert_allclose(pre.x.numpy(), ref, atol=1e-9)
    assert plain.converged and pre.converged
    with pytest.raises(ValueError, match="positive definite"):
        conjugate_gradient(lambda v: -v, rhs)


def test_interpolate_nearest_and_linear():
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
    t = 4
    tt = torch.arange(t, dtype=torch.float64)
    # a linear function of (position, time) is reproduced exactly inside the hull
    x = 2.0 * pos[:, :1].double() - 3.0 * pos[:, 1:].double() + 0.5 * tt
    mask = torch.ones(5, t, dtype=torch.bool)
    mask[4, 1:3] = False  # the centre node, inside the hull
    res = interpolate(x * mask, mask, pos, method="linear")
    torch.testing.assert_close(res.x_hat, x)
    # nearest: the unsampled entry copies its nearest sample in (pos, time)
    pos1 = torch.tensor([[0.0], [10.0], [3.0]])
    y = torch.tensor([[1.0, 2.0], [5.0, 6.0], [0.0, 0.0]], dtype=torch.float64)
    m = torch.tensor([[True, True], [True, True], [False, False]])
    res = interpolate(y, m, pos1, method="nearest")
    assert res.x_hat[2].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="method"):
        interpolate(y, m, pos1, method="natural")


def test_sampling_mask_counts_validity_and_seeds():
    gen = torch.Generator().manual_seed(0)
    valid = torch.rand(20, 30, generator=gen) < 0.7
    valid[:, 0] = False
    valid[:3, 0] = True  # only 3 valid entries in column 0
    m = sampling_mask(valid, 0.25, seed=1)
    assert not bool((m & ~valid).any())
    counts = m.sum(0)
    assert counts[0] == 3
    expected = valid.sum(0).clamp(max=5)
    assert torch.equal(counts, expected)
    assert torch.equal(m, sampling_mask(valid, 0.25, seed=1))
    assert not torch.equal(m, sampling_mask(valid, 0.25, seed=2))
    # uniformity: every valid entry of a column is picked about equally often
    full = torch.ones(4, 2000, dtype=torch.bool)
    freq = sampling_mask(full, 0.5, seed=3).float().mean(1)
    assert torch.allclose(freq, torch.full((4,), 0.5), atol=0.04)
    with pytest.raises(ValueError, match="density"):
        sampling_mask(valid, 0.0)


def test_split_mask_is_a_disjoint_partition():
    mask = torch.rand(10, 10, generator=torch.Generator().manual_seed(0)) < 0.5
    kept, held = split_mask(mask, 0.2, seed=0)
    assert not bool((kept & held).any())
    assert torch.equal(kept | held, mask)
    assert int(held.sum()) == round(0.2 * int(mask.sum()))


def test_metrics_hand_computed():
    x = torch.tensor([[1.0, 2.0, 0.0], [4.0, 5.0, 6.0]])
    x_hat = torch.tensor([[2.0, 2.0, 1.0], [4.0, 3.0, 6.0]])
    valid = torch.tensor([[True, True, True], [False, True, True]])
    sampled = torch.tensor([[False, True, False], [False, False, True]])
    ev = evaluation_mask(valid, sampled)  # entries (0,0)=1, (0,2)=0, (1,1)=5
    m = recovery_metrics(x, x_hat, ev)
    assert m.count == 3
    assert m.rmse == pytest.approx(((1 + 1 + 4) / 3) ** 0.5)
    assert m.mae == pytest.approx((1 + 1 + 2) / 3)
    assert m.mape == pytest.approx((1 / 1 + 2 / 5) / 2)  # the zero truth is left out


def _smooth_signal(n=12, t=40, seed=0):
    ei, ew, w = random_weighted_graph(n, 0.4, seed, low=0.1, path_weight=0.7)
    lap = np.diag(w.sum(1)) - w
    evals, evecs = np.linalg.eigh(lap)
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(n, 1)) / (1 + 5 * evals[:, None])
    tt = np.arange(t)[None, :]
    x = 20 + evecs @ (coef * np.cos(0.1 * tt + rng.uniform(0, 6, size=(n, 1))))
    x = x + 2 * np.sin(0.15 * tt)
    return ei, ew, torch.from_numpy(x)


def test_fit_timegnn_learns_and_is_deterministic():
    ei, ew, x = _smooth_signal()
    mask = sampling_mask(torch.ones_like(x, dtype=torch.bool), 0.5, seed=0)
    ev = evaluation_mask(torch.ones_like(mask), mask)
    kw = dict(hidden_channels=16, linear_hidden=16, K=2, max_epochs=150, patience=30, lr=0.01)
    res = fit_timegnn(x * mask, mask, ei, ew, seed=0, **kw)
    err = recovery_metrics(x, res.x_hat, ev).rmse
    mean_err = recovery_metrics(x, torch.full_like(x, float(x[mask].mean())), ev).rmse
    assert err < 0.6 * mean_err
    assert 0 <= res.info["best_epoch"] < res.info["epochs"] <= 150
    again = fit_timegnn(x * mask, mask, ei, ew, seed=0, **kw)
    torch.testing.assert_close(res.x_hat, again.x_hat)


def test_fit_timegnn_early_stopping_stops():
    ei, ew, x = _smooth_signal(seed=1)
    mask = sampling_mask(torch.ones_like(x, dtype=torch.bool), 0.5, seed=1)
    res = fit_timegnn(
        x * mask,
        mask,
        ei,
        ew,
        hidden_channels=8,
        linear_hidden=8,
        lr=0.5,
        max_epochs=400,
        patience=5,
    )
    assert res.info["epochs"] < 400
    assert res.info["epochs"] - 1 - res.info["best_epoch"] == 5


def test_recover_dispatch_and_errors():
    ei, ew, w, y, mask = _problem(seed=5)
    direct = graphtrss(y, mask, ei, ew, alpha=0.5, eps=0.1)
    via = recover("graphtrss", y, mask, edge_index=ei, edge_weight=ew, alpha=0.5, eps=0.1)
    torch.testing.assert_close(direct.x_hat, via.x_hat)
    with pytest.raises(ValueError, match="unknown method"):
        recover("kriging", y, mask, edge_index=ei)
    with pytest.raises(ValueError, match="needs node positions"):
        recover("interp_linear", y, mask, edge_index=ei)
    with pytest.raises(ValueError, match="mask shape"):
        graphtrss(y, mask[:, :-1], ei, ew)


def test_fit_timegnn_eval_every_evaluates_less_often():
    ei, ew, x = _smooth_signal(seed=2)
    mask = sampling_mask(torch.ones_like(x, dtype=torch.bool), 0.5, seed=2)
    kw = dict(hidden_channels=8, linear_hidden=8, max_epochs=40, patience=100)
    res = fit_timegnn(x * mask, mask, ei, ew, eval_every=7, **kw)
    assert (
        len(res.info["val_mse"] if "val_mse" in res.info else res.info["history"]["val_mse"]) == 6
    )
    assert res.info["best_epoch"] % 7 == 6 or res.info["best_epoch"] == 39
    with pytest.raises(ValueError, match="eval_every"):
        fit_timegnn(x * mask, mask, ei, ew, eval_every=0)
