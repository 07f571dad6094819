import math

import numpy as np
import pytest
import torch

from graphsmooth.smc import (
    LinearGaussian,
    kalman_smoother,
    linear_gaussian_statistics,
    ppg,
    ppg_sweep,
    simulate,
)
from graphsmooth.smc.paris import ParisHistory


def _batch_se(x: np.ndarray, batches: int = 10) -> np.ndarray:
    """Standard error of an MCMC average by batch means."""
    b = np.array_split(x, batches)
    means = np.stack([c.mean(0) for c in b])
    return means.std(0, ddof=1) / math.sqrt(batches)


def test_draw_trajectory_follows_backward_indices():
    particles = torch.arange(12, dtype=torch.float64).reshape(3, 4, 1)  # value = 4 t + i
    idx = torch.tensor([[[1, 1], [0, 0], [3, 3], [2, 2]], [[2, 2], [2, 2], [0, 0], [1, 1]]])
    hist = ParisHistory(particles, idx)
    lw = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64))
    g = torch.Generator().manual_seed(0)
    counts = np.zeros(4)
    for _ in range(4000):
        path = hist.draw_trajectory(lw, g)[:, 0]
        i2 = int(path[2]) - 8
        counts[i2] += 1
        i1 = int(idx[1, i2, 0])
        assert int(path[1]) == 4 + i1 and int(path[0]) == int(idx[0, i1, 0])
    np.testing.assert_allclose(counts / 4000, [0.1, 0.2, 0.3, 0.4], atol=0.03)


def test_ppg_chain_targets_the_smoothing_distribution():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    y = simulate(m, 8, torch.Generator().manual_seed(3)).observations
    ks = kalman_smoother(m, y)
    g = torch.Generator().manual_seed(4)
    ref, paths = None, []
    _, ref, _ = ppg_sweep(m, y, linear_gaussian_statistics, 10, None, generator=g)
    for _ in range(150):
        _, ref, _ = ppg_sweep(m, y, linear_gaussian_statistics, 10, ref, generator=g)
        paths.append(ref[:, 0].numpy())
    paths = np.stack(paths)
    se = _batch_se(paths)
    z = np.abs(paths.mean(0) - ks.means[:, 0].numpy()) / se
    assert np.all(z < 4.5), z
    # the posterior variance is reproduced too (not only the mean)
    np.testing.assert_allclose(paths.var(0).mean(), ks.covs[:, 0, 0].mean().item(), rtol=0.25)


def test_ppg_estimate_matches_kalman():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    y = simulate(m, 8, torch.Generator().manual_seed(3)).observations
    exact = kalman_smoother(m, y).statistics.numpy()
    res = ppg(m, y, linear_gaussian_statistics, 10, 150, burn_in=10,
              generator=torch.Generator().manual_seed(5))  # fmt: skip
    assert res.estimates.shape == (150, 3) and res.reference.shape == (8, 1)
    torch.testing.assert_close(res.estimate, res.estimates[10:].mean(0))
    se = _batch_se(res.estimates[10:].numpy())
    z = np.abs(res.estimate.numpy() - exact) / se
    assert np.all(z < 4.5), z


def test_ppg_errors():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    y = torch.zeros(5)
    with pytest.raises(ValueError, match="num_particles must be >= 2"):
        ppg(m, y, linear_gaussian_statistics, 1, 5)
    with pytest.raises(ValueError, match="burn_in must be in"):
        ppg(m, y, linear_gaussian_statistics, 10, 5, burn_in=5)
    with pytest.raises(ValueError, match="num_iterations"):
        ppg(m, y, linear_gaussian_statistics, 10, 0)


def _exact_smoothing_paths(a, q, r, p0, y, num, rng):
    """``num`` exact draws from p(x_{0:T-1} | y) of the scalar model (Kalman filter + backward
    sampling in numpy, independent of graphsmooth): X_t | X_{t+1}, y_{0:t} is normal with mean
    m_t + J_t (X_{t+1} - a m_t) and variance P_t - J_t a P_t, J_t = a P_t / (a^2 P_t + q)."""
    n = len(y)
    m, p = np.zeros(n), np.zeros(n)
    mp, pp = 0.0, p0
    for t in range(n):
        if t > 0:
            mp, pp = a * m[t - 1], a * a * p[t - 1] + q
        k = pp / (pp + r)
        m[t], p[t] = mp + k * (y[t] - mp), (1.0 - k) * pp
    x = np.zeros((num, n))
    x[:, -1] = rng.normal(m[-1], math.sqrt(p[-1]), num)
    for t in range(n - 2, -1, -1):
        j = p[t] * a / (a * a * p[t] + q)
        x[:, t] = rng.normal(m[t] + j * (x[:, t + 1] - a * m[t]), math.sqrt(p[t] - j * a * p[t]))
    return x


def test_ppg_sweep_from_a_stationary_reference_is_unbiased():
    """Theory (docs/smc.md): if the reference is an exact smoothing draw, one sweep's estimate is
    unbiased, whereas PaRIS with the same (tiny) N has an O(1/N) bias, detected here."""
    a, q, r, T, N, reps = 0.9, 1.0, 0.5, 8, 4, 200
    m = LinearGaussian(a, 1.0, q, r)
    y = simulate(m, T, torch.Generator().manual_seed(1)).observations
    exact = kalman_smoother(m, y).statistics.numpy()
    refs = _exact_smoothing_paths(a, q, r, 1.0, y[:, 0].numpy(), reps, np.random.default_rng(2))
    # the independent sampler is right: its mean path is the RTS mean
    ks = kalman_smoother(m, y)
    np.testing.assert_allclose(refs.mean(0), ks.means[:, 0].numpy(), atol=4.5 / math.sqrt(reps))
    g = torch.Generator().manual_seed(3)
    sweeps = np.stack([
        ppg_sweep(m, y, linear_gaussian_statistics, N, torch.from_numpy(x).unsqueeze(1),
                  generator=g)[0].numpy()
        for x in refs
    ])  # fmt: skip
    z = (sweeps.mean(0) - exact) / (sweeps.std(0, ddof=1) / math.sqrt(reps))
    assert np.all(np.abs(z) < 4.5), z
    from graphsmooth.smc import paris

    par = np.stack([
        paris(m, y, linear_gaussian_statistics, N, backward="rejection", generator=g)
        .estimate.numpy()
        for _ in range(reps)
    ])  # fmt: skip
    z_paris = (par[:, 1].mean() - exact[1]) / (par[:, 1].std(ddof=1) / math.sqrt(reps))
    assert z_paris < -6, z_paris  # the test has power: PaRIS' bias at N = 4 is visible


def test_ppg_is_reproducible_with_a_generator():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    y = simulate(m, 12, torch.Generator().manual_seed(3)).observations
    runs = [
        ppg(m, y, linear_gaussian_statistics, 8, 4, burn_in=1,
            generator=torch.Generator().manual_seed(7))
        for _ in range(2)
    ]  # fmt: skip
    torch.testing.assert_close(runs[0].estimates, runs[1].estimates, rtol=0, atol=0)
    torch.testing.assert_close(runs[0].reference, runs[1].reference, rtol=0, atol=0)
    other = ppg(m, y, linear_gaussian_statistics, 8, 4, generator=torch.Generator().manual_seed(8))
    assert not torch.equal(other.estimates, runs[0].estimates)
