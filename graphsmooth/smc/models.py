r"""State-space models for particle filtering and smoothing, batched in torch.

A state-space (general hidden Markov) model is a Markov chain :math:`X_0, X_1, \dots` observed
through conditionally independent observations :math:`Y_t`:

.. math::
    X_0 \sim \chi, \qquad X_t \mid X_{t-1} = x' \sim q_t(x', \cdot), \qquad
    Y_t \mid X_t = x \sim g_t(x, \cdot).

A :class:`StateSpaceModel` exposes exactly what the bootstrap particle filter and PaRIS need:

- :meth:`~StateSpaceModel.sample_initial` and :meth:`~StateSpaceModel.initial_log_density`,
- :meth:`~StateSpaceModel.sample_transition` and :meth:`~StateSpaceModel.transition_log_density`
  (broadcasting over leading dimensions, so the O(N^2) backward kernel is one call),
- :meth:`~StateSpaceModel.transition_log_bound`, an upper bound
  :math:`\log \bar q_t \geq \sup_{x', x} \log q_t(x', x)` used by PaRIS' accept-reject sampler,
- :meth:`~StateSpaceModel.observation_log_density` and
  :meth:`~StateSpaceModel.sample_observation`.

States are tensors of shape ``[..., d]`` (``d = state_dim``, also for scalar models), and
observations at one time step are tensors of shape ``[d_y]``. Parameters are stored as tensors
(Python numbers become ``float64``),
so a model built from tensors that require gradients (or inside :func:`torch.func.jacfwd`)
gives log-densities that are differentiable in the parameters; this is how
:func:`graphsmooth.smc.learning.fisher_score` computes the Fisher score.

Time indices run over :math:`t = 0, \dots, T-1` with one observation per time step; the
transition at index ``t`` maps :math:`X_{t-1}` to :math:`X_t` (``t >= 1``), as in ``particles``.

References:
    Chopin and Papaspiliopoulos, *An Introduction to Sequential Monte Carlo*, Springer 2020
    (the ``particles`` library follows the same conventions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "StateSpaceModel",
    "LinearGaussian",
    "StochasticVolatility",
    "GrowthModel",
    "Simulation",
    "simulate",
]

_LOG_2PI = math.log(2.0 * math.pi)


def _as_tensor(value, dtype=None, device=None) -> Tensor:
    if isinstance(value, Tensor):
        if dtype is not None and not value.is_floating_point():
            return value.to(dtype)
        return value if dtype is None else value.to(dtype)
    return torch.as_tensor(value, dtype=dtype or torch.float64, device=device)


def _randn(shape, generator, dtype, device) -> Tensor:
    return torch.randn(shape, generator=generator, dtype=dtype, device=device)


class StateSpaceModel:
    r"""Base class (protocol) of a state-space model with batched torch densities.

    Subclasses set :attr:`state_dim`, :attr:`obs_dim`, :attr:`dtype` and :attr:`device`, and
    implement the six methods below. Every method is vectorised over a leading batch of states;
    nothing loops over particles.
    """

    state_dim: int
    obs_dim: int
    dtype: torch.dtype
    device: torch.device

    def sample_initial(self, num: int, generator: torch.Generator | None = None) -> Tensor:
        """Draw ``num`` states from the initial law :math:`\\chi`; returns ``[num, d]``."""
        raise NotImplementedError

    def initial_log_density(self, x: Tensor) -> Tensor:
        """:math:`\\log \\chi(x)` for ``x`` of shape ``[..., d]``; returns ``[...]``."""
        raise NotImplementedError

    def sample_transition(
        self, t: int, x_prev: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draw :math:`X_t \\sim q_t(x_{t-1}, \\cdot)` for each row of ``x_prev`` ``[M, d]``."""
        raise NotImplementedError

    def transition_log_density(self, t: int, x_prev: Tensor, x: Tensor) -> Tensor:
        """:math:`\\log q_t(x_{t-1}, x_t)`; ``x_prev`` and ``x`` broadcast over leading dims."""
        raise NotImplementedError

    def transition_log_bound(self, t: int) -> Tensor:
        """Scalar upper bound of :math:`\\log q_t(x', x)` over all ``x', x``."""
        raise NotImplementedError

    def observation_log_density(self, t: int, x: Tensor, y: Tensor) -> Tensor:
        """:math:`\\log g_t(x, y_t)` for ``x`` ``[..., d]`` and one observation ``y`` ``[d_y]``."""
        raise NotImplementedError

    def sample_observation(
        self, t: int, x: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draw :math:`Y_t \\sim g_t(x, \\cdot)` for each row of ``x`` ``[M, d]``."""
        raise NotImplementedError


@dataclass
class Simulation:
    """A simulated trajectory: ``states`` ``[T, d]`` and ``observations`` ``[T, d_y]``."""

    states: Tensor
    observations: Tensor


def simulate(
    model: StateSpaceModel, num_steps: int, generator: torch.Generator | None = None
) -> Simulation:
    """Simulate ``num_steps`` states and observations from ``model``.

    Args:
        model (StateSpaceModel): the model.
        num_steps (int): number of time steps :math:`T` (>= 1).
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
    """
    if num_steps < 1:
        raise ValueError(f"simulate: num_steps must be >= 1, got {num_steps}")
    with torch.no_grad():
        x = model.sample_initial(1, generator)
        xs, ys = [x], [model.sample_observation(0, x, generator)]
        for t in range(1, num_steps):
            x = model.sample_transition(t, x, generator)
            xs.append(x)
            ys.append(model.sample_observation(t, x, generator))
    return Simulation(torch.cat(xs, 0), torch.cat(ys, 0))


class _Gaussian:
    """Multivariate normal helper holding a Cholesky factor's inverse and log-determinant."""

    def __init__(self, cov: Tensor, name: str):
        if cov.dim() != 2 or cov.shape[0] != cov.shape[1]:
            raise ValueError(f"{name} must be a square matrix, got shape {tuple(cov.shape)}")
        chol, info = torch.linalg.cholesky_ex(cov)
        if int(info) != 0:
            raise ValueError(f"{name} must be symmetric positive definite")
        self.chol = chol
        eye = torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)
        self.chol_inv = torch.linalg.solve_triangular(chol, eye, upper=False)
        self.dim = cov.shape[0]
        self.log_norm = -0.5 * self.dim * _LOG_2PI - torch.log(torch.diagonal(chol)).sum()

    def log_density(self, diff: Tensor) -> Tensor:
        z = diff @ self.chol_inv.T
        return self.log_norm - 0.5 * (z * z).sum(-1)

    def sample(self, shape, generator, dtype, device) -> Tensor:
        return _randn((*shape, self.dim), generator, dtype, device) @ self.chol.T


class LinearGaussian(StateSpaceModel):
    r"""Multivariate linear Gaussian state-space model.

    .. math::
        X_0 \sim \mathcal N(m_0, P_0), \quad
        X_t = A X_{t-1} + V_t,\ V_t \sim \mathcal N(0, Q), \quad
        Y_t = C X_t + W_t,\ W_t \sim \mathcal N(0, R).

    The transition bound is the Gaussian mode,
    :math:`\log \bar q = -\tfrac d2 \log 2\pi - \tfrac12 \log\det Q`.

    Args:
        A (Tensor): transition matrix ``[d, d]`` (a scalar is read as ``[1, 1]``).
        C (Tensor): observation matrix ``[d_y, d]``.
        Q (Tensor): state noise covariance ``[d, d]``.
        R (Tensor): observation noise covariance ``[d_y, d_y]``.
        m0 (Tensor, optional): initial mean ``[d]``. (default: zeros)
        P0 (Tensor, optional): initial covariance ``[d, d]``. (default: :obj:`Q`)
    """

    def __init__(self, A, C, Q, R, m0=None, P0=None):
        A = _as_tensor(A)
        dtype = A.dtype if A.is_floating_point() else torch.float64
        A = torch.atleast_2d(A.to(dtype))
        C = torch.atleast_2d(_as_tensor(C, dtype))
        Q = torch.atleast_2d(_as_tensor(Q, dtype))
        R = torch.atleast_2d(_as_tensor(R, dtype))
        d, dy = A.shape[0], C.shape[0]
        if A.shape != (d, d):
            raise ValueError(f"LinearGaussian: A must be square, got {tuple(A.shape)}")
        if C.shape != (dy, d):
            raise ValueError(f"LinearGaussian: C must have shape [d_y, {d}], got {tuple(C.shape)}")
        if Q.shape != (d, d):
            raise ValueError(f"LinearGaussian: Q must have shape [{d}, {d}], got {tuple(Q.shape)}")
        if R.shape != (dy, dy):
            raise ValueError(
                f"LinearGaussian: R must have shape [{dy}, {dy}], got {tuple(R.shape)}"
            )
        m0 = torch.zeros(d, dtype=dtype, device=A.device) if m0 is None else _as_tensor(m0, dtype)
        m0 = m0.reshape(-1)
        P0 = Q if P0 is None else torch.atleast_2d(_as_tensor(P0, dtype))
        if m0.shape != (d,) or P0.shape != (d, d):
            raise ValueError(
                f"LinearGaussian: m0 must be [{d}] and P0 [{d}, {d}], got "
                f"{tuple(m0.shape)} and {tuple(P0.shape)}"
            )
        self.A, self.C, self.Q, self.R, self.m0, self.P0 = A, C, Q, R, m0, P0
        self.state_dim, self.obs_dim = d, dy
        self.dtype, self.device = dtype, A.device
        self._q = _Gaussian(Q, "LinearGaussian: Q")
        self._r = _Gaussian(R, "LinearGaussian: R")
        self._p0 = _Gaussian(P0, "LinearGaussian: P0")

    def sample_initial(self, num, generator=None):
        return self.m0 + self._p0.sample((num,), generator, self.dtype, self.device)

    def initial_log_density(self, x):
        return self._p0.log_density(x - self.m0)

    def sample_transition(self, t, x_prev, generator=None):
        noise = self._q.sample(x_prev.shape[:-1], generator, self.dtype, self.device)
        return x_prev @ self.A.T + noise

    def transition_log_density(self, t, x_prev, x):
        return self._q.log_density(x - x_prev @ self.A.T)

    def transition_log_bound(self, t):
        return self._q.log_norm

    def observation_log_density(self, t, x, y):
        return self._r.log_density(y - x @ self.C.T)

    def sample_observation(self, t, x, generator=None):
        noise = self._r.sample(x.shape[:-1], generator, self.dtype, self.device)
        return x @ self.C.T + noise

    def __repr__(self) -> str:
        return f"LinearGaussian(state_dim={self.state_dim}, obs_dim={self.obs_dim})"


def _normal_log_density(diff: Tensor, log_scale: Tensor) -> Tensor:
    return -0.5 * _LOG_2PI - log_scale - 0.5 * (diff * torch.exp(-log_scale)) ** 2


class StochasticVolatility(StateSpaceModel):
    r"""Univariate stochastic volatility model (as ``particles.state_space_models.StochVol``).

    .. math::
        X_0 \sim \mathcal N\!\left(\mu, \tfrac{\sigma^2}{1-\rho^2}\right), \quad
        X_t = \mu + \rho (X_{t-1} - \mu) + \sigma V_t, \quad
        Y_t = e^{X_t / 2} W_t, \quad V_t, W_t \sim \mathcal N(0, 1).

    Args:
        mu (float or Tensor): mean log-volatility. (default: :obj:`-1.0`)
        rho (float or Tensor): persistence, :math:`|\rho| < 1`. (default: :obj:`0.95`)
        sigma (float or Tensor): volatility of the log-volatility. (default: :obj:`0.2`)
    """

    def __init__(self, mu=-1.0, rho=0.95, sigma=0.2):
        self.mu = _as_tensor(mu)
        self.rho = _as_tensor(rho, self.mu.dtype)
        self.sigma = _as_tensor(sigma, self.mu.dtype)
        if self.mu.dim() or self.rho.dim() or self.sigma.dim():
            raise ValueError("StochasticVolatility: mu, rho and sigma must be scalars")
        self.state_dim, self.obs_dim = 1, 1
        self.dtype, self.device = self.mu.dtype, self.mu.device

    def _stationary_log_scale(self):
        return torch.log(self.sigma) - 0.5 * torch.log1p(-(self.rho**2))

    def sample_initial(self, num, generator=None):
        eps = _randn((num, 1), generator, self.dtype, self.device)
        return self.mu + torch.exp(self._stationary_log_scale()) * eps

    def initial_log_density(self, x):
        return _normal_log_density(x[..., 0] - self.mu, self._stationary_log_scale())

    def sample_transition(self, t, x_prev, generator=None):
        eps = _randn(x_prev.shape, generator, self.dtype, self.device)
        return self.mu + self.rho * (x_prev - self.mu) + self.sigma * eps

    def transition_log_density(self, t, x_prev, x):
        diff = x[..., 0] - self.mu - self.rho * (x_prev[..., 0] - self.mu)
        return _normal_log_density(diff, torch.log(self.sigma))

    def transition_log_bound(self, t):
        return -0.5 * _LOG_2PI - torch.log(self.sigma)

    def observation_log_density(self, t, x, y):
        return _normal_log_density(y[..., 0], 0.5 * x[..., 0])

    def sample_observation(self, t, x, generator=None):
        eps = _randn(x.shape, generator, self.dtype, self.device)
        return torch.exp(0.5 * x) * eps

    def __repr__(self) -> str:
        return (
            f"StochasticVolatility(mu={float(self.mu):.4g}, rho={float(self.rho):.4g}, "
            f"sigma={float(self.sigma):.4g})"
        )


class GrowthModel(StateSpaceModel):
    r"""The standard nonlinear growth model (Kitagawa 1996; Gordon, Salmond and Smith 1993).

    .. math::
        X_0 \sim \mathcal N(0, \sigma_0^2), \quad
        X_t = \tfrac{X_{t-1}}{2} + \tfrac{25 X_{t-1}}{1 + X_{t-1}^2} + 8 \cos(1.2\, t)
              + \sigma_x V_t, \quad
        Y_t = \tfrac{X_t^2}{20} + \sigma_y W_t.

    Args:
        sigma_x (float or Tensor): state noise scale. (default: :obj:`sqrt(10)`)
        sigma_y (float or Tensor): observation noise scale. (default: :obj:`1.0`)
        sigma_0 (float or Tensor): initial scale. (default: :obj:`sqrt(5)`)
    """

    def __init__(self, sigma_x=10.0**0.5, sigma_y=1.0, sigma_0=5.0**0.5):
        self.sigma_x = _as_tensor(sigma_x)
        self.sigma_y = _as_tensor(sigma_y, self.sigma_x.dtype)
        self.sigma_0 = _as_tensor(sigma_0, self.sigma_x.dtype)
        self.state_dim, self.obs_dim = 1, 1
        self.dtype, self.device = self.sigma_x.dtype, self.sigma_x.device

    def _mean(self, t, x_prev):
        return 0.5 * x_prev + 25.0 * x_prev / (1.0 + x_prev**2) + 8.0 * math.cos(1.2 * t)

    def sample_initial(self, num, generator=None):
        return self.sigma_0 * _randn((num, 1), generator, self.dtype, self.device)

    def initial_log_density(self, x):
        return _normal_log_density(x[..., 0], torch.log(self.sigma_0))

    def sample_transition(self, t, x_prev, generator=None):
        eps = _randn(x_prev.shape, generator, self.dtype, self.device)
        return self._mean(t, x_prev) + self.sigma_x * eps

    def transition_log_density(self, t, x_prev, x):
        diff = x[..., 0] - self._mean(t, x_prev[..., 0])
        return _normal_log_density(diff, torch.log(self.sigma_x))

    def transition_log_bound(self, t):
        return -0.5 * _LOG_2PI - torch.log(self.sigma_x)

    def observation_log_density(self, t, x, y):
        return _normal_log_density(y[..., 0] - x[..., 0] ** 2 / 20.0, torch.log(self.sigma_y))

    def sample_observation(self, t, x, generator=None):
        eps = _randn(x.shape, generator, self.dtype, self.device)
        return x**2 / 20.0 + self.sigma_y * eps

    def __repr__(self) -> str:
        return f"GrowthModel(sigma_x={float(self.sigma_x):.4g}, sigma_y={float(self.sigma_y):.4g})"
