r"""Posterior predictive distribution of the observations, factor by factor.

Given predicted component marginals :math:`\tilde\pi_{t|t-1}^v` (for example from
:func:`~graphsmooth.hmm.one_step_predictive` after the Graph Filter), the predictive law of
:math:`y_t^f` is the mixture

.. math::
    p(y_t^f \mid y_{1:t-1}) \approx \sum_{x^{N(f)}} \prod_{v \in N(f)} \tilde\pi_{t|t-1}^v(x^v)\,
    g_f(x^{N(f)}, y_t^f),

using the product of marginals over the factor's scope (the Graph Filter's product form). Means
are exact sums; quantiles of the Poisson and Gaussian mixtures are found on the mixture CDF
(a grid of counts for Poisson, bisection for Gaussian), vectorised over time and factors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from graphsmooth.hmm.factorial import FactorialHMM, GaussianFactors, PoissonFactors, _configs

__all__ = ["FactorPredictive", "factor_predictive"]


@dataclass
class FactorPredictive:
    """Predictive summaries per time step and factor.

    Attributes:
        mean (torch.Tensor): ``[T, F]`` predictive means.
        quantiles (torch.Tensor): ``[Q, T, F]`` predictive quantiles.
        levels (tuple of float): the quantile levels.
    """

    mean: Tensor
    quantiles: Tensor
    levels: tuple[float, ...]


def _scope_mixture(model: FactorialHMM, marg: Tensor) -> tuple[Tensor, Tensor]:
    """Padded ``[T, F, C]`` config probabilities and ``[F, C]`` sums :math:`s_f` per config."""
    T, L = marg.shape[0], model.L
    F = model.num_factors
    smax = int(model.scope_size.max())
    C = L**smax
    prob = torch.zeros(T, F, C, dtype=marg.dtype)
    ssum = torch.zeros(F, C, dtype=marg.dtype)
    for s in torch.unique(model.scope_size).tolist():  # one batch per scope size
        fac = torch.nonzero(model.scope_size == s).flatten()
        cfg = _configs(L, s)  # [c, s]
        comp = model.scope[fac, :s]  # [G, s]
        p = marg[:, comp[:, None, :], cfg[None, :, :]].prod(-1)  # [T, G, c]
        prob[:, fac, : L**s] = p
        ssum[fac, : L**s] = model.state_values[comp[:, None, :], cfg[None, :, :]].sum(-1)
    return prob, ssum


def factor_predictive(
    model: FactorialHMM,
    predicted_marginals: Tensor,
    levels: Sequence[float] = (0.025, 0.975),
    max_count: int | None = None,
) -> FactorPredictive:
    r"""Predictive mean and quantiles of every factor's observation.

    Args:
        model (FactorialHMM): a model with Gaussian or Poisson factors.
        predicted_marginals (torch.Tensor): ``[T, M, L]`` predicted component marginals.
        levels (sequence of float): quantile levels in ``(0, 1)``. (default: ``(0.025, 0.975)``)
        max_count (int, optional): largest count of the Poisson CDF grid. (default: ``None``:
            chosen from the largest predictive rate)

    Returns:
        FactorPredictive
    """
    levels = tuple(float(q) for q in levels)
    if any(not 0 < q < 1 for q in levels):
        raise ValueError(f"levels must lie in (0, 1), got {levels}")
    marg = torch.as_tensor(predicted_marginals, dtype=torch.float64)
    if marg.dim() != 3 or marg.shape[1:] != model.initial.shape:
        raise ValueError(
            f"predicted_marginals must be [T, {model.num_components}, {model.L}], got "
            f"{tuple(marg.shape)}"
        )
    fam = model.factors
    prob, ssum = _scope_mixture(model, marg)  # [T, F, C], [F, C]
    q = torch.tensor(levels, dtype=torch.float64)
    if isinstance(fam, PoissonFactors):
        rate = fam.rate[:, None] * ssum  # [F, C]
        mean = (prob * rate[None]).sum(-1)
        top = float(rate.max())
        K = max_count if max_count is not None else int(top + 10 * math.sqrt(top + 1) + 10)
        k = torch.arange(K + 1, dtype=torch.float64)
        # Poisson log-pmf on the grid for every (factor, config): [F, C, K+1]
        lr = torch.log(rate.clamp(min=1e-300))[..., None]
        logpmf = k * lr - rate[..., None] - torch.lgamma(k + 1)
        logpmf = torch.where(rate[..., None] == 0, torch.where(k == 0, 0.0, -math.inf), logpmf)
        cdf_fc = torch.exp(logpmf).cumsum(-1)  # [F, C, K+1]
        cdf = torch.einsum("tfc,fck->tfk", prob, cdf_fc)  # [T, F, K+1]
        quant = torch.stack([(cdf < lv).sum(-1).to(torch.float64) for lv in q.tolist()])
        return FactorPredictive(mean=mean, quantiles=quant, levels=levels)
    if isinstance(fam, GaussianFactors):
        mu = fam.c[:, None] * ssum  # [F, C]
        sd = fam.sigma2.sqrt()[:, None].expand_as(mu)
        mean = (prob * mu[None]).sum(-1)
        lo = (mu - 10 * sd).min(-1).values[None, :].expand_as(mean).clone()
        hi = (mu + 10 * sd).max(-1).values[None, :].expand_as(mean).clone()
        out = []
        for lv in q.tolist():
            a, b = lo.clone(), hi.clone()
            for _ in range(60):  # bisection on the mixture CDF, all (t, f) at once
                mid = 0.5 * (a + b)
                z = (mid[..., None] - mu[None]) / sd[None]
                cdf = (prob * 0.5 * torch.erfc(-z / math.sqrt(2))).sum(-1)
                below = cdf < lv
                a = torch.where(below, mid, a)
                b = torch.where(below, b, mid)
            out.append(0.5 * (a + b))
        return FactorPredictive(mean=mean, quantiles=torch.stack(out), levels=levels)
    raise ValueError("factor_predictive supports GaussianFactors and PoissonFactors only")
