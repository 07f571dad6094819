r"""PaRIS: the particle-based, rapid incremental smoother (Olsson & Westerborn, 2017).

PaRIS estimates smoothed expectations of an additive functional

.. math::
    h_{0:T-1}(x_{0:T-1}) = h_0(x_0) + \sum_{t=1}^{T-1} h_t(x_{t-1}, x_t)

online, at a cost linear in the number of particles :math:`N`. Along a particle filter it keeps
one statistic :math:`\tau_t^i` per particle, :math:`\tau_0^i = h_0(\xi_0^i)` and

.. math::
    \tau_t^i = \frac1K \sum_{k=1}^{K}
        \left[\tau_{t-1}^{J_t^{i,k}} + h_t\big(\xi_{t-1}^{J_t^{i,k}}, \xi_t^i\big)\right],
    \qquad
    J_t^{i,k} \sim \Lambda_t(i, j) \propto \omega_{t-1}^j\, q_t(\xi_{t-1}^j, \xi_t^i),

and estimates :math:`\mathbb E[h_{0:T-1}(X_{0:T-1}) \mid y_{0:T-1}]` by
:math:`\sum_i \omega_{T-1}^i \tau_{T-1}^i` (normalised weights). :math:`K \geq 2` is needed for
numerical stability (Olsson & Westerborn, 2017, Sec. 1).

By default (``backward="mh"``) the backward indices are drawn by :math:`K` independent
Metropolis-Hastings chains per particle, each started at the particle's ancestor
:math:`A_t^i` and moved by the independent sampler with proposal
:math:`\mathrm{Cat}(\omega_{t-1})`, which leaves :math:`\Lambda_t(i, \cdot)` invariant
(Bunch and Godsill 2013; Dau and Chopin 2023): O(N) per step with no rejection loop. Starting at
the ancestor is what makes it consistent: in the weighted sense the ancestor is a draw from the
backward kernel (see :func:`backward_sample`), so the weighted first moments of PaRIS are those
of exact draws.

With ``backward="rejection"`` the indices are exact draws by accept-reject: propose :math:`j \sim \mathrm{Cat}(\omega_{t-1})`
and accept with probability :math:`q_t(\xi_{t-1}^j, \xi_t^i) / \bar q_t`, where
:math:`\bar q_t` is the model's :meth:`~graphsmooth.smc.models.StateSpaceModel.transition_log_bound`.
All :math:`N K` draws advance together: round :math:`r` gives every pending draw
:math:`b_r = 2^{r}` i.i.d. proposals (:math:`b_1 = 2`) at once and keeps the first accepted one,
which has the law of the sequential sampler; doubling keeps the number of rounds (the Python
overhead) logarithmic in ``max_trials``. Once the pending draws :math:`m` are so few that
:math:`m N \leq 2^{12}`, one exact pass is cheaper than another round and is taken early (this
changes the cost, never the law of the draws).
The expected number of trials of the pure rejection sampler can be infinite (Douc et al. 2011;
Dau & Chopin 2023), so after ``max_trials`` rounds the draws still pending are taken exactly
from :math:`\Lambda_t(i, \cdot)` (O(N) each, in chunks): this *hybrid* sampler draws from
exactly the same law as the pure one.

``backward="sampling"`` draws all indices exactly (O(N^2) per step) and ``backward="exact"``
replaces the :math:`K` draws by the full expectation
:math:`\tau_t^i = \sum_j \Lambda_t(i,j)[\tau_{t-1}^j + h_t(\xi_{t-1}^j, \xi_t^i)]`
(the O(N^2) forward-only FFBSm of Del Moral, Doucet and Singh 2010), the reference the mean of
PaRIS over backward draws must match for a fixed particle system.

References:
    Olsson and Westerborn (2017), Efficient particle-based online smoothing in general hidden
    Markov models: the PaRIS algorithm, Bernoulli 23(3). arXiv:1412.7550.
    Dau and Chopin (2023), On backward smoothing algorithms, Annals of Statistics 51(5).
    arXiv:2207.00976.
    Bunch and Godsill (2013), Improved particle approximations to the joint smoothing
    distribution using Markov chain Monte Carlo, IEEE Trans. Signal Processing 61(4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .filter import ParticleFilter
from .models import StateSpaceModel

__all__ = [
    "AdditiveFunctional",
    "BackwardDraws",
    "backward_sample",
    "backward_kernel_log",
    "paris_update",
    "ParisHistory",
    "ParisResult",
    "paris",
    "BACKWARD_METHODS",
]

AdditiveFunctional = Callable[[int, "Tensor | None", Tensor], Tensor]
"""``h(t, x_prev, x) -> [M, F]``: ``x_prev`` is ``None`` at ``t = 0``, else ``[M, d]`` like ``x``."""

BACKWARD_METHODS = ("mh", "rejection", "sampling", "exact")
_DRAW_METHODS = ("mh", "rejection", "sampling")

DEFAULT_MH_STEPS = 1
_CHUNK_ELEMENTS = 1 << 22
_SWITCH_ELEMENTS = 1 << 12


@dataclass
class BackwardDraws:
    """Backward indices of one PaRIS step.

    The counters are 0-dim long tensors (no host synchronisation on a GPU).

    Attributes:
        indices (Tensor): ``[N, K]`` long, :math:`J_t^{i,k}`.
        num_proposals (Tensor): proposals made (accept-reject or Metropolis-Hastings).
        num_fallback (Tensor): draws taken by the exact fallback after ``max_trials`` rounds.
        num_accepted (Tensor): accepted Metropolis-Hastings moves (``0`` for other methods).
    """

    indices: Tensor
    num_proposals: Tensor
    num_fallback: Tensor
    num_accepted: Tensor


def backward_kernel_log(
    model: StateSpaceModel, t: int, prev_particles: Tensor, prev_log_weights: Tensor, x: Tensor
) -> Tensor:
    r"""Normalised log backward kernel :math:`\log\Lambda_t(i, j)` for rows ``x`` ``[R, d]``.

    Returns ``[R, N]`` with rows summing to one in probability space.
    """
    logits = prev_log_weights + model.transition_log_density(
        t, prev_particles.unsqueeze(0), x.unsqueeze(1)
    )
    return logits - torch.logsumexp(logits, 1, keepdim=True)


def _categorical(cdf: Tensor, num: int, generator) -> Tensor:
    """``num`` i.i.d. draws from the unnormalised cumulative weights ``cdf``.

    Large batches search *sorted* uniforms (order statistics from exponential spacings, O(num))
    and then shuffle them with a random permutation: the binary searches are then cache
    friendly (about 3x faster than unsorted queries on CPU) and the draws stay i.i.d.
    """
    dev, dtype = cdf.device, cdf.dtype
    if num < 4096:
        u = torch.rand(num, generator=generator, dtype=dtype, device=dev)
        return torch.searchsorted(cdf, u * cdf[-1], right=True).clamp_(max=cdf.numel() - 1)
    e = torch.rand(num + 1, generator=generator, dtype=dtype, device=dev).log_().neg_()
    s = torch.cumsum(e, 0)
    u = s[:-1] * (cdf[-1] / s[-1])
    idx = torch.searchsorted(cdf, u, right=True).clamp_(max=cdf.numel() - 1)
    return idx[torch.randperm(num, generator=generator, device=dev)]


def _exact_draws(
    model, t, prev_particles, prev_log_weights, x, generator
) -> Tensor:  # one exact draw per row of x, chunked over rows
    n = prev_particles.shape[0]
    out = torch.empty(x.shape[0], dtype=torch.long, device=x.device)
    rows = max(1, _CHUNK_ELEMENTS // max(n, 1))
    for start in range(0, x.shape[0], rows):
        xs = x[start : start + rows]
        logits = prev_log_weights + model.transition_log_density(
            t, prev_particles.unsqueeze(0), xs.unsqueeze(1)
        )
        cdf = torch.cumsum(torch.exp(logits - logits.max(1, keepdim=True).values), 1)
        u = torch.rand(xs.shape[0], 1, generator=generator, dtype=cdf.dtype, device=cdf.device)
        idx = torch.searchsorted(cdf, u * cdf[:, -1:], right=True).squeeze(1)
        out[start : start + rows] = idx.clamp_(max=n - 1)
    return out


def _mh_draws(
    model, t, prev_particles, prev_log_weights, particles, k, ancestors, steps, generator
) -> tuple[Tensor, Tensor]:
    """``K`` independent Metropolis-Hastings chains per particle, started at its ancestor."""
    n = particles.shape[0]
    w = torch.exp(prev_log_weights - prev_log_weights.max())
    cdf = torch.cumsum(w, 0)
    x = particles.unsqueeze(1)  # [N, 1, d]
    cur = ancestors.unsqueeze(1).expand(n, k)
    lq_cur = model.transition_log_density(t, prev_particles[ancestors], particles)
    lq_cur = lq_cur.unsqueeze(1).expand(n, k)
    # all proposals of all steps at once: i.i.d. Cat(w), independent of the chains' states
    cand = _categorical(cdf, n * k * steps, generator).view(n, steps * k)
    lq_cand = model.transition_log_density(t, prev_particles[cand], x).view(n, steps, k)
    cand = cand.view(n, steps, k)
    log_u = torch.rand(n, steps, k, generator=generator, dtype=w.dtype, device=w.device).log_()
    accepted = torch.zeros((), dtype=torch.long, device=w.device)
    for s in range(steps):  # a handful of steps, each vectorised over all N K chains
        acc = log_u[:, s] < lq_cand[:, s] - lq_cur
        cur = torch.where(acc, cand[:, s], cur)
        lq_cur = torch.where(acc, lq_cand[:, s], lq_cur)
        accepted = accepted + acc.sum()
    return cur, accepted


def backward_sample(
    model: StateSpaceModel,
    t: int,
    prev_particles: Tensor,
    prev_log_weights: Tensor,
    particles: Tensor,
    num_backward: int = 2,
    *,
    method: str = "rejection",
    ancestors: Tensor | None = None,
    mh_steps: int = 1,
    max_trials: int | None = None,
    generator: torch.Generator | None = None,
) -> BackwardDraws:
    r"""Draw :math:`K` backward indices :math:`J_t^{i,1..K}` for every particle :math:`i`.

    ``method`` selects the sampler:

    - ``"rejection"``: hybrid accept-reject, at most ``max_trials`` proposals per draw, then
      an exact draw; every :math:`J_t^{i,k}` is an exact draw from :math:`\Lambda_t(i,\cdot)`.
    - ``"sampling"``: every index drawn exactly from :math:`\Lambda_t(i,\cdot)` (O(N^2)).
    - ``"mh"``: :math:`K` independent Metropolis-Hastings chains per particle, each started
      at the particle's ancestor :math:`A_t^i` and run for ``mh_steps`` steps of the
      independent sampler with proposal :math:`j' \sim \mathrm{Cat}(\omega_{t-1})` and
      acceptance probability

      .. math::
          \min\left(1, \frac{q_t(\xi_{t-1}^{j'}, \xi_t^i)}{q_t(\xi_{t-1}^{j}, \xi_t^i)}\right),

      which leaves :math:`\Lambda_t(i, \cdot)` invariant (Bunch and Godsill 2013; Dau and
      Chopin 2023). O(N K ``mh_steps``), no bound on :math:`q_t` and no rejection loop.
      The draws are not exact given the particles, but the ancestor is: for any unbiased
      resampling scheme (and without resampling, :math:`A_t^i = i`),
      :math:`\mathbb E[\sum_i \bar\omega^i_{t-1} f(A^i_t, \xi^i_t) \mid \mathcal F_{t-1}]
      = \int \sum_j \omega^j_{t-1} q_t(\xi^j_{t-1}, x) f(j, x)\,dx`, and a
      :math:`\Lambda_t`-invariant move keeps this identity, so the weighted first moments of
      PaRIS are those of the exact kernel.

    Args:
        model (StateSpaceModel): the model (provides :math:`q_t` and its bound).
        t (int): time index of ``particles`` (``>= 1``).
        prev_particles (Tensor): :math:`\xi_{t-1}`, ``[N_prev, d]``.
        prev_log_weights (Tensor): :math:`\log\omega_{t-1}`, ``[N_prev]`` (normalised or not).
        particles (Tensor): :math:`\xi_t`, ``[N, d]``.
        num_backward (int): :math:`K`. (default: :obj:`2`)
        method (str): ``"rejection"``, ``"sampling"`` or ``"mh"``. (default: :obj:`"rejection"`)
        ancestors (Tensor, optional): :math:`A_t`, ``[N]`` long; required by ``"mh"``.
            (default: :obj:`None`)
        mh_steps (int): Metropolis-Hastings steps per chain for ``"mh"``. (default: :obj:`1`)
        max_trials (int, optional): accept-reject proposals per draw before the exact
            fallback; ``0`` means all exact; :obj:`None` means ``max(16, N_prev // 8)``: like
            Dau & Chopin's (2023) cap of ``N`` it bounds the expected cost of a draw by O(N),
            scaled by the measured cost ratio of one vectorised proposal to one row of the
            exact kernel (about 8 on CPU). (default: :obj:`None`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)

    Raises:
        ValueError: for an unknown ``method``, a missing ``ancestors`` with ``"mh"``, or (for
            ``"rejection"``) a proposal's log-density above the model's bound at time ``t``.
    """
    if method not in _DRAW_METHODS:
        raise ValueError(
            f"backward_sample: unknown method {method!r}; valid names: {', '.join(_DRAW_METHODS)}"
        )
    with torch.no_grad():
        if method == "mh":
            if ancestors is None:
                raise ValueError("backward_sample: method='mh' needs the ancestors A_t")
            if mh_steps < 1:
                raise ValueError(f"backward_sample: mh_steps must be >= 1, got {mh_steps}")
            if ancestors.shape != (particles.shape[0],):
                raise ValueError(
                    f"backward_sample: ancestors must have shape [{particles.shape[0]}], got "
                    f"{tuple(ancestors.shape)}"
                )
            idx, acc = _mh_draws(
                model, t, prev_particles, prev_log_weights, particles, num_backward,
                ancestors, mh_steps, generator,
            )  # fmt: skip
            props = torch.tensor(particles.shape[0] * num_backward * mh_steps)
            return BackwardDraws(idx, props, torch.zeros((), dtype=torch.long), acc)
        return _backward_sample(
            model, t, prev_particles, prev_log_weights, particles, num_backward, max_trials,
            method == "sampling", generator,
        )  # fmt: skip


def _backward_sample(
    model, t, prev_particles, prev_log_weights, particles, num_backward, max_trials, exact,
    generator,
) -> BackwardDraws:  # fmt: skip
    n, k = particles.shape[0], num_backward
    n_prev = prev_particles.shape[0]
    if max_trials is None:
        max_trials = max(16, n_prev // 8)
    total = n * k
    device = particles.device
    idx = torch.empty(total, dtype=torch.long, device=device)
    pending = torch.arange(total, device=device)
    proposals = 0
    if not exact and max_trials > 0:
        w = torch.exp(prev_log_weights - prev_log_weights.max())
        cdf = torch.cumsum(w, 0)
        bound = model.transition_log_bound(t)
        tol = 1e-6 * (1.0 + float(bound.abs()))
        dtype = cdf.dtype
        used, batch = 0, 2
        while used < max_trials:
            m = pending.numel()
            if m * n_prev <= _SWITCH_ELEMENTS and used > 0:
                break  # few draws left: one exact O(m N) pass is cheaper than more rounds
            b = min(batch, max_trials - used)
            used, batch = used + b, 2 * batch
            proposals += m * b
            cand = _categorical(cdf, m * b, generator).view(m, b)
            target = particles[pending // k].unsqueeze(1)
            excess = model.transition_log_density(t, prev_particles[cand], target) - bound
            if float(excess.max()) > tol:
                raise ValueError(
                    f"backward_sample: transition log-density exceeds the model's "
                    f"transition_log_bound {float(bound):.6g} by {float(excess.max()):.3g} at "
                    f"time step t={t}"
                )
            e = torch.rand(m, b, generator=generator, dtype=dtype, device=device)
            accept = torch.log(e) < excess
            # the first accepted of b i.i.d. proposals = sequential accept-reject, b steps
            first = torch.argmax(accept.to(torch.uint8), 1)
            hit = accept.any(1)
            idx[pending[hit]] = cand[hit, first[hit]]
            pending = pending[~hit]
    num_fallback = pending.numel()
    if num_fallback:
        idx[pending] = _exact_draws(
            model, t, prev_particles, prev_log_weights, particles[pending // k], generator
        )
    return BackwardDraws(
        idx.view(n, k), torch.tensor(proposals), torch.tensor(num_fallback), torch.tensor(0)
    )


def paris_update(
    model: StateSpaceModel,
    t: int,
    functional: AdditiveFunctional,
    prev_particles: Tensor,
    prev_log_weights: Tensor,
    prev_stats: Tensor,
    particles: Tensor,
    num_backward: int = 2,
    *,
    backward: str = "mh",
    ancestors: Tensor | None = None,
    mh_steps: int = DEFAULT_MH_STEPS,
    max_trials: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, BackwardDraws | None]:
    r"""One PaRIS update :math:`\tau_{t-1} \mapsto \tau_t` for a given particle system.

    ``backward`` is ``"mh"``, ``"rejection"``, ``"sampling"`` (see :func:`backward_sample`;
    ``"mh"`` needs ``ancestors``) or ``"exact"``. Returns the new statistics ``[N, F]`` and
    the backward draws (``None`` when ``backward="exact"``, which marginalises the draws at
    O(N^2) cost).
    """
    if backward not in BACKWARD_METHODS:
        raise ValueError(
            f"unknown backward method {backward!r}; valid names: {', '.join(BACKWARD_METHODS)}"
        )
    n, d = particles.shape
    if backward == "exact":
        n_prev = prev_particles.shape[0]
        rows = max(1, _CHUNK_ELEMENTS // max(n_prev, 1))
        out = []
        for start in range(0, n, rows):
            xs = particles[start : start + rows]
            lam = torch.exp(backward_kernel_log(model, t, prev_particles, prev_log_weights, xs))
            r = xs.shape[0]
            xp = prev_particles.unsqueeze(0).expand(r, n_prev, d).reshape(-1, d)
            xx = xs.unsqueeze(1).expand(r, n_prev, d).reshape(-1, d)
            h = functional(t, xp, xx).reshape(r, n_prev, -1)
            out.append(torch.einsum("rj,rjf->rf", lam, prev_stats.unsqueeze(0) + h))
        return torch.cat(out, 0), None
    draws = backward_sample(
        model,
        t,
        prev_particles,
        prev_log_weights,
        particles,
        num_backward,
        method=backward,
        ancestors=ancestors,
        mh_steps=mh_steps,
        max_trials=max_trials,
        generator=generator,
    )
    j = draws.indices.reshape(-1)
    x = particles.repeat_interleave(num_backward, 0)
    h = functional(t, prev_particles[j], x)
    stats = (prev_stats[j] + h).reshape(n, num_backward, -1).mean(1)
    return stats, draws


@dataclass
class ParisHistory:
    """Stored particle system of a PaRIS run (for drawing trajectories, e.g. in PPG).

    Attributes:
        particles (Tensor): ``[T, N, d]``.
        backward_indices (Tensor): ``[T - 1, N, K]``; row ``t - 1`` holds :math:`J_t`.
    """

    particles: Tensor
    backward_indices: Tensor

    def draw_trajectory(self, final_log_weights: Tensor, generator=None) -> Tensor:
        r"""Draw a path: :math:`I_{T-1} \sim \mathrm{Cat}(\omega_{T-1})`, then
        :math:`I_{t-1} = J_t^{I_t, k}` with :math:`k` uniform in :math:`1..K`.

        Conditional on the forward particle system this is exact backward sampling (each
        :math:`J_t^{i,k}` is a draw from :math:`\Lambda_t(i, \cdot)`, independent of how
        :math:`I_t` was chosen). Returns ``[T, d]``.
        """
        num_steps, n, k = (
            self.particles.shape[0],
            self.particles.shape[1],
            self.backward_indices.shape[-1],
        )
        dev = self.particles.device
        w = torch.exp(final_log_weights - final_log_weights.max())
        cdf = torch.cumsum(w, 0)
        u = torch.rand(1, generator=generator, dtype=cdf.dtype, device=dev)
        i_last = torch.searchsorted(cdf, u * cdf[-1], right=True).clamp_(max=n - 1)
        ks = torch.randint(k, (max(num_steps - 1, 0),), generator=generator, device=dev)
        path_idx = torch.empty(num_steps, dtype=torch.long, device=dev)
        path_idx[-1] = i_last[0]
        # sequential in time by nature (one index per step), T scalar gathers
        for t in range(num_steps - 1, 0, -1):
            path_idx[t - 1] = self.backward_indices[t - 1, path_idx[t], ks[t - 1]]
        return self.particles[torch.arange(num_steps, device=dev), path_idx]


@dataclass
class ParisResult:
    """Output of :func:`paris`.

    Attributes:
        estimate (Tensor): ``[F]`` smoothed expectation of the additive functional.
        statistics (Tensor): final :math:`\\tau_{T-1}`, ``[N, F]``.
        log_weights (Tensor): final normalised log-weights, ``[N]``.
        particles (Tensor): final particles, ``[N, d]``.
        log_likelihood (Tensor): particle estimate of :math:`\\log p(y_{0:T-1})`.
        num_proposals (Tensor): backward proposals per step, ``[T - 1]`` long.
        num_fallback (Tensor): exact fallback draws per step, ``[T - 1]`` long.
        num_accepted (Tensor): accepted Metropolis-Hastings moves per step, ``[T - 1]`` long.
        history (ParisHistory or None): stored system when ``keep_history=True``.
        online_estimates (Tensor or None): ``[T, F]``, row ``t`` the online estimate
            :math:`\\sum_i \\omega_t^i \\tau_t^i` of
            :math:`\\mathbb E[h_{0:t}(X_{0:t}) \\mid y_{0:t}]` (``keep_online=True``).
    """

    estimate: Tensor
    statistics: Tensor
    log_weights: Tensor
    particles: Tensor
    log_likelihood: Tensor
    num_proposals: Tensor
    num_fallback: Tensor
    num_accepted: Tensor
    history: ParisHistory | None = None
    online_estimates: Tensor | None = None


def paris(
    model: StateSpaceModel,
    observations: Tensor,
    functional: AdditiveFunctional,
    num_particles: int,
    *,
    num_backward: int = 2,
    backward: str = "mh",
    mh_steps: int = DEFAULT_MH_STEPS,
    max_trials: int | None = None,
    resampling: str = "systematic",
    ess_threshold: float = 0.5,
    reference: Tensor | None = None,
    keep_history: bool = False,
    keep_online: bool = False,
    generator: torch.Generator | None = None,
    verbose: bool = False,
) -> ParisResult:
    r"""Run a bootstrap particle filter with PaRIS and return the smoothed functional estimate.

    Args:
        model (StateSpaceModel): the model.
        observations (Tensor): ``[T, d_y]``.
        functional (callable): ``h(t, x_prev, x) -> [M, F]`` (``x_prev=None`` at ``t=0``),
            see :mod:`graphsmooth.smc.functionals`.
        num_particles (int): :math:`N`.
        num_backward (int): :math:`K \geq 1` backward draws per particle (``>= 2``
            recommended). (default: :obj:`2`)
        backward (str): ``"mh"`` (independent Metropolis-Hastings chains started at the
            ancestors, O(N)), ``"rejection"`` (hybrid accept-reject, exact draws, O(N) in
            expectation), ``"sampling"`` (exact O(N^2) draws) or ``"exact"`` (O(N^2)
            marginalised, no draws); see :func:`backward_sample`. (default: :obj:`"mh"`)
        mh_steps (int): Metropolis-Hastings steps per backward draw with ``"mh"``.
            (default: :obj:`1`)
        max_trials (int, optional): accept-reject proposals per draw before the exact
            fallback (:obj:`None`: ``max(16, N // 8)``, see :func:`backward_sample`).
            (default: :obj:`None`)
        resampling (str): resampling scheme name. (default: :obj:`"systematic"`)
        ess_threshold (float): ESS fraction triggering resampling. (default: :obj:`0.5`)
        reference (Tensor, optional): ``[T, d]`` frozen trajectory (conditional SMC, as in
            :func:`graphsmooth.smc.ppg`). (default: :obj:`None`)
        keep_history (bool): store particles and backward indices of every step.
            (default: :obj:`False`)
        keep_online (bool): also return the online estimate at every time step (PaRIS is an
            online smoother: row ``t`` estimates :math:`\mathbb E[h_{0:t} \mid y_{0:t}]`).
            (default: :obj:`False`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
        verbose (bool): show a progress bar. (default: :obj:`False`)
    """
    if num_backward < 1:
        raise ValueError(f"paris: num_backward must be >= 1, got {num_backward}")
    if max_trials is not None and max_trials < 0:
        raise ValueError(f"paris: max_trials must be >= 0, got {max_trials}")
    if backward not in BACKWARD_METHODS:
        raise ValueError(
            f"unknown backward method {backward!r}; valid names: {', '.join(BACKWARD_METHODS)}"
        )
    if mh_steps < 1:
        raise ValueError(f"paris: mh_steps must be >= 1, got {mh_steps}")
    if keep_history and backward == "exact":
        raise ValueError("paris: keep_history needs backward draws; use backward='mh'")
    pf = ParticleFilter(
        model,
        observations,
        num_particles,
        resampling=resampling,
        ess_threshold=ess_threshold,
        generator=generator,
        reference=reference,
    )
    stats = prev = None
    props, falls, accs, parts, idxs, online = [], [], [], [], [], []
    # no torch.no_grad() here: the filter and the backward draws never track gradients, but
    # the functional may (the PaRIS estimate is linear in h, so its gradient is the PaRIS
    # estimate of the gradient of h: this is how graphsmooth.smc.learning gets the score).
    for state in tqdm(pf, total=pf.num_steps, disable=not verbose, desc="PaRIS"):
        if prev is None:
            stats = functional(0, None, state.particles)
            if stats.dim() != 2 or stats.shape[0] != num_particles:
                raise ValueError(
                    f"paris: functional must return [N, F], got {tuple(stats.shape)} at t=0"
                )
        else:
            stats, draws = paris_update(
                model,
                state.t,
                functional,
                prev.particles,
                prev.log_weights,
                stats,
                state.particles,
                num_backward,
                backward=backward,
                ancestors=state.ancestors,
                mh_steps=mh_steps,
                max_trials=max_trials,
                generator=generator,
            )
            if draws is not None:
                props.append(draws.num_proposals)
                falls.append(draws.num_fallback)
                accs.append(draws.num_accepted)
                if keep_history:
                    idxs.append(draws.indices)
        if keep_history:
            parts.append(state.particles)
        if keep_online:
            online.append((torch.exp(state.log_weights).unsqueeze(1) * stats).sum(0))
        prev = state
    assert prev is not None and stats is not None
    estimate = (torch.exp(prev.log_weights).unsqueeze(1) * stats).sum(0)
    history = None
    if keep_history:
        d = prev.particles.shape[1]
        bidx = (
            torch.stack(idxs)
            if idxs
            else torch.empty(0, num_particles, num_backward, dtype=torch.long)
        )
        history = ParisHistory(torch.stack(parts) if parts else torch.empty(0, 0, d), bidx)
    return ParisResult(
        estimate,
        stats,
        prev.log_weights,
        prev.particles,
        prev.log_likelihood,
        torch.stack(props) if props else torch.zeros(0, dtype=torch.long),
        torch.stack(falls) if falls else torch.zeros(0, dtype=torch.long),
        torch.stack(accs) if accs else torch.zeros(0, dtype=torch.long),
        history,
        torch.stack(online) if keep_online else None,
    )
