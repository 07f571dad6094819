r"""Additive functionals for PaRIS / PPG, including the Fisher-identity score.

An additive functional is a callable ``h(t, x_prev, x) -> [M, F]`` evaluated on a batch of
pairs (``x_prev`` ``[M, d]`` and ``x`` ``[M, d]``, or ``x_prev=None`` at ``t = 0``), defining

.. math::
    h_{0:T-1}(x_{0:T-1}) = h_0(x_0) + \sum_{t=1}^{T-1} h_t(x_{t-1}, x_t).

The score :math:`\nabla_\theta \log p_\theta(y_{0:T-1})` is, by Fisher's identity, the smoothed
expectation of such a functional (Cappé, Moulines and Rydén 2005, Prop. 10.1.6):

.. math::
    \nabla_\theta \log p_\theta(y_{0:T-1}) = \mathbb E_\theta\Big[
        \nabla_\theta \log \chi_\theta(X_0) + \nabla_\theta \log g_{0,\theta}(X_0, y_0)
        + \sum_{t=1}^{T-1} \nabla_\theta \log q_{t,\theta}(X_{t-1}, X_t)
        + \nabla_\theta \log g_{t,\theta}(X_t, y_t) \,\Big|\, y_{0:T-1}\Big].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor

from .models import StateSpaceModel

__all__ = [
    "state_sum",
    "state_outer_sum",
    "lag_outer_sum",
    "concat_functionals",
    "linear_gaussian_statistics",
    "log_joint_functional",
    "flatten_params",
    "unflatten_params",
]


def state_sum(t: int, x_prev: Tensor | None, x: Tensor) -> Tensor:
    r""":math:`h_t = x_t`, so the functional is :math:`\sum_t x_t` (``F = d``)."""
    return x


def state_outer_sum(t: int, x_prev: Tensor | None, x: Tensor) -> Tensor:
    r""":math:`h_t = \mathrm{vec}(x_t x_t^\top)` (row-major, ``F = d^2``)."""
    return (x.unsqueeze(-1) * x.unsqueeze(-2)).flatten(-2)


def lag_outer_sum(t: int, x_prev: Tensor | None, x: Tensor) -> Tensor:
    r""":math:`h_t = \mathrm{vec}(x_t x_{t-1}^\top)` for :math:`t \geq 1`, :math:`h_0 = 0`."""
    if x_prev is None:
        return torch.zeros(x.shape[0], x.shape[1] ** 2, dtype=x.dtype, device=x.device)
    return (x.unsqueeze(-1) * x_prev.unsqueeze(-2)).flatten(-2)


def concat_functionals(*functionals: Callable) -> Callable:
    """Concatenate several additive functionals along the feature dimension."""

    def h(t, x_prev, x):
        return torch.cat([f(t, x_prev, x) for f in functionals], -1)

    return h


linear_gaussian_statistics = concat_functionals(state_sum, state_outer_sum, lag_outer_sum)
r"""The sufficient statistics of a linear Gaussian model:
:math:`[\sum_t x_t,\ \mathrm{vec}\sum_t x_t x_t^\top,\ \mathrm{vec}\sum_{t\ge1} x_t x_{t-1}^\top]`
(``F = d + 2 d^2``)."""


def flatten_params(params: Mapping[str, Tensor]) -> Tensor:
    """Concatenate a dict of parameter tensors into one vector (insertion order)."""
    return torch.cat([p.reshape(-1) for p in params.values()])


def unflatten_params(vector: Tensor, like: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Split a vector back into a dict shaped like ``like``."""
    out, start = {}, 0
    for name, p in like.items():
        out[name] = vector[start : start + p.numel()].reshape(p.shape)
        start += p.numel()
    return out


def log_joint_functional(model: StateSpaceModel, observations: Tensor) -> Callable:
    r"""The complete-data log-likelihood as an additive functional (``F = 1``).

    .. math::
        h_0(x_0) = \log \chi_\theta(x_0) + \log g_{0,\theta}(x_0, y_0), \qquad
        h_t(x_{t-1}, x_t) = \log q_{t,\theta}(x_{t-1}, x_t) + \log g_{t,\theta}(x_t, y_t).

    Built from a model whose parameters require gradients, the PaRIS estimate of this
    functional is differentiable, and its gradient is the PaRIS estimate of the score (Fisher's
    identity): the estimate is :math:`\sum_{t,\text{pairs}} c\, h_t`, linear in :math:`h` with
    coefficients :math:`c` (weights and backward draws) that do not depend on :math:`\theta`.
    One reverse-mode pass at the end gives all :math:`P` score components, instead of a
    per-pair Jacobian at every step.

    Args:
        model (StateSpaceModel): the model whose parameters carry gradients.
        observations (Tensor): ``[T, d_y]`` (a 1-D tensor is read as ``[T, 1]``).
    """
    y = observations.unsqueeze(-1) if observations.dim() == 1 else observations
    y = y.to(model.dtype)

    def h(t: int, x_prev: Tensor | None, x: Tensor) -> Tensor:
        out = model.observation_log_density(t, x, y[t])
        if x_prev is None:
            out = out + model.initial_log_density(x)
        else:
            out = out + model.transition_log_density(t, x_prev, x)
        return out.unsqueeze(-1)

    return h
