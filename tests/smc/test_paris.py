import math

import numpy as np
import pytest
import torch
from scipy import stats

from graphsmooth.smc import (
    LinearGaussian,
    ParticleFilter,
    StochasticVolatility,
    backward_sample,
    kalman_smoother,
    linear_gaussian_statistics,
    paris,
    paris_update,
    simulate,
    state_sum,
)


def _lg2():
    A = torch.tensor([[0.8, 0.2], [-0.1, 0.6]], dtype=torch.float64)
    C = torch.tensor([[1.0, 0.0], [0.3, 1.0]], dtype=torch.float64)
    Q = torch.tensor([[0.4, 0.1], [0.1, 0.3]], dtype=torch.float64)
    R = 0.3 * torch.eye(2, dtype=torch.float64)
    return LinearGaussian(A, C, Q, R)


def _numpy_backward_kernel(model, prev_x, prev_lw, x):
    """Independent O(N^2) kernel with scipy densities."""
    A, Q = model.A.numpy(), model.Q.numpy()
    out = np.empty((x.shape[0], prev_x.shape[0]))
    for i, xi in enumerate(x.numpy()):
        logq = np.array([stats.multivariate_normal(A @ xp, Q).logpdf(xi) for xp in prev_x.numpy()])
        lw = prev_lw.numpy() + logq
        out[i] = np.exp(lw - lw.max())
        out[i] /= out[i].sum()
    return out


def _fixed_system(seed: int, spread: float):
    """A fixed particle system at t-1 (6 weighted particles), 3 targets at t and the exact
    backward kernel Lambda(i, j) computed independently with numpy/scipy."""
    m = _lg2()
    g = torch.Generator().manual_seed(seed)
    prev_x = spread * torch.randn(6, 2, generator=g, dtype=torch.float64)
    prev_lw = torch.log(torch.tensor([0.1, 0.3, 0.05, 0.25, 0.2, 0.1], dtype=torch.float64))
    x = torch.randn(3, 2, generator=g, dtype=torch.float64)
    return m, g, prev_x, prev_lw, x, _numpy_backward_kernel(m, prev_x, prev_lw, x)


def test_hybrid_backward_draws_follow_the_kernel():
    m, g, prev_x, prev_lw, x, lam = _fixed_system(0, 1.5)
    k = 20000
    for max_trials, exact in [(32, False), (1, False), (0, False), (32, True)]:
        method = "sampling" if exact else "rejection"
        draws = backward_sample(
            m, 1, prev_x, prev_lw, x, k, method=method, max_trials=max_trials, generator=g
        )
        assert draws.indices.shape == (3, k)
        for row, p in zip(draws.indices.numpy(), lam, strict=True):
            counts, expected = np.bincount(row, minlength=6), p * k
            # chi-square test; cells expecting < 5 draws are pooled into the largest cell
            big, top = expected >= 5, int(np.argmax(expected))
            counts[top] += counts[~big].sum()
            expected[top] += expected[~big].sum()
            assert stats.chisquare(counts[big], expected[big]).pvalue > 1e-4, (max_trials, exact)
        if exact or max_trials == 0:
            assert draws.num_proposals == 0 and draws.num_fallback == 3 * k
    # with many trials the exact fallback is rare here
    d = backward_sample(m, 1, prev_x, prev_lw, x, k, method="rejection", max_trials=64, generator=g)
    assert d.num_fallback < 0.2 * 3 * k and d.num_proposals >= 3 * k


def _record_system(model, y, n, seed):
    return list(ParticleFilter(model, y, n, generator=torch.Generator().manual_seed(seed)))


def _numpy_ffbsm(model, states, fn):
    """Independent forward-only O(N^2) smoother (Del Moral, Doucet, Singh 2010) in numpy."""
    tau = fn(0, None, states[0].particles).numpy()
    for prev, s in zip(states[:-1], states[1:], strict=True):
        lam = _numpy_backward_kernel(model, prev.particles, prev.log_weights, s.particles)
        new = np.empty((s.particles.shape[0], tau.shape[1]))
        for i in range(s.particles.shape[0]):
            xi = s.particles[i : i + 1].expand_as(prev.particles)
            h = fn(s.t, prev.particles, xi).numpy()
            new[i] = lam[i] @ (tau + h)
        tau = new
    w = np.exp(states[-1].log_weights.numpy())
    return w @ tau


def test_paris_mean_over_backward_draws_equals_on2_smoother():
    m = _lg2()
    y = simulate(m, 6, torch.Generator().manual_seed(4)).observations
    states = _record_system(m, y, 15, 5)
    fn = linear_gaussian_statistics
    ref = _numpy_ffbsm(m, states, fn)

    def run(backward, generator, k=2):
        tau = fn(0, None, states[0].particles)
        for prev, s in zip(states[:-1], states[1:], strict=True):
            tau, _ = paris_update(
                m, s.t, fn, prev.particles, prev.log_weights, tau, s.particles, k,
                backward=backward, ancestors=s.ancestors, generator=generator,
            )  # fmt: skip
        return (torch.exp(states[-1].log_weights).unsqueeze(1) * tau).sum(0).numpy()

    np.testing.assert_allclose(run("exact", None), ref, rtol=1e-10, atol=1e-10)
    g = torch.Generator().manual_seed(6)
    reps = np.stack([run("rejection", g) for _ in range(150)])
    se = reps.std(0, ddof=1) / math.sqrt(len(reps))
    assert np.all(np.abs(reps.mean(0) - ref) <= 4.5 * se + 1e-9)
    # K draws reduce the spread: a single run with K = 400 is close to the expectation
    one = run("rejection", g, k=400)
    assert np.all(np.abs(one - ref) <= 4.5 * reps.std(0, ddof=1) / math.sqrt(200) + 1e-9)


def test_paris_matches_kalman_over_replicated_runs():
    m = _lg2()
    y = simulate(m, 30, torch.Generator().manual_seed(7)).observations
    exact = kalman_smoother(m, y).statistics.numpy()
    g = torch.Generator().manual_seed(8)
    reps = np.stack(
        [
            paris(m, y, linear_gaussian_statistics, 300, generator=g).estimate.numpy()
            for _ in range(12)
        ]
    )
    se = reps.std(0, ddof=1) / math.sqrt(len(reps))
    z = np.abs(reps.mean(0) - exact) / se
    assert np.all(z < 4.5), z


def test_lag_statistic_layout_matches_statsmodels_autocov():
    # E[sum x_t x_{t-1}^T] vs statsmodels' smoothed_state_autocov, component by component
    m = _lg2()
    y = simulate(m, 10, torch.Generator().manual_seed(7)).observations
    ks = kalman_smoother(m, y)
    assert ks.lag_covs.shape == (9, 2, 2)
    s3 = ks.statistics[6:].reshape(2, 2)
    manual = sum(
        ks.lag_covs[t - 1] + torch.outer(ks.means[t], ks.means[t - 1]) for t in range(1, 10)
    )
    torch.testing.assert_close(s3, manual)


def test_bound_violation_and_argument_errors():
    class BadBound(StochasticVolatility):
        def transition_log_bound(self, t):
            return super().transition_log_bound(t) - 5.0

    y = torch.zeros(5)
    with pytest.raises(ValueError, match=r"transition_log_bound .* t=1"):
        paris(BadBound(), y, state_sum, 50, backward="rejection")
    m = StochasticVolatility()
    with pytest.raises(ValueError, match="mh, rejection, sampling, exact"):
        paris(m, y, state_sum, 50, backward="magic")
    with pytest.raises(ValueError, match="num_backward"):
        paris(m, y, state_sum, 50, num_backward=0)
    with pytest.raises(ValueError, match=r"functional must return \[N, F\]"):
        paris(m, y, lambda t, xp, x: x[:, 0], 50)


def test_paris_runs_on_stochastic_volatility_and_tracks_cost():
    m = StochasticVolatility(mu=-1.0, rho=0.9, sigma=0.3)
    y = simulate(m, 50, torch.Generator().manual_seed(1)).observations
    g = torch.Generator().manual_seed(2)
    res = [paris(m, y, state_sum, 200, backward="rejection", generator=g) for _ in range(4)]
    ref = [paris(m, y, state_sum, 200, backward="exact", generator=g) for _ in range(4)]
    assert res[0].num_proposals.shape == (49,) and res[0].num_fallback.shape == (49,)
    assert int(res[0].num_proposals.min()) >= 400  # at least one proposal per draw
    a = np.array([float(r.estimate) for r in res])
    b = np.array([float(r.estimate) for r in ref])
    se = math.sqrt(a.var(ddof=1) / 4 + b.var(ddof=1) / 4)
    assert abs(a.mean() - b.mean()) < 5 * se


def _chi2_pvalues(indices: np.ndarray, lam: np.ndarray) -> list[float]:
    """Chi-square p-values of each row of draws against the kernel rows (small cells pooled)."""
    out = []
    for row, p in zip(indices, lam, strict=True):
        counts, expected = np.bincount(row, minlength=len(p)).astype(float), p * len(row)
        big, top = expected >= 5, int(np.argmax(expected))
        counts[top] += counts[~big].sum()
        expected[top] += expected[~big].sum()
        out.append(stats.chisquare(counts[big], expected[big]).pvalue)
    return out


def test_mh_backward_kernel_is_invariant_and_needs_a_kernel_distributed_start():
    m, g, prev_x, prev_lw, x, lam = _fixed_system(10, 0.5)
    k = 20000
    # start every chain at an exact draw of Lambda(i, .): one MH step keeps that law
    start = backward_sample(m, 1, prev_x, prev_lw, x, k, method="sampling", generator=g)
    xs = x.repeat_interleave(k, 0)
    d = backward_sample(
        m, 1, prev_x, prev_lw, xs, 1, method="mh", ancestors=start.indices.reshape(-1),
        mh_steps=1, generator=g,
    )  # fmt: skip
    got = d.indices.reshape(3, k).numpy()
    assert min(_chi2_pvalues(got, lam)) > 1e-4
    assert int(d.num_proposals) == 3 * k and 0 < int(d.num_accepted) < 3 * k
    assert np.mean(got != start.indices.numpy()) > 0.1  # the chains did move
    # from a fixed start the chain converges geometrically (independent MH: TV distance
    # <= (1 - min_j Lambda_j / w_j)^s, about 0.86^80 here): 80 steps from index 2 give Lambda
    fixed = torch.full((3 * k,), 2, dtype=torch.long)
    d = backward_sample(
        m, 1, prev_x, prev_lw, xs, 1, method="mh", ancestors=fixed, mh_steps=80, generator=g
    )
    assert min(_chi2_pvalues(d.indices.reshape(3, k).numpy(), lam)) > 1e-4
    # but one step from a fixed start is not Lambda(i, .): the test above has power
    d = backward_sample(
        m, 1, prev_x, prev_lw, xs, 1, method="mh", ancestors=fixed, mh_steps=1, generator=g
    )
    assert max(_chi2_pvalues(d.indices.reshape(3, k).numpy(), lam)) < 1e-6


def _mh_minus_exact(m, prev, tau_prev, reps, resample, g, start="ancestor"):
    """Per replicate of one filter step from a fixed system at t - 1:
    sum_i wbar_i g(xi_i) (tau_mh_i - tau_exact_i), with the unnormalised weights."""
    n = prev.particles.shape[0]
    y1 = torch.tensor([0.3, -0.2], dtype=torch.float64)
    if resample:
        # systematic resampling, one independent draw per replicate
        u = (torch.arange(n, dtype=torch.float64) + torch.rand(reps, 1, generator=g)) / n
        cdf = torch.cumsum(torch.exp(prev.log_weights), 0)
        anc = torch.searchsorted(cdf, u * cdf[-1], right=True).clamp_(max=n - 1).reshape(-1)
        log_wbar = torch.full((reps * n,), -math.log(n), dtype=torch.float64)
    else:
        anc = torch.arange(n).repeat(reps)
        log_wbar = prev.log_weights.repeat(reps)
    x = m.sample_transition(1, prev.particles[anc], g)
    w = torch.exp(log_wbar + m.observation_log_density(1, x, y1))
    if start == "uniform":  # a wrong start: not the ancestor
        anc = torch.randint(n, (reps * n,), generator=g)
    args = (m, 1, linear_gaussian_statistics, prev.particles, prev.log_weights, tau_prev, x, 2)
    mh, _ = paris_update(*args, backward="mh", ancestors=anc, mh_steps=1, generator=g)
    ex, _ = paris_update(*args, backward="exact")
    return ((w.unsqueeze(1) * (mh - ex)).reshape(reps, n, -1).sum(1)).numpy()


@pytest.mark.parametrize("resample", [True, False])
def test_paris_mh_first_moment_equals_exact_kernel_on_a_fixed_system(resample):
    # E[sum_i wbar_i g_i tau_i | F_{t-1}] is the same for PaRIS with MH-from-the-ancestor
    # draws and for the exact O(N^2) recursion, with and without resampling
    m = _lg2()
    y = simulate(m, 2, torch.Generator().manual_seed(11)).observations
    prev = _record_system(m, y[:1], 12, 12)[0]
    g = torch.Generator().manual_seed(13)
    tau_prev = linear_gaussian_statistics(0, None, prev.particles) + torch.randn(
        12, 10, generator=g, dtype=torch.float64
    )
    diff = _mh_minus_exact(m, prev, tau_prev, 6000, resample, g)
    z = np.abs(diff.mean(0)) / (diff.std(0, ddof=1) / math.sqrt(len(diff)))
    assert np.all(z < 4.5), z
    # starting the chains anywhere but at the ancestor breaks the identity (detected)
    bad = _mh_minus_exact(m, prev, tau_prev, 6000, resample, g, start="uniform")
    zb = np.abs(bad.mean(0)) / (bad.std(0, ddof=1) / math.sqrt(len(bad)))
    assert zb.max() > 8, zb


def test_mh_argument_errors():
    m = _lg2()
    x = torch.zeros(3, 2, dtype=torch.float64)
    lw = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="needs the ancestors"):
        backward_sample(m, 1, x, lw, x, 2, method="mh")
    with pytest.raises(ValueError, match="mh_steps must be >= 1"):
        backward_sample(m, 1, x, lw, x, 2, method="mh", ancestors=torch.arange(3), mh_steps=0)
    with pytest.raises(ValueError, match=r"ancestors must have shape \[3\]"):
        backward_sample(m, 1, x, lw, x, 2, method="mh", ancestors=torch.arange(4))
    with pytest.raises(ValueError, match="valid names: mh, rejection, sampling"):
        backward_sample(m, 1, x, lw, x, 2, method="exact")
    with pytest.raises(ValueError, match="mh_steps must be >= 1"):
        paris(m, torch.zeros(3, 2), state_sum, 10, mh_steps=0)


def test_online_estimates_are_the_estimates_on_each_prefix():
    m = _lg2()
    y = simulate(m, 12, torch.Generator().manual_seed(30)).observations
    full = paris(m, y, state_sum, 50, keep_online=True, generator=torch.Generator().manual_seed(3))
    assert full.online_estimates.shape == (12, 2)
    torch.testing.assert_close(full.online_estimates[-1], full.estimate)
    for t in (0, 4, 9):  # same random stream: the run on y_{0:t} is the prefix of the full run
        part = paris(m, y[: t + 1], state_sum, 50, generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(full.online_estimates[t], part.estimate)
    assert paris(m, y, state_sum, 50).online_estimates is None
