import math

import numpy as np
import pytest
import torch
from scipy import stats

from graphsmooth.smc import GrowthModel, LinearGaussian, StochasticVolatility, simulate


def _lg2():
    A = torch.tensor([[0.8, 0.1], [-0.2, 0.7]], dtype=torch.float64)
    C = torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    Q = torch.tensor([[0.5, 0.1], [0.1, 0.3]], dtype=torch.float64)
    R = torch.tensor([[0.2]], dtype=torch.float64)
    return LinearGaussian(A, C, Q, R, m0=torch.tensor([1.0, -1.0]), P0=torch.eye(2) * 2.0)


def test_linear_gaussian_densities_match_scipy():
    m = _lg2()
    g = torch.Generator().manual_seed(0)
    xp = torch.randn(7, 2, generator=g, dtype=torch.float64)
    x = torch.randn(7, 2, generator=g, dtype=torch.float64)
    y = torch.tensor([0.3], dtype=torch.float64)
    A, Q = m.A.numpy(), m.Q.numpy()
    ref_q = [
        stats.multivariate_normal(A @ a, Q).logpdf(b)
        for a, b in zip(xp.numpy(), x.numpy(), strict=True)
    ]
    np.testing.assert_allclose(m.transition_log_density(1, xp, x).numpy(), ref_q, rtol=1e-10)
    ref_g = [stats.norm(m.C.numpy() @ b, math.sqrt(0.2)).logpdf(0.3)[0] for b in x.numpy()]
    np.testing.assert_allclose(m.observation_log_density(1, x, y).numpy(), ref_g, rtol=1e-10)
    ref_0 = stats.multivariate_normal([1.0, -1.0], 2.0 * np.eye(2)).logpdf(x.numpy())
    np.testing.assert_allclose(m.initial_log_density(x).numpy(), ref_0, rtol=1e-10)
    # broadcasting [R, 1, d] x [1, N, d] -> [R, N] is what the O(N^2) kernel uses
    full = m.transition_log_density(1, xp.unsqueeze(0), x.unsqueeze(1))
    assert full.shape == (7, 7)
    np.testing.assert_allclose(torch.diagonal(full).numpy(), ref_q, rtol=1e-10)
    # the bound is the Gaussian mode value, attained at x = A x'
    bound = m.transition_log_bound(1)
    assert float(full.max()) <= float(bound)
    np.testing.assert_allclose(
        float(m.transition_log_density(1, xp[:1], xp[:1] @ m.A.T)), float(bound), rtol=1e-12
    )


def test_scalar_models_match_scipy():
    g = torch.Generator().manual_seed(1)
    xp = torch.randn(5, 1, generator=g, dtype=torch.float64)
    x = torch.randn(5, 1, generator=g, dtype=torch.float64)
    y = torch.tensor([0.7], dtype=torch.float64)
    sv = StochasticVolatility(mu=-1.0, rho=0.9, sigma=0.3)
    mean = -1.0 + 0.9 * (xp[:, 0].numpy() + 1.0)
    np.testing.assert_allclose(
        sv.transition_log_density(1, xp, x).numpy(), stats.norm(mean, 0.3).logpdf(x[:, 0])
    )
    np.testing.assert_allclose(
        sv.observation_log_density(1, x, y).numpy(),
        stats.norm(0, np.exp(x[:, 0].numpy() / 2)).logpdf(0.7),
    )
    np.testing.assert_allclose(
        sv.initial_log_density(x).numpy(),
        stats.norm(-1.0, 0.3 / math.sqrt(1 - 0.81)).logpdf(x[:, 0]),
    )
    gm = GrowthModel(sigma_x=2.0, sigma_y=0.5)
    a = xp[:, 0].numpy()
    gmean = a / 2 + 25 * a / (1 + a**2) + 8 * np.cos(1.2 * 3)
    np.testing.assert_allclose(
        gm.transition_log_density(3, xp, x).numpy(), stats.norm(gmean, 2.0).logpdf(x[:, 0])
    )
    np.testing.assert_allclose(
        gm.observation_log_density(3, x, y).numpy(),
        stats.norm(x[:, 0].numpy() ** 2 / 20, 0.5).logpdf(0.7),
    )
    for m in (sv, gm):
        assert float(m.transition_log_bound(1)) == pytest.approx(
            stats.norm(0, float(getattr(m, "sigma", getattr(m, "sigma_x", None)))).logpdf(0)
        )


def test_simulate_moments_linear_gaussian():
    # stationary AR(1): Var X = q / (1 - a^2); observation variance adds r
    a, q, r = 0.8, 0.36, 0.25
    m = LinearGaussian(a, 1.0, q, r, P0=q / (1 - a**2))
    sim = simulate(m, 20000, torch.Generator().manual_seed(3))
    assert sim.states.shape == (20000, 1) and sim.observations.shape == (20000, 1)
    assert float(sim.states.var()) == pytest.approx(1.0, rel=0.06)
    assert float((sim.observations - sim.states).var()) == pytest.approx(r, rel=0.05)
    lag = float((sim.states[1:] * sim.states[:-1]).mean())
    assert lag == pytest.approx(a, rel=0.08)


def test_parameters_carry_gradients():
    a = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    log_q = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    m = LinearGaussian(a, 1.0, log_q.exp(), 1.0)
    x_prev = torch.tensor([[1.0]], dtype=torch.float64)
    x = torch.tensor([[2.0]], dtype=torch.float64)
    m.transition_log_density(1, x_prev, x).sum().backward()
    q = math.exp(0.1)
    assert float(a.grad) == pytest.approx((2.0 - 0.5) * 1.0 / q)
    assert float(log_q.grad) == pytest.approx(-0.5 + 0.5 * 1.5**2 / q)
    sv_sigma = torch.tensor(0.3, requires_grad=True, dtype=torch.float64)
    StochasticVolatility(sigma=sv_sigma).transition_log_density(1, x_prev, x).sum().backward()
    assert sv_sigma.grad is not None and torch.isfinite(sv_sigma.grad)


def test_model_errors():
    with pytest.raises(ValueError, match="Q must be symmetric positive definite"):
        LinearGaussian(0.5, 1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="C must have shape"):
        LinearGaussian(torch.eye(2), torch.ones(1, 3), torch.eye(2), torch.eye(1))
    with pytest.raises(ValueError, match="num_steps"):
        simulate(LinearGaussian(0.5, 1.0, 1.0, 1.0), 0)
    with pytest.raises(ValueError, match="scalars"):
        StochasticVolatility(mu=torch.zeros(2))
