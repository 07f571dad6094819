r"""Factorial hidden Markov models: chains, transitions, emission factors and their factor graph.

From "Exploiting locality in high-dimensional factorial hidden Markov models"
(Rimella & Whiteley, JMLR 2022, https://arxiv.org/abs/1902.01639).

A factorial HMM has :math:`M` components :math:`v \in V`, each a Markov chain on :math:`L_v`
states with its own initial distribution :math:`\mu^v` and transition matrix :math:`P^v`:

.. math::
    p(x_{1:T}) = \prod_{v \in V} \mu^v(x_1^v) \prod_{t=2}^{T} P^v(x_{t-1}^v, x_t^v).

The observation :math:`y_t \in \mathbb{R}^F` is emitted through *factors* :math:`f` with scopes
:math:`N(f) \subset V`:

.. math::
    g(x, y) = \prod_{f=1}^{F} g_f(x^{N(f)}, y^f).

The factor graph is the bipartite graph components -- factors with an edge :math:`(v, f)` whenever
:math:`v \in N(f)`; its hop distance defines the locality used by the Graph Filter.

Conventions used across :mod:`graphsmooth.hmm`:

* ``y`` is a ``[T, F]`` tensor, one column per factor; the initial distribution is the law of the
  first *observed* state :math:`X_1` (the hmmlearn convention).
* Every component has ``L = max_v L_v`` padded states; padded states carry zero initial mass and
  are absorbing, so they never receive probability (allowing :math:`L_v` to differ costs nothing).
* A component in state :math:`i` has the numeric *state value* ``state_values[v, i]`` (default
  :math:`i`), used by the built-in linear factor families through
  :math:`s_f(x) = \sum_{v \in N(f)} \mathrm{value}_v(x^v)`:

  - :class:`GaussianFactors`: :math:`y^f \sim \mathcal{N}(c_f\, s_f(x), \sigma_f^2)`
    (the paper's chain example, with :math:`N(f) = \{f, f+1\}`);
  - :class:`PoissonFactors`: :math:`y^f \sim \mathrm{Pois}(\lambda_f\, s_f(x))` (the London tube
    model, :math:`y_{in}(i) \sim \mathrm{Pois}(\lambda_{in}(i) \sum_j X(i, j))`);
  - :class:`CallableFactors`: any user log-likelihood, evaluated on all configurations of the scope.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

__all__ = [
    "CallableFactors",
    "FactorTables",
    "FactorialHMM",
    "GaussianFactors",
    "PoissonFactors",
    "chain_scopes",
    "factor_log_tables",
    "gaussian_chain",
]


# --------------------------------------------------------------------------------------------
# Scopes
# --------------------------------------------------------------------------------------------
def _pad_scopes(scopes: Sequence[Sequence[int]] | Tensor) -> tuple[Tensor, Tensor]:
    """Padded ``long [F, S]`` scope table (``-1`` pads) and ``long [F]`` scope sizes."""
    if isinstance(scopes, Tensor):
        if scopes.dim() != 2:
            raise ValueError(
                f"scopes tensor must be [F, S] padded with -1, got {tuple(scopes.shape)}"
            )
        scope = scopes.long()
        size = (scope >= 0).sum(1)
        rows = [scope[f, : int(size[f])].tolist() for f in range(scope.shape[0])]
    else:
        rows = [list(map(int, s)) for s in scopes]
    if len(rows) == 0:
        raise ValueError("an FHMM needs at least one emission factor (scopes is empty)")
    width = max(len(r) for r in rows)
    for f, r in enumerate(rows):
        if len(r) == 0:
            raise ValueError(f"factor {f} has an empty scope")
        if len(set(r)) != len(r):
            raise ValueError(f"factor {f} has a repeated component in its scope {r}")
        if min(r) < 0:
            raise ValueError(f"factor {f} has a negative component index in its scope {r}")
    scope = torch.full((len(rows), width), -1, dtype=torch.long)
    for f, r in enumerate(rows):
        scope[f, : len(r)] = torch.tensor(r, dtype=torch.long)
    return scope, (scope >= 0).sum(1)


def chain_scopes(num_components: int) -> Tensor:
    r"""Scopes :math:`N(f) = \{f, f+1\}`, :math:`f = 0..M-2`, of the paper's Gaussian chain."""
    if num_components < 2:
        raise ValueError(f"a chain needs at least 2 components, got {num_components}")
    f = torch.arange(num_components - 1)
    return torch.stack([f, f + 1], dim=1)


# --------------------------------------------------------------------------------------------
# Emission factor families
# --------------------------------------------------------------------------------------------
@dataclass
class _Factors:
    scopes: Sequence[Sequence[int]] | Tensor
    scope: Tensor = field(init=False, repr=False)
    scope_size: Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.scope, self.scope_size = _pad_scopes(self.scopes)

    @property
    def num_factors(self) -> int:
        return int(self.scope.shape[0])

    def _param(self, value, name: str, positive: bool) -> Tensor:
        t = torch.as_tensor(value, dtype=torch.float64)
        if t.dim() == 0:
            t = t.expand(self.num_factors).clone()
        if t.shape != (self.num_factors,):
            raise ValueError(
                f"{type(self).__name__}: {name} must be a scalar or have one entry per factor "
                f"({self.num_factors}), got shape {tuple(t.shape)}"
            )
        if not torch.isfinite(t).all() or (positive and (t <= 0).any()):
            raise ValueError(f"{type(self).__name__}: {name} must be finite and positive")
        return t

    def log_prob(self, y: Tensor, s: Tensor, factors: Tensor) -> Tensor:
        """``[T, G, C]`` log-likelihood of ``y [T, G]`` given sums ``s [G, C]``."""
        raise NotImplementedError

    def sample(self, s: Tensor, generator: torch.Generator | None) -> Tensor:
        """One draw of ``y [T, F]`` given state sums ``s [T, F]``."""
        raise NotImplementedError


@dataclass
class GaussianFactors(_Factors):
    r"""Gaussian factors :math:`y^f \sim \mathcal{N}(c_f \sum_{v \in N(f)} \mathrm{value}_v(x^v),
    \sigma_f^2)`.

    Args:
        scopes (list of lists or torch.Tensor): component indices of each factor (a padded
            ``[F, S]`` tensor uses ``-1`` for padding).
        c (float or torch.Tensor): scale :math:`c_f`, scalar or ``[F]``. (default: ``1.0``)
        sigma2 (float or torch.Tensor): variance :math:`\sigma_f^2`, scalar or ``[F]``.
            (default: ``1.0``)
    """

    c: float | Tensor = 1.0
    sigma2: float | Tensor = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.c = self._param(self.c, "c", positive=False)
        self.sigma2 = self._param(self.sigma2, "sigma2", positive=True)

    def log_prob(self, y: Tensor, s: Tensor, factors: Tensor) -> Tensor:
        c = self.c.to(s)[factors]
        var = self.sigma2.to(s)[factors]
        mean = c[:, None] * s  # [G, C]
        d = y[:, :, None] - mean[None]
        return -0.5 * (d * d / var[None, :, None] + torch.log(2 * math.pi * var)[None, :, None])

    def sample(self, s: Tensor, generator: torch.Generator | None) -> Tensor:
        noise = torch.randn(s.shape, generator=generator, dtype=s.dtype)
        return self.c.to(s) * s + noise * self.sigma2.to(s).sqrt()


@dataclass
class PoissonFactors(_Factors):
    r"""Poisson factors :math:`y^f \sim \mathrm{Pois}(\lambda_f \sum_{v \in N(f)}
    \mathrm{value}_v(x^v))`, the London tube model's inflow / outflow counts.

    A zero rate with :math:`y^f > 0` has zero likelihood (``-inf``); with :math:`y^f = 0` it has
    likelihood one.

    Args:
        scopes (list of lists or torch.Tensor): component indices of each factor.
        rate (float or torch.Tensor): :math:`\lambda_f`, scalar or ``[F]``. (default: ``1.0``)
    """

    rate: float | Tensor = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.rate = self._param(self.rate, "rate", positive=True)

    def log_prob(self, y: Tensor, s: Tensor, factors: Tensor) -> Tensor:
        lam = self.rate.to(s)[factors][:, None] * s  # [G, C]
        yy = y[:, :, None]
        ylog = torch.where(
            yy == 0, torch.zeros((), dtype=s.dtype), yy * torch.log(lam)[None]
        )  # 0 log 0 = 0
        return ylog - lam[None] - torch.lgamma(yy + 1)

    def sample(self, s: Tensor, generator: torch.Generator | None) -> Tensor:
        return torch.poisson(self.rate.to(s) * s, generator=generator)


@dataclass
class CallableFactors(_Factors):
    r"""User-supplied factor log-likelihoods.

    ``log_prob_fn(y, values, factors)`` receives ``y [T, G]`` (the columns of the ``G`` factors
    ``factors`` (``long [G]``), all with the same scope size ``s``) and ``values [G, C, s]``, the
    state values of the scope components for every one of the :math:`C = L^s` configurations
    (first scope component most significant), and returns ``[T, G, C]`` log-likelihoods.
    ``sample_fn(values [T, F, S], generator) -> y [T, F]`` is optional (for :func:`simulate_fhmm`;
    ``S`` is the largest scope, padded with zeros).

    EM keeps callable factors fixed (no M-step for their parameters).

    Args:
        scopes (list of lists or torch.Tensor): component indices of each factor.
        log_prob_fn (callable): the log-likelihood described above.
        sample_fn (callable, optional): a sampler, see above. (default: ``None``)
    """

    log_prob_fn: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None
    sample_fn: Callable[[Tensor, torch.Generator | None], Tensor] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.log_prob_fn is None or not callable(self.log_prob_fn):
            raise ValueError("CallableFactors needs a callable log_prob_fn")


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------
def _stochastic(t: Tensor, name: str, atol: float = 1e-8) -> None:
    if not torch.isfinite(t).all() or (t < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    if not torch.allclose(t.sum(-1), torch.ones((), dtype=t.dtype), atol=atol):
        raise ValueError(f"{name}: rows must sum to one")


class FactorialHMM:
    r"""A factorial HMM: :math:`M` Markov chains and emission factors with scopes.

    .. math::
        X_1^v \sim \mu^v, \quad X_t^v \mid X_{t-1}^v \sim P^v(X_{t-1}^v, \cdot), \quad
        Y_t \mid X_t \sim \prod_f g_f(X_t^{N(f)}, \cdot).

    Args:
        initial (torch.Tensor): ``[M, L]`` initial distributions, or ``[L]`` shared by all
            components (then ``num_components`` is required).
        transition (torch.Tensor): ``[M, L, L]`` row-stochastic matrices, or ``[L, L]`` shared.
        factors (GaussianFactors or PoissonFactors or CallableFactors): the emission factors.
        num_components (int, optional): :math:`M` when neither ``initial`` nor ``transition``
            is per component. (default: ``None``)
        num_states (int or sequence of int, optional): :math:`L_v` per component when they
            differ; states :math:`\ge L_v` of component :math:`v` must have zero initial mass
            and are made absorbing. (default: ``None``: all :math:`L`)
        state_values (torch.Tensor, optional): ``[M, L]`` or ``[L]`` numeric value of each
            state. (default: ``None``: :math:`0, 1, \dots, L-1`)

    All tensors are stored as ``float64``.
    """

    def __init__(
        self,
        initial: Tensor,
        transition: Tensor,
        factors: _Factors,
        num_components: int | None = None,
        num_states: int | Sequence[int] | None = None,
        state_values: Tensor | None = None,
    ) -> None:
        initial = torch.as_tensor(initial, dtype=torch.float64)
        transition = torch.as_tensor(transition, dtype=torch.float64)
        if not isinstance(factors, _Factors):
            raise ValueError(
                "FactorialHMM: factors must be GaussianFactors, PoissonFactors or CallableFactors"
            )
        M = None
        if initial.dim() == 2:
            M = initial.shape[0]
        if transition.dim() == 3:
            if M is not None and transition.shape[0] != M:
                raise ValueError(
                    f"FactorialHMM: initial has {M} components but transition has "
                    f"{transition.shape[0]}"
                )
            M = transition.shape[0]
        if M is None:
            if num_components is None:
                raise ValueError("FactorialHMM: shared initial and transition need num_components")
            M = int(num_components)
        elif num_components is not None and int(num_components) != M:
            raise ValueError(f"FactorialHMM: num_components={num_components} but tensors give {M}")
        if M < 1:
            raise ValueError("FactorialHMM needs at least one component")
        L = initial.shape[-1]
        if transition.shape[-2:] != (L, L):
            raise ValueError(
                f"FactorialHMM: transition must be [.., {L}, {L}], got {tuple(transition.shape)}"
            )
        initial = initial.expand(M, L).clone()
        transition = transition.expand(M, L, L).clone()
        if num_states is None:
            nstates = torch.full((M,), L, dtype=torch.long)
        else:
            nstates = torch.as_tensor(num_states, dtype=torch.long).expand(M).clone()
            if (nstates < 1).any() or (nstates > L).any():
                raise ValueError(f"FactorialHMM: num_states must lie in [1, {L}]")
            pad = torch.arange(L)[None, :] >= nstates[:, None]  # [M, L]
            if (initial[pad] != 0).any():
                raise ValueError(
                    "FactorialHMM: padded states (>= num_states) need zero initial mass"
                )
            # padded rows absorbing; valid rows must not reach padded states
            valid_to_pad = (~pad)[:, :, None] & pad[:, None, :]
            if (transition[valid_to_pad] != 0).any():
                raise ValueError(
                    "FactorialHMM: transitions from a valid state into a padded state must be 0"
                )
            eye = torch.eye(L, dtype=torch.float64).expand(M, L, L)
            transition = torch.where(pad[:, :, None], eye, transition)
        _stochastic(initial, "FactorialHMM: initial")
        _stochastic(transition, "FactorialHMM: transition")
        if state_values is None:
            values = torch.arange(L, dtype=torch.float64).expand(M, L).clone()
        else:
            values = torch.as_tensor(state_values, dtype=torch.float64)
            if values.shape not in ((L,), (M, L)):
                raise ValueError(
                    f"FactorialHMM: state_values must be [{L}] or [{M}, {L}], got "
                    f"{tuple(values.shape)}"
                )
            values = values.expand(M, L).clone()
        if int(factors.scope.max()) >= M:
            raise ValueError(
                f"FactorialHMM: a factor scope names component {int(factors.scope.max())} but "
                f"there are only {M} components"
            )
        self.initial = initial
        self.transition = transition
        self.factors = factors
        self.num_states = nstates
        self.state_values = values

    # ---------------------------------------------------------------- properties
    @property
    def num_components(self) -> int:
        return int(self.initial.shape[0])

    @property
    def L(self) -> int:
        return int(self.initial.shape[1])

    @property
    def num_factors(self) -> int:
        return self.factors.num_factors

    @property
    def scope(self) -> Tensor:
        """``long [F, S]`` padded scopes (``-1`` pads)."""
        return self.factors.scope

    @property
    def scope_size(self) -> Tensor:
        return self.factors.scope_size

    def factor_graph_edge_index(self) -> Tensor:
        r"""``[2, E]`` undirected edges of the factor graph on ``M + F`` nodes.

        Component :math:`v` is node ``v``, factor :math:`f` is node ``M + f``.
        """
        f = torch.arange(self.num_factors).repeat_interleave(self.scope_size)
        v = self.scope[self.scope >= 0]
        a = torch.stack([v, self.num_components + f])
        return torch.cat([a, a.flip(0)], dim=1)

    def replace(self, **kwargs) -> FactorialHMM:
        """A copy with some of ``initial``, ``transition``, ``factors`` replaced."""
        args = dict(
            initial=self.initial,
            transition=self.transition,
            factors=self.factors,
            num_states=self.num_states,
            state_values=self.state_values,
        )
        args.update(kwargs)
        return FactorialHMM(**args)

    def __repr__(self) -> str:
        return (
            f"FactorialHMM(M={self.num_components}, L={self.L}, F={self.num_factors}, "
            f"factors={type(self.factors).__name__})"
        )


def gaussian_chain(
    num_components: int,
    transition: Tensor | None = None,
    initial: Tensor | None = None,
    c: float = 2.0,
    sigma2: float = 4.0,
) -> FactorialHMM:
    r"""The paper's Gaussian chain: :math:`L = 2` states :math:`\{0, 1\}`,
    :math:`y^f \sim \mathcal{N}(c (x^f + x^{f+1}), \sigma^2)`, :math:`f = 1..M-1`.

    Defaults are the authors' example: :math:`P = [[.4, .6], [.8, .2]]`, :math:`\mu_0 = (1, 0)`,
    :math:`c = 2`, :math:`\sigma^2 = 4`.
    """
    P = torch.tensor([[0.4, 0.6], [0.8, 0.2]]) if transition is None else transition
    mu = torch.tensor([1.0, 0.0]) if initial is None else initial
    return FactorialHMM(
        mu,
        P,
        GaussianFactors(chain_scopes(num_components), c=c, sigma2=sigma2),
        num_components=num_components,
    )


# --------------------------------------------------------------------------------------------
# Factor log-likelihood tables
# --------------------------------------------------------------------------------------------
@dataclass
class FactorTables:
    r"""Log-likelihood of every factor on every configuration of its scope, for every time.

    Factor :math:`f`'s table occupies ``flat[:, offset[f] : offset[f] + L ** scope_size[f]]``;
    configuration index :math:`\sum_i x_{N(f)_i} L^{s_f - 1 - i}` (first scope component most
    significant). A trailing zero column (index ``flat.shape[1] - 1``) serves as padding.

    Attributes:
        flat (torch.Tensor): ``[T, E + 1]`` log-likelihoods.
        offset (torch.Tensor): ``long [F]`` start of each factor's table.
    """

    flat: Tensor
    offset: Tensor

    @property
    def pad_index(self) -> int:
        return int(self.flat.shape[1]) - 1


def _configs(L: int, n: int, device=None) -> Tensor:
    """``long [L**n, n]`` all configurations, first coordinate most significant."""
    if n == 0:
        return torch.zeros(1, 0, dtype=torch.long, device=device)
    grids = torch.meshgrid(*[torch.arange(L, device=device)] * n, indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], dim=1)


def _scope_values(model: FactorialHMM, factors: Tensor, s: int) -> Tensor:
    """``[G, L**s, s]`` state values of the scope components on every configuration."""
    L = model.L
    cfg = _configs(L, s)  # [C, s]
    comp = model.scope[factors, :s]  # [G, s]
    return model.state_values[comp[:, None, :], cfg[None, :, :]]


def check_observations(model: FactorialHMM, y: Tensor) -> Tensor:
    y = torch.as_tensor(y, dtype=torch.float64)
    if y.dim() != 2 or y.shape[1] != model.num_factors:
        raise ValueError(
            f"observations must be [T, F] with F = {model.num_factors} factors, got "
            f"{tuple(y.shape)}"
        )
    if y.shape[0] < 1:
        raise ValueError("observations must contain at least one time step")
    if not torch.isfinite(y).all():
        raise ValueError("observations contain NaN or infinite values")
    return y


def factor_log_tables(model: FactorialHMM, y: Tensor) -> FactorTables:
    r"""Tabulate :math:`\log g_f(x^{N(f)}, y_t^f)` for all factors, configurations and times.

    Vectorised over factors of equal scope size (one call of the family's ``log_prob`` per
    scope size).

    Args:
        model (FactorialHMM): the model.
        y (torch.Tensor): ``[T, F]`` observations.

    Returns:
        FactorTables
    """
    y = check_observations(model, y)
    T, L = y.shape[0], model.L
    sizes = model.scope_size
    width = L**sizes
    offset = torch.zeros_like(width)
    offset[1:] = torch.cumsum(width, 0)[:-1]
    E = int(width.sum())
    flat = torch.zeros(T, E + 1, dtype=torch.float64)
    for s in torch.unique(sizes).tolist():  # one batch per scope size
        fac = torch.nonzero(sizes == s).flatten()
        vals = _scope_values(model, fac, s)  # [G, C, s]
        fam = model.factors
        if isinstance(fam, CallableFactors):
            lp = fam.log_prob_fn(y[:, fac], vals, fac)
            C = L**s
            if lp.shape != (T, fac.numel(), C):
                raise ValueError(
                    f"CallableFactors.log_prob_fn returned shape {tuple(lp.shape)}, expected "
                    f"{(T, fac.numel(), C)}"
                )
        else:
            lp = fam.log_prob(y[:, fac], vals.sum(-1), fac)
        lp = lp.to(torch.float64)
        lp = torch.where(torch.isnan(lp), -math.inf, lp)  # undefined -> impossible
        C = lp.shape[-1]
        cols = offset[fac][:, None] + torch.arange(C)[None, :]  # [G, C]
        flat[:, cols.reshape(-1)] = lp.reshape(T, -1)
    return FactorTables(flat=flat, offset=offset)


def _replace_factors(factors: _Factors, **kwargs) -> _Factors:
    return replace(factors, scopes=factors.scope, **kwargs)
