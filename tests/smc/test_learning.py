import math

import numpy as np
import pytest
import torch

from graphsmooth.smc import (
    LinearGaussian,
    fisher_score,
    kalman_smoother,
    markov_score_climbing,
    score_ascent,
    simulate,
)


def _model(p):
    q = torch.exp(p["log_q"])
    return LinearGaussian(p["a"], 1.0, q, torch.exp(p["log_r"]), P0=q)


def _params(a, log_q, log_r):
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in
            {"a": a, "log_q": log_q, "log_r": log_r}.items()}  # fmt: skip


def _exact_loglik(p, y):
    return kalman_smoother(_model(p), y).log_likelihood


def _exact_score(p, y, eps=1e-5):
    out = []
    for k in p:
        up, dn = dict(p), dict(p)
        up[k], dn[k] = p[k] + eps, p[k] - eps
        out.append((_exact_loglik(up, y) - _exact_loglik(dn, y)) / (2 * eps))
    return np.array(out)


def test_fisher_score_matches_statsmodels_gradient():
    p = _params(0.7, -0.2, -0.5)
    y = simulate(_model(p), 20, torch.Generator().manual_seed(0)).observations
    # evaluate away from the generating parameters so that the score is not ~0
    p = _params(0.5, 0.1, -0.2)
    exact = _exact_score(p, y)
    g = torch.Generator().manual_seed(1)
    reps = np.stack([fisher_score(_model, p, y, 200, generator=g).score.numpy() for _ in range(8)])
    se = reps.std(0, ddof=1) / math.sqrt(len(reps))
    z = np.abs(reps.mean(0) - exact) / se
    assert np.all(z < 4.5), (reps.mean(0), exact, z)
    assert np.any(np.abs(exact) > 3 * se)  # the comparison can fail: the score is resolved
    res = fisher_score(_model, p, y, 50, method="ppg", generator=g)
    assert res.reference.shape == (20, 1) and res.score.shape == (3,)


def test_learners_increase_the_exact_likelihood():
    true = _params(0.8, 0.0, -0.7)
    y = simulate(_model(true), 40, torch.Generator().manual_seed(2)).observations
    init = _params(0.2, -1.0, 0.7)
    ll0 = _exact_loglik(init, y)
    for learner in (score_ascent, markov_score_climbing):
        res = learner(_model, init, y, 40, 12, lr=0.1, generator=torch.Generator().manual_seed(3))
        assert res.trajectory.shape == (13, 3) and res.scores.shape == (12, 3)
        assert res.names == ["a", "log_q", "log_r"]
        assert _exact_loglik(res.params, y) > ll0 + 1.0


def test_learning_errors():
    p = _params(0.5, 0.0, 0.0)
    y = torch.zeros(5)
    with pytest.raises(ValueError, match="valid names: paris, ppg"):
        score_ascent(_model, p, y, 10, 1, estimator="smc2")
    with pytest.raises(ValueError, match="valid names: adam, sgd"):
        markov_score_climbing(_model, p, y, 10, 1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="valid names: paris, ppg"):
        fisher_score(_model, p, y, 10, method="exact")


def _statsmodels_lg(y):
    from graphsmooth.smc.kalman import scalar_lg_mlemodel

    return scalar_lg_mlemodel(y)


def test_observed_information_matches_statsmodels_opg():
    from graphsmooth.smc import observed_information

    p = _params(0.8, 0.0, math.log(0.5))
    y = simulate(_model(p), 120, torch.Generator().manual_seed(21)).observations
    sm = _statsmodels_lg(y[:, 0].numpy()).smooth(
        np.array([0.8, 0.0, math.log(0.5)]), cov_type="opg"
    )
    oi = observed_information(_model, p, y, 2500, generator=torch.Generator().manual_seed(22))
    assert oi.online_scores.shape == (120, 3) and oi.names == ["a", "log_q", "log_r"]
    # the last online score is the full-data score; the increments sum to it
    np.testing.assert_allclose(oi.increments.sum(0).numpy(), oi.online_scores[-1].numpy())
    np.testing.assert_allclose(oi.online_scores[-1].numpy(), _exact_score(p, y), atol=1.5)
    # Monte Carlo noise in the increments inflates the information by O(1/N): at N = 2,500
    # the standard errors are within about 11% of the exact OPG ones (22% at N = 800)
    np.testing.assert_allclose(oi.standard_errors.numpy(), sm.bse, rtol=0.15)
    assert np.all(oi.standard_errors.numpy() < sm.bse * 1.02)  # the bias is downwards
