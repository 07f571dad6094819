r"""Parameter learning with PaRIS / PPG score estimates.

Both learners maximise the log-likelihood :math:`\ell(\theta) = \log p_\theta(y_{0:T-1})` by
stochastic gradient ascent on an unconstrained parameter vector :math:`\theta`, with the score

.. math::
    \nabla_\theta \ell(\theta) = \mathbb E_\theta\big[h^\theta_{0:T-1}(X_{0:T-1}) \mid y\big],
    \qquad h^\theta_t(x_{t-1}, x_t) = \nabla_\theta \log q_{t,\theta}(x_{t-1}, x_t)
        + \nabla_\theta \log g_{t,\theta}(x_t, y_t)

(Fisher's identity) estimated by :func:`fisher_score`: the gradient of the PaRIS (or PPG)
estimate of the additive functional
:func:`~graphsmooth.smc.functionals.log_joint_functional` (one reverse-mode pass), used by:

- :func:`score_ascent`: a fresh PaRIS run at every iteration (biased, :math:`O(1/N)`), or
  ``estimator="ppg"``: a few PPG sweeps with burn-in at every iteration.
- :func:`observed_information`: the outer product of the increments of PaRIS' *online* score
  estimates, :math:`\hat I = \sum_t \hat s_t \hat s_t^\top`,
  :math:`\hat s_t \approx \nabla_\theta \log p_\theta(y_t \mid y_{0:t-1})`, and the standard
  errors :math:`\sqrt{\mathrm{diag}\, \hat I^{-1}}` of an MLE (the OPG estimator; a reference
  where no exact MLE exists, e.g. stochastic volatility).
- :func:`markov_score_climbing`: one PPG sweep per iteration whose conditional reference is
  carried over from the previous iteration (and previous :math:`\theta`), as in Markov score
  climbing (Naesseth, Lindsten and Blei, NeurIPS 2020) and the PPG learning scheme of
  Cardoso et al. (ICML 2023): the gradient noise is a Markov chain whose stationary mean is
  the exact score, so the stochastic approximation has no :math:`O(1/N)` bias.

The optimiser is :class:`torch.optim.Adam` (or SGD) on the scaled score :math:`\hat s / T`,
with step size :math:`\gamma_k = \gamma_0 (1 + k)^{-\alpha}`; the returned estimate is the
Polyak-Ruppert average of the iterates over the last ``average_fraction`` of iterations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.autograd.forward_ad as fwad
from torch import Tensor
from tqdm.auto import tqdm

from .functionals import flatten_params, log_joint_functional, unflatten_params
from .models import StateSpaceModel
from .paris import paris
from .ppg import ppg_sweep

__all__ = [
    "ScoreEstimate",
    "fisher_score",
    "LearningResult",
    "score_ascent",
    "markov_score_climbing",
    "ObservedInformation",
    "observed_information",
]

_ESTIMATORS = ("paris", "ppg")
_OPTIMIZERS = ("adam", "sgd")


@dataclass
class LearningResult:
    """Output of :func:`score_ascent` / :func:`markov_score_climbing`.

    Attributes:
        params (dict[str, Tensor]): Polyak-averaged unconstrained parameters.
        trajectory (Tensor): ``[num_iterations + 1, P]`` iterates (flattened, see
            :func:`~graphsmooth.smc.functionals.flatten_params`).
        scores (Tensor): ``[num_iterations, P]`` score estimates used.
        log_likelihoods (Tensor): ``[num_iterations]`` particle log-likelihood estimates.
        names (list[str]): parameter names, in flattening order.
    """

    params: dict[str, Tensor]
    trajectory: Tensor
    scores: Tensor
    log_likelihoods: Tensor
    names: list[str]


@dataclass
class ScoreEstimate:
    r"""Output of :func:`fisher_score`.

    Attributes:
        score (Tensor): ``[P]`` score estimate (flattened in the order of ``params``).
        log_likelihood (Tensor): the particle filter's :math:`\log p_\theta(y)` estimate.
        reference (Tensor or None): next reference trajectory (``method="ppg"``).
    """

    score: Tensor
    log_likelihood: Tensor
    reference: Tensor | None = None


def fisher_score(
    model_fn: Callable[[Mapping[str, Tensor]], StateSpaceModel],
    params: Mapping[str, Tensor],
    observations: Tensor,
    num_particles: int,
    *,
    method: str = "paris",
    reference: Tensor | None = None,
    num_backward: int = 2,
    max_trials: int | None = None,
    generator: torch.Generator | None = None,
) -> ScoreEstimate:
    r"""Estimate the score :math:`\nabla_\theta \log p_\theta(y_{0:T-1})` by Fisher's identity.

    The particle system is simulated from ``model_fn`` at detached parameters; the additive
    functional :func:`~graphsmooth.smc.functionals.log_joint_functional` is evaluated with a
    second model built from parameters that require gradients, and the PaRIS estimate is
    differentiated once.

    Args:
        model_fn (callable): ``params -> StateSpaceModel``, differentiable in the parameters.
        params (dict): parameter values (unconstrained, as ``model_fn`` expects).
        observations (Tensor): ``[T, d_y]``.
        num_particles (int): :math:`N`.
        method (str): ``"paris"`` (bootstrap filter) or ``"ppg"`` (one conditional PaRIS sweep
            with ``reference``; a first reference is drawn by a PaRIS run when
            :obj:`None`). (default: :obj:`"paris"`)
        reference (Tensor, optional): ``[T, d]`` reference for ``"ppg"``. (default: :obj:`None`)
        num_backward (int): :math:`K`. (default: :obj:`2`)
        max_trials (int, optional): accept-reject proposals per backward draw before the exact
            fallback (:obj:`None`: :math:`N`). (default: :obj:`None`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
    """
    if method not in _ESTIMATORS:
        raise ValueError(f"unknown estimator {method!r}; valid names: {', '.join(_ESTIMATORS)}")
    fixed = {k: torch.as_tensor(v).detach() for k, v in params.items()}
    leaves = {k: v.clone().requires_grad_(True) for k, v in fixed.items()}
    with torch.no_grad():
        sim_model = model_fn(fixed)
    h = log_joint_functional(model_fn(leaves), observations)
    kw = dict(num_backward=num_backward, max_trials=max_trials, generator=generator)
    if method == "paris":
        res = paris(sim_model, observations, h, num_particles, **kw)
        est, ll, ref = res.estimate, res.log_likelihood, None
    else:
        if reference is None:
            with torch.no_grad():
                _, reference, _ = ppg_sweep(sim_model, observations, h, num_particles, None, **kw)
        est, ref, ll = ppg_sweep(sim_model, observations, h, num_particles, reference, **kw)
    grads = torch.autograd.grad(est.sum(), list(leaves.values()), allow_unused=True)
    score = torch.cat(
        [
            (torch.zeros_like(v) if g is None else g).reshape(-1)
            for g, v in zip(grads, leaves.values(), strict=True)
        ]
    )
    return ScoreEstimate(score.detach(), ll.detach(), ref)


def _check(estimator, optimizer, num_iterations, average_fraction):
    if estimator not in _ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; valid names: {', '.join(_ESTIMATORS)}")
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid names: {', '.join(_OPTIMIZERS)}")
    if num_iterations < 1:
        raise ValueError(f"num_iterations must be >= 1, got {num_iterations}")
    if not 0.0 < average_fraction <= 1.0:
        raise ValueError(f"average_fraction must be in (0, 1], got {average_fraction}")


def _learn(
    model_fn,
    init_params,
    observations,
    num_particles,
    num_iterations,
    score_fn,
    lr,
    lr_decay,
    optimizer,
    average_fraction,
    verbose,
    desc,
) -> LearningResult:
    like = {k: torch.as_tensor(v, dtype=torch.float64).detach() for k, v in init_params.items()}
    theta = flatten_params(like).clone().requires_grad_(True)
    opt_cls = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = opt_cls([theta], lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: (1.0 + k) ** (-lr_decay))
    num_steps = observations.shape[0]
    traj, scores, lls = [theta.detach().clone()], [], []
    for _ in tqdm(range(num_iterations), disable=not verbose, desc=desc):
        params = unflatten_params(theta.detach(), like)
        score, ll = score_fn(params)
        opt.zero_grad()
        theta.grad = -score.to(theta.dtype) / num_steps
        opt.step()
        sched.step()
        traj.append(theta.detach().clone())
        scores.append(score.detach())
        lls.append(ll.detach())
    trajectory = torch.stack(traj)
    start = max(1, int(round((1.0 - average_fraction) * num_iterations)))
    avg = trajectory[start:].mean(0)
    return LearningResult(
        unflatten_params(avg, like), trajectory, torch.stack(scores), torch.stack(lls), list(like)
    )


def score_ascent(
    model_fn: Callable[[Mapping[str, Tensor]], StateSpaceModel],
    init_params: Mapping[str, Tensor],
    observations: Tensor,
    num_particles: int,
    num_iterations: int,
    *,
    estimator: str = "paris",
    ppg_sweeps: int = 3,
    ppg_burn_in: int = 1,
    num_backward: int = 2,
    lr: float = 0.05,
    lr_decay: float = 0.6,
    optimizer: str = "adam",
    average_fraction: float = 0.5,
    generator: torch.Generator | None = None,
    verbose: bool = False,
) -> LearningResult:
    r"""Maximum likelihood by stochastic gradient ascent on PaRIS (or PPG) score estimates.

    Args:
        model_fn (callable): ``params -> StateSpaceModel`` differentiable in the parameters.
        init_params (dict): initial unconstrained parameters.
        observations (Tensor): ``[T, d_y]``.
        num_particles (int): :math:`N` per PaRIS run.
        num_iterations (int): gradient steps.
        estimator (str): ``"paris"`` (one fresh PaRIS run per step) or ``"ppg"`` (per step,
            ``ppg_sweeps`` PPG sweeps from a reference drawn by a fresh PaRIS run, the first
            ``ppg_burn_in`` discarded). (default: :obj:`"paris"`)
        ppg_sweeps (int): sweeps per step for ``"ppg"``. (default: :obj:`3`)
        ppg_burn_in (int): discarded sweeps for ``"ppg"``. (default: :obj:`1`)
        num_backward (int): :math:`K`. (default: :obj:`2`)
        lr (float): initial step size :math:`\gamma_0`. (default: :obj:`0.05`)
        lr_decay (float): :math:`\alpha` in :math:`\gamma_k = \gamma_0 (1+k)^{-\alpha}`.
            (default: :obj:`0.6`)
        optimizer (str): ``"adam"`` or ``"sgd"``. (default: :obj:`"adam"`)
        average_fraction (float): fraction of final iterates averaged. (default: :obj:`0.5`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
        verbose (bool): progress bar. (default: :obj:`False`)
    """
    _check(estimator, optimizer, num_iterations, average_fraction)
    if estimator == "ppg" and not 0 <= ppg_burn_in < ppg_sweeps:
        raise ValueError(f"ppg_burn_in must be in [0, ppg_sweeps), got {ppg_burn_in}")

    kw = dict(num_backward=num_backward, generator=generator)

    def score_fn(params):
        if estimator == "paris":
            res = fisher_score(model_fn, params, observations, num_particles, **kw)
            return res.score, res.log_likelihood
        ref, scores = None, []
        for s in range(ppg_sweeps):
            res = fisher_score(
                model_fn, params, observations, num_particles, method="ppg", reference=ref,
                **kw,
            )  # fmt: skip
            ref = res.reference
            if s >= ppg_burn_in:
                scores.append(res.score)
        return torch.stack(scores).mean(0), res.log_likelihood

    return _learn(
        model_fn, init_params, observations, num_particles, num_iterations, score_fn, lr,
        lr_decay, optimizer, average_fraction, verbose, f"score ascent ({estimator})",
    )  # fmt: skip


def markov_score_climbing(
    model_fn: Callable[[Mapping[str, Tensor]], StateSpaceModel],
    init_params: Mapping[str, Tensor],
    observations: Tensor,
    num_particles: int,
    num_iterations: int,
    *,
    num_backward: int = 2,
    lr: float = 0.05,
    lr_decay: float = 0.6,
    optimizer: str = "adam",
    average_fraction: float = 0.5,
    reference: Tensor | None = None,
    generator: torch.Generator | None = None,
    verbose: bool = False,
) -> LearningResult:
    r"""Markov score climbing with PPG: one conditional PaRIS sweep per gradient step.

    The reference trajectory is carried from one step to the next (it is the Markov state of
    the gradient noise); the score estimate is the sweep's Rao-Blackwellised PaRIS estimate.
    Arguments as in :func:`score_ascent`; ``reference`` (``[T, d]``) seeds the chain (default:
    drawn from one unconditional PaRIS run at the initial parameters).
    """
    _check("ppg", optimizer, num_iterations, average_fraction)
    state = {"ref": reference}

    def score_fn(params):
        res = fisher_score(
            model_fn, params, observations, num_particles, method="ppg",
            reference=state["ref"], num_backward=num_backward, generator=generator,
        )  # fmt: skip
        state["ref"] = res.reference
        return res.score, res.log_likelihood

    return _learn(
        model_fn, init_params, observations, num_particles, num_iterations, score_fn, lr,
        lr_decay, optimizer, average_fraction, verbose, "Markov score climbing",
    )  # fmt: skip


@dataclass
class ObservedInformation:
    r"""Output of :func:`observed_information`.

    Attributes:
        online_scores (Tensor): ``[T, P]``, row ``t`` the PaRIS estimate of
            :math:`\nabla_\theta \log p_\theta(y_{0:t})`.
        increments (Tensor): ``[T, P]`` score increments :math:`\hat s_t`.
        information (Tensor): ``[P, P]`` :math:`\hat I = \sum_t \hat s_t \hat s_t^\top`.
        standard_errors (Tensor): ``[P]`` :math:`\sqrt{\mathrm{diag}\,\hat I^{-1}}`.
        names (list[str]): parameter names (flattening order).
    """

    online_scores: Tensor
    increments: Tensor
    information: Tensor
    standard_errors: Tensor
    names: list[str]


def observed_information(
    model_fn: Callable[[Mapping[str, Tensor]], StateSpaceModel],
    params: Mapping[str, Tensor],
    observations: Tensor,
    num_particles: int,
    *,
    num_backward: int = 2,
    backward: str = "mh",
    generator: torch.Generator | None = None,
) -> ObservedInformation:
    r"""Outer-product-of-gradients information and standard errors from PaRIS' online score.

    PaRIS is an online smoother: along one filter pass it gives
    :math:`\hat S_t \approx \nabla_\theta \log p_\theta(y_{0:t})` for every :math:`t`
    (Fisher's identity on :math:`y_{0:t}`; Olsson and Westerborn 2017, Sec. 4). The increments
    :math:`\hat s_t = \hat S_t - \hat S_{t-1}` estimate the predictive scores
    :math:`\nabla_\theta \log p_\theta(y_t \mid y_{0:t-1})`, and at an MLE

    .. math::
        \hat I = \sum_{t} \hat s_t \hat s_t^\top, \qquad
        \mathrm{se}(\hat\theta_j) = \sqrt{(\hat I^{-1})_{jj}}

    (the OPG estimator, as ``statsmodels``' ``cov_type="opg"``). The per-particle gradients of
    the log-joint increments are taken by forward-mode automatic differentiation, one tangent
    per parameter, inside the functional (``P`` cheap evaluations per step, one PaRIS pass).

    Args:
        model_fn (callable): ``params -> StateSpaceModel``, differentiable in the parameters.
        params (dict): the (unconstrained) parameter values, e.g. an MLE.
        observations (Tensor): ``[T, d_y]``.
        num_particles (int): :math:`N`.
        num_backward (int): :math:`K`. (default: :obj:`2`)
        backward (str): PaRIS backward kernel. (default: :obj:`"mh"`)
        generator (torch.Generator, optional): random source. (default: :obj:`None`)
    """
    fixed = {k: torch.as_tensor(v, dtype=torch.float64).detach() for k, v in params.items()}
    flat = flatten_params(fixed)
    num_params = flat.numel()
    with torch.no_grad():
        sim_model = model_fn(fixed)

    def h(t: int, x_prev: Tensor | None, x: Tensor) -> Tensor:
        cols = []
        for j in range(num_params):  # P parameters (a handful), not particles
            with fwad.dual_level():
                tangent = torch.zeros_like(flat)
                tangent[j] = 1.0
                duals = unflatten_params(fwad.make_dual(flat, tangent), fixed)
                out = log_joint_functional(model_fn(duals), observations)(t, x_prev, x)
                grad = fwad.unpack_dual(out).tangent
            cols.append(torch.zeros_like(out) if grad is None else grad)
        return torch.cat(cols, -1)

    with torch.no_grad():
        res = paris(
            sim_model, observations, h, num_particles, num_backward=num_backward,
            backward=backward, keep_online=True, generator=generator,
        )  # fmt: skip
    scores = res.online_estimates
    assert scores is not None
    inc = torch.diff(scores, dim=0, prepend=torch.zeros_like(scores[:1]))
    info = inc.T @ inc
    se = torch.sqrt(torch.diagonal(torch.linalg.inv(info)))
    return ObservedInformation(scores, inc, info, se, list(fixed))
