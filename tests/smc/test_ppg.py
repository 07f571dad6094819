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
