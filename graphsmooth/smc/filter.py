r"""Bootstrap particle filter as an iterator, with resampling schemes registered by name.

At time :math:`t` the filter holds particles :math:`\xi_t^i` and normalised log-weights
:math:`\log \omega_t^i` (:math:`i = 1..N`). One step (:math:`t \geq 1`):

1. if :math:`\mathrm{ESS}_{t-1} = 1 / \sum_i (\omega_{t-1}^i)^2 < \kappa N`, draw ancestors
   :math:`A_t^i \sim \mathrm{Cat}(\omega_{t-1})` with the chosen scheme and reset the weights to
   :math:`1/N`; otherwise :math:`A_t^i = i`;
2. move :math:`\xi_t^i \sim q_t(\xi_{t-1}^{A_t^i}, \cdot)`;
3. reweight :math:`\log \omega_t^i \propto \log \bar\omega_{t-1}^{i} + \log g_t(\xi_t^i, y_t)`,

and the log-likelihood increment is
:math:`\log p(y_t \mid y_{0:t-1}) \approx \log \sum_i \bar\omega_{t-1}^i g_t(\xi_t^i, y_t)`
(:math:`\bar\omega_{t-1}` the weights after step 1; uniform at :math:`t = 0`).

With a ``reference`` trajectory the filter is the *conditional* SMC of particle Gibbs
(Andrieu, Doucet and Holenstein 2010): the last particle is frozen to the reference,
:math:`\xi_t^N = \zeta_t`, with ancestor :math:`A_t^N = N`, and the other :math:`N - 1`
ancestors are drawn by multinomial resampling at every step.

References:
    Gordon, Salmond and Smith (1993), Novel approach to nonlinear/non-Gaussian Bayesian state
    estimation. Andrieu, Doucet and Holenstein (2010), Particle Markov chain Monte Carlo methods,
    JRSS-B. Chopin and Papaspiliopoulos (2020), *An Introduction to SMC*, ch. 9-10.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from .models import StateSpaceModel

__all__ = [
    "RESAMPLING_SCHEMES",
    "resampling_scheme",
    "get_resampling",
    "resample",
    "effective_sample_size",
    "FilterState",
    "ParticleFilter",
]

ResamplingFn = Callable[[Tensor, int, "torch.Generator | None"], Tensor]
RESAMPLING_SCHEMES: dict[str, ResamplingFn] = {}


def resampling_scheme(name: str):
    """Decorator registering ``fn(weights [N], num, generator) -> indices [num]`` by name."""

    def register(fn: ResamplingFn) -> ResamplingFn:
        RESAMPLING_SCHEMES[name] = fn
        return fn

    return register


def get_resampling(name: str) -> ResamplingFn:
    """Return the resampling function registered as ``name`` (``ValueError`` lists the names)."""
    try:
        return RESAMPLING_SCHEMES[name]
    except KeyError:
        valid = ", ".join(sorted(RESAMPLING_SCHEMES))
        raise ValueError(f"unknown resampling scheme {name!r}; valid names: {valid}") from None


def _inverse_cdf(weights: Tensor, uniforms: Tensor) -> Tensor:
    cdf = torch.cumsum(weights, 0)
    idx = torch.searchsorted(cdf, uniforms * cdf[-1], right=True)
    return idx.clamp_(max=weights.numel() - 1)


@resampling_scheme("multinomial")
def multinomial(weights: Tensor, num: int, generator: torch.Generator | None = None) -> Tensor:
    r"""Multinomial resampling: :math:`A^i \overset{iid}{\sim} \mathrm{Cat}(W)`."""
    u = torch.rand(num, generator=generator, dtype=weights.dtype, device=weights.device)
    return _inverse_cdf(weights, u)


@resampling_scheme("stratified")
def stratified(weights: Tensor, num: int, generator: torch.Generator | None = None) -> Tensor:
    r"""Stratified resampling: one uniform per stratum, :math:`U^i = (i + V^i)/M`."""
    v = torch.rand(num, generator=generator, dtype=weights.dtype, device=weights.device)
    u = (torch.arange(num, dtype=weights.dtype, device=weights.device) + v) / num
    return _inverse_cdf(weights, u)


@resampling_scheme("systematic")
def systematic(weights: Tensor, num: int, generator: torch.Generator | None = None) -> Tensor:
    r"""Systematic resampling: one shared uniform, :math:`U^i = (i + V)/M`."""
    v = torch.rand(1, generator=generator, dtype=weights.dtype, device=weights.device)
    u = (torch.arange(num, dtype=weights.dtype, device=weights.device) + v) / num
    return _inverse_cdf(weights, u)


def resample(
    log_weights: Tensor,
    num: int | None = None,
    scheme: str = "systematic",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw ``num`` ancestor indices from (unnormalised) log-weights with a named scheme.

    Args:
        log_weights (Tensor): ``[N]`` log-weights (need not be normalised).
        num (int, optional): number of draws. (default: ``N``)
        scheme (str): ``"multinomial"``, ``"stratified"`` or ``"systematic"``.
            (default: :obj:`"systematic"`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
    """
    fn = get_resampling(scheme)
    w = torch.exp(log_weights - log_weights.max())
    return fn(w, log_weights.numel() if num is None else num, generator)


def effective_sample_size(log_weights: Tensor) -> Tensor:
    r"""ESS :math:`(\sum_i w^i)^2 / \sum_i (w^i)^2` of (unnormalised) log-weights."""
    lw = log_weights - torch.logsumexp(log_weights, 0)
    return torch.exp(-torch.logsumexp(2.0 * lw, 0))


@dataclass
class FilterState:
    """The particle system after the filter's step at time ``t``.

    Attributes:
        t (int): time index.
        particles (Tensor): :math:`\\xi_t`, ``[N, d]``.
        log_weights (Tensor): normalised log-weights :math:`\\log \\omega_t`, ``[N]``.
        ancestors (Tensor or None): :math:`A_t`, ``[N]`` (``None`` at ``t = 0``).
        resampled (bool): whether step ``t`` resampled.
        log_likelihood (Tensor): running estimate of :math:`\\log p(y_{0:t})`.
        ess (Tensor): effective sample size of :math:`\\omega_t`.
    """

    t: int
    particles: Tensor
    log_weights: Tensor
    ancestors: Tensor | None
    resampled: bool
    log_likelihood: Tensor
    ess: Tensor


class ParticleFilter:
    r"""Bootstrap particle filter (optionally conditional), iterated one time step at a time.

    ``for state in ParticleFilter(...)`` yields one :class:`FilterState` per observation;
    :meth:`run` iterates to the end and returns the last state.

    Args:
        model (StateSpaceModel): the model.
        observations (Tensor): ``[T, d_y]`` (a 1-D tensor is read as ``[T, 1]``).
        num_particles (int): :math:`N`.
        resampling (str): scheme name, see :data:`RESAMPLING_SCHEMES`.
            (default: :obj:`"systematic"`)
        ess_threshold (float): resample when ESS < ``ess_threshold * N``; ``1.0`` resamples at
            every step, ``0.0`` never. (default: :obj:`0.5`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
        reference (Tensor, optional): ``[T, d]`` frozen trajectory for conditional SMC; then
            resampling is multinomial at every step. (default: :obj:`None`)
    """

    def __init__(
        self,
        model: StateSpaceModel,
        observations: Tensor,
        num_particles: int,
        *,
        resampling: str = "systematic",
        ess_threshold: float = 0.5,
        generator: torch.Generator | None = None,
        reference: Tensor | None = None,
    ):
        if num_particles < 1:
            raise ValueError(f"ParticleFilter: num_particles must be >= 1, got {num_particles}")
        if not 0.0 <= ess_threshold <= 1.0:
            raise ValueError(
                f"ParticleFilter: ess_threshold must be in [0, 1], got {ess_threshold}"
            )
        get_resampling(resampling)
        y = observations
        if y.dim() == 1:
            y = y.unsqueeze(-1)
        if y.dim() != 2 or y.shape[0] < 1:
            raise ValueError(
                f"ParticleFilter: observations must have shape [T, d_y], got {tuple(y.shape)}"
            )
        if reference is not None:
            if reference.dim() == 1:
                reference = reference.unsqueeze(-1)
            if reference.shape != (y.shape[0], model.state_dim):
                raise ValueError(
                    f"ParticleFilter: reference must have shape [{y.shape[0]}, "
                    f"{model.state_dim}], got {tuple(reference.shape)}"
                )
            if num_particles < 2:
                raise ValueError("ParticleFilter: conditional SMC needs num_particles >= 2")
            reference = reference.to(model.dtype)
            resampling, ess_threshold = "multinomial", 1.0
        self.model = model
        self.observations = y.to(model.dtype)
        self.num_particles = num_particles
        self.resampling = resampling
        self.ess_threshold = ess_threshold
        self.generator = generator
        self.reference = reference
        self.num_steps = y.shape[0]
        self.state: FilterState | None = None

    def __iter__(self) -> Iterator[FilterState]:
        return self

    def _reweight(self, t: int, particles: Tensor, prev_log_weights: Tensor, loglik: Tensor):
        log_g = self.model.observation_log_density(t, particles, self.observations[t])
        lw = prev_log_weights + log_g
        lw = torch.where(torch.isnan(lw), torch.full_like(lw, -math.inf), lw)
        total = torch.logsumexp(lw, 0)
        if not torch.isfinite(total):
            raise ValueError(
                f"ParticleFilter: all particle weights are zero (log-weights -inf or nan) at "
                f"time step t={t}; the observation is impossible under every particle"
            )
        return lw - total, loglik + total

    def __next__(self) -> FilterState:
        n, model, gen = self.num_particles, self.model, self.generator
        with torch.no_grad():
            if self.state is None:
                t = 0
                x = model.sample_initial(n, gen)
                if self.reference is not None:
                    x[-1] = self.reference[0]
                uniform = torch.full((n,), -math.log(n), dtype=model.dtype, device=x.device)
                lw, ll = self._reweight(0, x, uniform, torch.zeros((), dtype=model.dtype))
                self.state = FilterState(0, x, lw, None, False, ll, effective_sample_size(lw))
                return self.state
            prev = self.state
            t = prev.t + 1
            if t >= self.num_steps:
                raise StopIteration
            resampled = bool(prev.ess < self.ess_threshold * n) or self.ess_threshold >= 1.0
            if resampled:
                w = torch.exp(prev.log_weights)
                anc = get_resampling(self.resampling)(w, n, gen)
                if self.reference is not None:
                    anc[-1] = n - 1
                base = torch.full((n,), -math.log(n), dtype=model.dtype, device=w.device)
            else:
                anc = torch.arange(n, device=prev.particles.device)
                base = prev.log_weights
            x = model.sample_transition(t, prev.particles[anc], gen)
            if self.reference is not None:
                x[-1] = self.reference[t]
            lw, ll = self._reweight(t, x, base, prev.log_likelihood)
            self.state = FilterState(t, x, lw, anc, resampled, ll, effective_sample_size(lw))
            return self.state

    def run(self) -> FilterState:
        """Iterate to the last time step and return the final :class:`FilterState`."""
        for _ in self:
            pass
        assert self.state is not None
        return self.state
