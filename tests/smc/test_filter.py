import math

import numpy as np
import pytest
import torch

from graphsmooth.smc import (
    RESAMPLING_SCHEMES,
    LinearGaussian,
    ParticleFilter,
    get_resampling,
    kalman_smoother,
    resample,
    simulate,
)


def test_registry_and_unknown_name():
    assert set(RESAMPLING_SCHEMES) >= {"multinomial", "systematic", "stratified"}
    with pytest.raises(ValueError, match="multinomial, stratified, systematic"):
        get_resampling("residualx")
    with pytest.raises(ValueError, match="unknown resampling scheme 'foo'"):
        ParticleFilter(LinearGaussian(0.5, 1, 1, 1), torch.zeros(3), 10, resampling="foo")


@pytest.mark.parametrize("scheme", ["multinomial", "stratified", "systematic"])
def test_resampling_is_unbiased(scheme):
    w = torch.tensor([0.05, 0.3, 0.0, 0.15, 0.5], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    reps, n = 4000, 20
    counts = torch.zeros(5, dtype=torch.float64)
    for _ in range(reps):
        idx = resample(torch.log(w), n, scheme, g)
        counts += torch.bincount(idx, minlength=5)
        assert int(torch.bincount(idx, minlength=5)[2]) == 0  # zero weight never drawn
    mean = counts / reps
    sd = torch.sqrt(n * w * (1 - w) / reps)  # multinomial sd bounds the others' sd
    assert torch.all((mean - n * w).abs() <= 5 * sd + 1e-12)


def test_systematic_counts_are_floor_or_ceil():
    w = torch.tensor([0.13, 0.27, 0.6], dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    for _ in range(200):
        c = torch.bincount(resample(torch.log(w), 10, "systematic", g), minlength=3)
        assert torch.all(c >= torch.floor(10 * w)) and torch.all(c <= torch.ceil(10 * w))


def test_loglik_matches_kalman_and_ess_trigger():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    sim = simulate(m, 40, torch.Generator().manual_seed(2))
    exact = kalman_smoother(m, sim.observations).log_likelihood
    g = torch.Generator().manual_seed(3)
    lls = []
    for _ in range(10):
        pf = ParticleFilter(m, sim.observations, 1000, generator=g)
        states = list(pf)
        assert len(states) == 40 and states[-1].t == 39
        lls.append(float(states[-1].log_likelihood))
        resampled = [s.resampled for s in states[1:]]
        # resampling only when the previous ESS fell below N/2
        for prev, s in zip(states[:-1], states[1:], strict=True):
            assert s.resampled == bool(prev.ess < 500)
        assert any(resampled)
    lls = np.array(lls)
    assert abs(lls.mean() - exact) < 4 * lls.std(ddof=1) / math.sqrt(10) + 0.05


def test_ess_threshold_extremes_and_reproducibility():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    y = simulate(m, 15, torch.Generator().manual_seed(2)).observations
    never = list(ParticleFilter(m, y, 50, ess_threshold=0.0))
    always = list(ParticleFilter(m, y, 50, ess_threshold=1.0))
    assert not any(s.resampled for s in never[1:])
    assert all(s.resampled for s in always[1:])
    r1 = ParticleFilter(m, y, 50, generator=torch.Generator().manual_seed(9)).run()
    r2 = ParticleFilter(m, y, 50, generator=torch.Generator().manual_seed(9)).run()
    assert torch.equal(r1.particles, r2.particles)
    assert float(torch.logsumexp(r1.log_weights, 0)) == pytest.approx(0.0, abs=1e-12)


def test_conditional_filter_keeps_reference():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    y = simulate(m, 12, torch.Generator().manual_seed(2)).observations
    ref = torch.linspace(-1, 1, 12, dtype=torch.float64).unsqueeze(1)
    for s in ParticleFilter(m, y, 30, reference=ref, generator=torch.Generator().manual_seed(0)):
        assert torch.equal(s.particles[-1], ref[s.t])
        if s.t > 0:
            assert int(s.ancestors[-1]) == 29 and s.resampled
    with pytest.raises(ValueError, match="reference must have shape"):
        ParticleFilter(m, y, 30, reference=ref[:5])


class _Impossible(LinearGaussian):
    def observation_log_density(self, t, x, y):
        out = super().observation_log_density(t, x, y)
        return torch.full_like(out, -math.inf) if t == 3 else out


def test_all_zero_weights_name_the_time_step():
    m = _Impossible(0.9, 1.0, 0.5, 0.5)
    pf = ParticleFilter(m, torch.zeros(6), 20)
    with pytest.raises(ValueError, match=r"t=3"):
        pf.run()


def test_filter_argument_errors():
    m = LinearGaussian(0.9, 1.0, 0.5, 0.5)
    with pytest.raises(ValueError, match="num_particles"):
        ParticleFilter(m, torch.zeros(3), 0)
    with pytest.raises(ValueError, match="ess_threshold"):
        ParticleFilter(m, torch.zeros(3), 10, ess_threshold=1.5)
    with pytest.raises(ValueError, match="observations must have shape"):
        ParticleFilter(m, torch.zeros(3, 1, 1), 10)
