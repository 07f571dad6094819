import numpy as np
import pytest
import torch
from scipy import optimize, stats

from graphsmooth.hmm import FactorialHMM, GaussianFactors, PoissonFactors, factor_predictive


def _marg():
    return torch.tensor(
        [
            [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.3, 0.3, 0.4]],
            [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.1, 0.2, 0.7]],
        ],
        dtype=torch.float64,
    )


def _mixture(marg, scope, values):
    """(weights, sums) of the scope sum under the product of marginals, by enumeration."""
    w, s = [], []
    for cfg in np.ndindex(*([3] * len(scope))):
        w.append(np.prod([marg[v, c] for v, c in zip(scope, cfg, strict=True)]))
        s.append(sum(values[c] for c in cfg))
    return np.array(w), np.array(s)


def test_poisson_predictive_matches_enumeration():
    scopes = [[0, 1], [2], [0, 1, 2]]
    rate = torch.tensor([1.5, 4.0, 0.7], dtype=torch.float64)
    values = torch.tensor([1.0, 2.0, 3.0])
    model = FactorialHMM(
        torch.full((3,), 1 / 3),
        torch.eye(3),
        PoissonFactors(scopes, rate=rate),
        num_components=3,
        state_values=values,
    )
    marg = _marg()
    pr = factor_predictive(model, marg, levels=(0.025, 0.5, 0.975))
    for t in range(2):
        for f, sc in enumerate(scopes):
            w, s = _mixture(marg[t].numpy(), sc, values.numpy())
            lam = rate[f].item() * s
            assert pr.mean[t, f].item() == pytest.approx((w * lam).sum())
            for qi, lv in enumerate((0.025, 0.5, 0.975)):
                k = 0
                while (w * stats.poisson.cdf(k, lam)).sum() < lv:
                    k += 1
                assert pr.quantiles[qi, t, f].item() == k


def test_gaussian_predictive_matches_root_finding():
    scopes = [[0, 2], [1]]
    model = FactorialHMM(
        torch.full((3,), 1 / 3),
        torch.eye(3),
        GaussianFactors(scopes, c=torch.tensor([2.0, -1.0]), sigma2=torch.tensor([1.0, 0.25])),
        num_components=3,
    )
    marg = _marg()
    pr = factor_predictive(model, marg)
    for t in range(2):
        for f, sc in enumerate(scopes):
            w, s = _mixture(marg[t].numpy(), sc, np.arange(3.0))
            mu = model.factors.c[f].item() * s
            sd = model.factors.sigma2[f].sqrt().item()
            assert pr.mean[t, f].item() == pytest.approx((w * mu).sum())
            for qi, lv in enumerate((0.025, 0.975)):
                root = optimize.brentq(
                    lambda x, w=w, mu=mu, sd=sd, lv=lv: (w * stats.norm.cdf(x, mu, sd)).sum() - lv,
                    -50,
                    50,
                    xtol=1e-12,
                )
                assert pr.quantiles[qi, t, f].item() == pytest.approx(root, abs=1e-8)
    with pytest.raises(ValueError, match="levels"):
        factor_predictive(model, marg, levels=(0.0, 0.5))
