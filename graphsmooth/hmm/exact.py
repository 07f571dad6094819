r"""Exact forward-backward on the joint chain of a factorial HMM (the reference for small models).

The joint state :math:`x = (x^1, \dots, x^M)` has :math:`L^M` values. The transition factorises,
:math:`p(x, z) = \prod_v P^v(x^v, z^v)`, so the prediction step is applied as :math:`M` tensor
contractions, one along each axis of the :math:`L \times \dots \times L` joint tensor:

.. math::
    \pi_{t|t-1} = \pi_{t-1} \times_1 P^1 \times_2 P^2 \cdots \times_M P^M,
    \qquad \pi_t(x) = \frac{\pi_{t|t-1}(x)\, g(x, y_t)}{\sum_{x'} \pi_{t|t-1}(x')\, g(x', y_t)}.

The cost per step is :math:`O(M L^{M+1})` time and :math:`O(L^M)` memory, and no
:math:`L^M \times L^M` matrix is ever formed. The backward pass is the scaled
Baum-Welch recursion :math:`\beta_t = \big(\prod_v P^v\big)(g_{t+1} \beta_{t+1}) / c_{t+1}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from graphsmooth.hmm.factorial import FactorialHMM, check_observations, factor_log_tables

__all__ = ["ExactFilterResult", "SmootherResult", "exact_filter", "exact_smoother"]

#: default largest joint state space :math:`L^M` the exact routines accept
DEFAULT_MAX_STATES = 2**20


@dataclass
class ExactFilterResult:
    """Exact filter output.

    Attributes:
        marginals (torch.Tensor): ``[T, M, L]`` filtering marginals :math:`\\pi_t^v`.
        log_likelihood (torch.Tensor): scalar :math:`\\log p(y_{1:T})`.
        log_normalizers (torch.Tensor): ``[T]`` :math:`\\log p(y_t \\mid y_{1:t-1})`.
        joint (torch.Tensor): ``[T, L, ..., L]`` joint filtering distributions.
    """

    marginals: Tensor
    log_likelihood: Tensor
    log_normalizers: Tensor
    joint: Tensor


@dataclass
class SmootherResult:
    r"""Smoother output (shared by :func:`exact_smoother` and
    :func:`~graphsmooth.hmm.graph_smoother`).

    Attributes:
        marginals (torch.Tensor): ``[T, M, L]`` smoothing marginals :math:`\pi_{t|T}^v`.
        pairwise (torch.Tensor): ``[T-1, M, L, L]`` per-component pairwise marginals
            :math:`p(x_t^v = a, x_{t+1}^v = b \mid y_{1:T})`.
        filter_marginals (torch.Tensor): ``[T, M, L]`` filtering marginals used.
        log_likelihood (torch.Tensor or None): exact :math:`\log p(y_{1:T})` when known.
    """

    marginals: Tensor
    pairwise: Tensor
    filter_marginals: Tensor
    log_likelihood: Tensor | None = None


def _check_size(model: FactorialHMM, max_states: int) -> None:
    n = model.L**model.num_components
    if n > max_states:
        raise ValueError(
            f"exact inference needs the joint state space L^M = {model.L}^{model.num_components} "
            f"= {n} > max_states = {max_states}; use graph_filter / graph_smoother, or raise "
            "max_states if memory allows"
        )


def _apply_transition(joint: Tensor, P: Tensor, transpose: bool = False) -> Tensor:
    """Apply :math:`P^v` along axis ``v`` of ``joint`` (shape ``[L] * M``) for every ``v``."""
    M = P.shape[0]
    for v in range(M):
        Pv = P[v].T if transpose else P[v]
        joint = torch.movedim(torch.movedim(joint, v, -1) @ Pv, -1, v)
    return joint


def _joint_loglik(model: FactorialHMM, flat: Tensor, offset: Tensor) -> Tensor:
    """``[Tc, L, ..., L]`` joint log-likelihood of a chunk of time steps, from the factor tables.

    One broadcast add per factor, vectorised over the chunk's time steps.
    """
    M, L = model.num_components, model.L
    Tc = flat.shape[0]
    out = torch.zeros([Tc] + [L] * M, dtype=torch.float64)
    for f in range(model.num_factors):  # reference code: a loop over factors is fine here
        s = int(model.scope_size[f])
        scope = model.scope[f, :s].tolist()
        tab = flat[:, int(offset[f]) : int(offset[f]) + L**s].reshape([Tc] + [L] * s)
        # place the scope axes (in sorted order) into the joint tensor
        order = sorted(range(s), key=lambda i: scope[i])
        tab = tab.permute([0] + [1 + i for i in order])
        shape = [Tc] + [1] * M
        for v in sorted(scope):
            shape[1 + v] = L
        out = out + tab.reshape(shape)
    return out


def _loglik_chunks(model: FactorialHMM, tables, T: int):
    """Yield ``(t0, [Tc, L, ..., L])`` joint log-likelihood chunks (bounded memory)."""
    n = model.L**model.num_components
    step = max(1, 2**22 // n)
    for t0 in range(0, T, step):
        yield t0, _joint_loglik(model, tables.flat[t0 : t0 + step], tables.offset)


def _zero_error(t: int) -> ValueError:
    return ValueError(
        f"observation at time step t={t} has zero likelihood under every state with positive "
        "predicted probability (check the data and the emission parameters)"
    )


def exact_filter(
    model: FactorialHMM, y: Tensor, max_states: int = DEFAULT_MAX_STATES
) -> ExactFilterResult:
    r"""Exact filtering distributions of a factorial HMM (forward pass on the joint chain).

    Args:
        model (FactorialHMM): the model.
        y (torch.Tensor): ``[T, F]`` observations.
        max_states (int): refuse (``ValueError``) when :math:`L^M` exceeds this.
            (default: ``2**20``)

    Returns:
        ExactFilterResult
    """
    _check_size(model, max_states)
    y = check_observations(model, y)
    tables = factor_log_tables(model, y)
    M, L, T = model.num_components, model.L, y.shape[0]
    P = model.transition
    joint_prior = model.initial[0]
    for v in range(1, M):
        joint_prior = joint_prior[..., None] * model.initial[v]
    joint_prior = joint_prior.reshape([L] * M)
    out = torch.empty([T] + [L] * M, dtype=torch.float64)
    lognorm = torch.empty(T, dtype=torch.float64)
    chunks = _loglik_chunks(model, tables, T)
    t0, lls = -1, None
    for t in range(T):
        if lls is None or t >= t0 + lls.shape[0]:
            t0, lls = next(chunks)
        if t > 0:
            joint_prior = _apply_transition(out[t - 1], P)
        ll = lls[t - t0]
        mx = torch.where(joint_prior > 0, ll, torch.tensor(-math.inf)).max()
        if not torch.isfinite(mx):
            raise _zero_error(t)
        w = joint_prior * torch.exp(ll - mx)
        z = w.sum()
        if not z > 0:
            raise _zero_error(t)
        out[t] = w / z
        lognorm[t] = torch.log(z) + mx
    marg = _joint_marginals(out)
    return ExactFilterResult(
        marginals=marg, log_likelihood=lognorm.sum(), log_normalizers=lognorm, joint=out
    )


def _joint_marginals(joint: Tensor) -> Tensor:
    """``[T, M, L]`` component marginals of ``[T, L, ..., L]`` joints."""
    M = joint.dim() - 1
    dims = list(range(1, M + 1))
    return torch.stack([joint.sum([d for d in dims if d != v + 1]) for v in range(M)], dim=1)


def exact_smoother(
    model: FactorialHMM, y: Tensor, max_states: int = DEFAULT_MAX_STATES
) -> SmootherResult:
    r"""Exact smoothing marginals and per-component pairwise marginals (forward-backward).

    .. math::
        \beta_T = 1, \quad
        \beta_t(x) = \frac{1}{c_{t+1}} \sum_z \prod_v P^v(x^v, z^v)\, g(z, y_{t+1})\,
        \beta_{t+1}(z), \quad \pi_{t|T} = \pi_t \beta_t,

    .. math::
        \xi_t^v(a, b) = \sum_{x: x^v = a} \sum_{z: z^v = b} \pi_t(x) \prod_u P^u(x^u, z^u)
        \frac{g(z, y_{t+1}) \beta_{t+1}(z)}{c_{t+1}}.

    Args:
        model (FactorialHMM): the model.
        y (torch.Tensor): ``[T, F]`` observations.
        max_states (int): refuse when :math:`L^M` exceeds this. (default: ``2**20``)

    Returns:
        SmootherResult (with the exact ``log_likelihood``).
    """
    filt = exact_filter(model, y, max_states)
    y = check_observations(model, y)
    tables = factor_log_tables(model, y)
    M, L, T = model.num_components, model.L, y.shape[0]
    P = model.transition
    beta = torch.ones([L] * M, dtype=torch.float64)
    smooth = torch.empty_like(filt.joint)
    smooth[T - 1] = filt.joint[T - 1]
    pair = torch.zeros(max(T - 1, 0), M, L, L, dtype=torch.float64)
    for t in range(T - 2, -1, -1):
        ll = _joint_loglik(model, tables.flat[t + 1 : t + 2], tables.offset)[0]
        w = torch.exp(ll - filt.log_normalizers[t + 1]) * beta  # g beta / c, function of z
        w = torch.nan_to_num(w, nan=0.0)
        # pairwise per component: contract every axis u != v with P^u (x_u <- z_u)
        for v in range(M):
            tmp = w
            for u in range(M):
                if u != v:
                    tmp = torch.movedim(torch.movedim(tmp, u, -1) @ P[u].T, -1, u)
            # tmp(x_{-v}, z_v); xi(a, b) = P^v(a, b) sum_{x_-v} pi(x_-v, a) tmp(x_-v, b)
            a = torch.movedim(filt.joint[t], v, -1).reshape(-1, L)
            b = torch.movedim(tmp, v, -1).reshape(-1, L)
            pair[t, v] = P[v] * (a.T @ b)
        beta = _apply_transition(w, P, transpose=True)
        smooth[t] = filt.joint[t] * beta
    return SmootherResult(
        marginals=_joint_marginals(smooth),
        pairwise=pair,
        filter_marginals=filt.marginals,
        log_likelihood=filt.log_likelihood,
    )
