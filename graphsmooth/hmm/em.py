r"""Expectation-maximisation for factorial HMMs with the Graph Smoother (or exact) E-step.

Rimella & Whiteley (JMLR 2022, https://arxiv.org/abs/1902.01639), Section 6: the E-step uses the
Graph Smoother's marginals :math:`\tilde\pi_{t|T}^v` and pairwise marginals :math:`\xi_t^v`;
expectations over a factor's scope use the product of the smoothed marginals of its components
(as the authors' code does). The M-step is closed form:

.. math::
    \mu^v = \tilde\pi_{1|T}^v, \qquad
    P^v(a, b) = \frac{\sum_{t<T} \xi_t^v(a, b)}{\sum_{t<T} \sum_{b'} \xi_t^v(a, b')},

and, with :math:`s_f = \sum_{v \in N(f)} \mathrm{value}_v(x^v)`,
:math:`m_{t,f} = \mathbb{E}[s_f]`, :math:`q_{t,f} = \mathbb{E}[s_f^2]
= \sum_v \mathrm{Var}(\mathrm{value}_v) + m_{t,f}^2`:

.. math::
    \text{Gaussian: } c_f = \frac{\sum_t y_t^f m_{t,f}}{\sum_t q_{t,f}}, \quad
    \sigma_f^2 = \frac{1}{T} \sum_t \big((y_t^f)^2 - 2 c_f y_t^f m_{t,f} + c_f^2 q_{t,f}\big);
    \qquad
    \text{Poisson: } \lambda_f = \frac{\sum_t y_t^f}{\sum_t m_{t,f}}.

With ``tie_*`` options the sums also run over components (transitions, initial distribution)
or factors (emission parameters). Callable factors are kept fixed. With the exact smoother (or
one block holding every component) and Poisson factors, this is exact EM and the likelihood
never decreases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphsmooth.hmm.exact import SmootherResult, exact_filter, exact_smoother
from graphsmooth.hmm.factorial import (
    CallableFactors,
    FactorialHMM,
    GaussianFactors,
    PoissonFactors,
    _replace_factors,
    check_observations,
)
from graphsmooth.hmm.graph_filter import GraphFilterPlan, graph_filter_plan, graph_smoother

__all__ = ["EMResult", "fit_em", "m_step"]

_UPDATES = ("initial", "transition", "emission")


@dataclass
class EMResult:
    """EM output.

    Attributes:
        model (FactorialHMM): the fitted model.
        log_likelihood (list of float): exact :math:`\\log p(y_{1:T})` of the initial model and
            after every iteration (only with ``track_likelihood=True``; else empty).
        num_iterations (int): iterations run.
    """

    model: FactorialHMM
    log_likelihood: list[float] = field(default_factory=list)
    num_iterations: int = 0


def _scope_moments(model: FactorialHMM, marg: Tensor) -> tuple[Tensor, Tensor]:
    """``[T, F]`` mean and second moment of :math:`s_f` under the product of marginals."""
    vals = model.state_values  # [M, L]
    mean_v = (marg * vals).sum(-1)  # [T, M]
    var_v = (marg * vals**2).sum(-1) - mean_v**2
    scope = model.scope
    valid = (scope >= 0).to(marg.dtype)
    sc = scope.clamp(min=0)
    m = (mean_v[:, sc] * valid).sum(-1)
    v = (var_v[:, sc] * valid).sum(-1)
    return m, v.clamp(min=0) + m**2


def m_step(
    model: FactorialHMM,
    y: Tensor,
    smoothed: SmootherResult,
    update: Sequence[str] = _UPDATES,
    tie_initial: bool = False,
    tie_transition: bool = False,
    tie_emission: bool = False,
) -> FactorialHMM:
    r"""One closed-form M-step from smoothed marginals and pairwise marginals.

    Args:
        model (FactorialHMM): current model.
        y (torch.Tensor): ``[T, F]`` observations.
        smoothed (SmootherResult): E-step output.
        update (sequence of str): which of ``"initial"``, ``"transition"``, ``"emission"`` to
            update. (default: all)
        tie_initial (bool): one initial distribution shared by all components.
            (default: ``False``)
        tie_transition (bool): one transition matrix shared by all components.
            (default: ``False``)
        tie_emission (bool): one set of emission parameters shared by all factors.
            (default: ``False``)

    Returns:
        FactorialHMM: the updated model.
    """
    bad = set(update) - set(_UPDATES)
    if bad:
        raise ValueError(f"unknown update {sorted(bad)}; valid: {list(_UPDATES)}")
    y = check_observations(model, y)
    initial, transition, factors = model.initial, model.transition, model.factors
    sm, xi = smoothed.marginals, smoothed.pairwise
    if "initial" in update:
        initial = sm[0].clone()
        if tie_initial:
            initial = initial.mean(0, keepdim=True).expand_as(sm[0]).clone()
        initial = initial / initial.sum(-1, keepdim=True)
    if "transition" in update and xi.shape[0] > 0:
        num = xi.sum(0)  # [M, L, L]
        if tie_transition:
            num = num.sum(0, keepdim=True).expand_as(num)
        den = num.sum(-1, keepdim=True)
        transition = torch.where(den > 0, num / den.clamp(min=1e-300), transition)
    if "emission" in update and not isinstance(factors, CallableFactors):
        m, q = _scope_moments(model, sm)
        dims = (0, 1) if tie_emission else (0,)
        F = model.num_factors
        if isinstance(factors, GaussianFactors):
            c = (y * m).sum(dims) / q.sum(dims).clamp(min=1e-300)
            c_f = c.expand(F) if tie_emission else c
            res = y**2 - 2 * c_f * y * m + c_f**2 * q
            s2 = (res.sum(dims) / (y.shape[0] * (F if tie_emission else 1))).clamp(min=1e-12)
            factors = _replace_factors(factors, c=c_f.clone(), sigma2=s2.expand(F).clone())
        elif isinstance(factors, PoissonFactors):
            lam = y.sum(dims) / m.sum(dims).clamp(min=1e-300)
            factors = _replace_factors(factors, rate=lam.expand(F).clone().clamp(min=1e-12))
    return model.replace(initial=initial, transition=transition, factors=factors)


def fit_em(
    model: FactorialHMM,
    y: Tensor,
    num_iterations: int = 20,
    m: int = 0,
    blocks: Sequence[Sequence[int]] | None = None,
    e_step: str = "graph",
    update: Sequence[str] = _UPDATES,
    tie_initial: bool = False,
    tie_transition: bool = False,
    tie_emission: bool = False,
    tol: float | None = None,
    track_likelihood: bool = False,
    plan: GraphFilterPlan | None = None,
    verbose: bool = False,
) -> EMResult:
    r"""Fit a factorial HMM by EM with the Graph Smoother (or exact smoother) E-step.

    Args:
        model (FactorialHMM): initial model (its structure is kept).
        y (torch.Tensor): ``[T, F]`` observations.
        num_iterations (int): maximum number of EM iterations. (default: ``20``)
        m (int): Graph Smoother locality radius. (default: ``0``)
        blocks (list of lists, optional): Graph Smoother blocks. (default: singletons)
        e_step (str): ``"graph"`` (Graph Smoother) or ``"exact"`` (joint forward-backward,
            small models only). (default: ``"graph"``)
        update (sequence of str): parameters to update, among ``"initial"``, ``"transition"``,
            ``"emission"``. (default: all)
        tie_initial (bool): share the initial distribution. (default: ``False``)
        tie_transition (bool): share the transition matrix. (default: ``False``)
        tie_emission (bool): share the emission parameters over factors. (default: ``False``)
        tol (float, optional): stop when the largest parameter change is below ``tol``.
            (default: ``None``: run all iterations)
        track_likelihood (bool): record the exact log-likelihood after each iteration (small
            models only). (default: ``False``)
        plan (GraphFilterPlan, optional): a precomputed :func:`graph_filter_plan` for the Graph
            Smoother (e.g. built with a larger ``max_local_states``); then ``m`` and ``blocks``
            are ignored. (default: ``None``)
        verbose (bool): progress bar. (default: ``False``)

    Returns:
        EMResult
    """
    if e_step not in ("graph", "exact"):
        raise ValueError(f"e_step must be 'graph' or 'exact', got {e_step!r}")
    if isinstance(num_iterations, bool) or not isinstance(num_iterations, int):
        raise ValueError("num_iterations must be an int")
    y = check_observations(model, y)
    if e_step == "graph" and plan is None:
        plan = graph_filter_plan(model, m, blocks)
    lls: list[float] = []
    if track_likelihood:
        lls.append(float(exact_filter(model, y).log_likelihood))
    done = 0
    for it in tqdm(range(1, num_iterations + 1), disable=not verbose, desc="EM"):
        done = it
        if e_step == "graph":
            sm = graph_smoother(model, y, plan=plan)
        else:
            sm = exact_smoother(model, y)
        new = m_step(model, y, sm, update, tie_initial, tie_transition, tie_emission)
        change = _param_change(model, new)
        model = new
        if track_likelihood:
            lls.append(float(exact_filter(model, y).log_likelihood))
        if tol is not None and change < tol:
            break
    return EMResult(model=model, log_likelihood=lls, num_iterations=done)


def _param_change(a: FactorialHMM, b: FactorialHMM) -> float:
    d = max(
        float((a.initial - b.initial).abs().max()),
        float((a.transition - b.transition).abs().max()),
    )
    for name in ("c", "sigma2", "rate"):
        if hasattr(a.factors, name):
            x, z = getattr(a.factors, name), getattr(b.factors, name)
            d = max(d, float(((x - z).abs() / z.abs().clamp(min=1e-12)).max()))
    return d
