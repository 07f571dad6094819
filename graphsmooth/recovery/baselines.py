r"""Classical time-varying graph signal recovery: GraphTRSS, Tikhonov, interpolation.

All methods take the sampled matrix :math:`\mathbf{Y}` (zeros off the mask), the 0/1 mask
:math:`\mathbf{J}`, and return a :class:`RecoveryResult`.

**GraphTRSS** (Giraldo, Mahmood, Garcia-Garcia, Thanou, Bouwmans, "Reconstruction of
Time-varying Graph Signals via Sobolev Smoothness", IEEE TSIPN 2022):

.. math::
    \min_{\mathbf{X}} \tfrac12\|\mathbf{J}\circ\mathbf{X} - \mathbf{Y}\|_F^2 +
    \tfrac{\alpha}{2}\operatorname{tr}\!\big((\mathbf{X}\mathbf{D}_h)^\top
    (\mathbf{L}+\epsilon\mathbf{I})^\beta\mathbf{X}\mathbf{D}_h\big),

whose optimum solves the normal equations
:math:`\mathbf{J}\circ\mathbf{X} + \alpha\,\mathbf{S}\mathbf{X}\mathbf{D}_h\mathbf{D}_h^\top = \mathbf{Y}`
with :math:`\mathbf{S} = (\mathbf{L}+\epsilon\mathbf{I})^\beta`.

**Tikhonov** (graph and temporal Tikhonov, Qiu et al. 2017's batch solver as GraphTRSS ran it
with ``alpha = 0``):

.. math::
    \min_{\mathbf{X}} \tfrac12\|\mathbf{J}\circ\mathbf{X} - \mathbf{Y}\|_F^2 +
    \tfrac{\beta_g}{2}\operatorname{tr}(\mathbf{X}^\top\mathbf{L}\mathbf{X}) +
    \tfrac{\gamma}{2}\|\mathbf{X}\mathbf{D}_h\|_F^2,

normal equations :math:`\mathbf{J}\circ\mathbf{X} + \beta_g\mathbf{L}\mathbf{X} +
\gamma\mathbf{X}\mathbf{D}_h\mathbf{D}_h^\top = \mathbf{Y}`.

Both are solved by conjugate gradient on the whole matrix at once (the operator is symmetric
positive definite when :math:`\epsilon > 0` and every node is sampled at least once, or the
graph is connected); each iteration costs :math:`\beta` sparse mat-vecs with :math:`[N, T]`
blocks, and a Jacobi (diagonal) preconditioner cuts the iteration count (it changes the path,
not the solution). GraphTRSS's MATLAB code runs plain CG (Fletcher-Reeves with exact line search,
which on a quadratic is CG) from :math:`\mathbf{X}_0 = 0`.

**Interpolation** — GraphTRSS's NNI baseline interpolates the samples in the 3-D space
(position, time index) with MATLAB's natural-neighbour ``scatteredInterpolant``. SciPy has no
natural-neighbour interpolant; ``method="linear"`` (Delaunay barycentric, the closest SciPy
relative; nearest-sample fallback outside the convex hull) and ``method="nearest"`` are offered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from graphsmooth.nn.losses import (
    SobolevOperator,
    sobolev_operator,
    temporal_difference,
    temporal_difference_adjoint,
)

__all__ = [
    "CGResult",
    "RecoveryResult",
    "conjugate_gradient",
    "graphtrss",
    "graphtrss_operator",
    "interpolate",
    "tikhonov",
    "tikhonov_operator",
]


@dataclass
class RecoveryResult:
    """A recovered signal and what the method reports about the run.

    Attributes:
        x_hat (Tensor): ``[N, T]`` recovered signal.
        method (str): method name.
        info (dict): method-specific details (iterations, convergence, best epoch, history...).
    """

    x_hat: Tensor
    method: str
    info: dict = field(default_factory=dict)


@dataclass
class CGResult:
    """Conjugate gradient output."""

    x: Tensor
    iterations: int
    residual: float
    converged: bool


def conjugate_gradient(
    apply_a: Callable[[Tensor], Tensor],
    b: Tensor,
    x0: Tensor | None = None,
    *,
    tol: float = 1e-8,
    max_iter: int = 20000,
    precond: Tensor | None = None,
) -> CGResult:
    r"""(Preconditioned) conjugate gradient for :math:`\mathcal{A}(\mathbf{X}) = \mathbf{B}` with a symmetric
    positive definite linear operator acting on whole matrices (Frobenius inner product).

    Stops when :math:`\|\mathbf{R}\|_F \le \mathrm{tol}\,\|\mathbf{B}\|_F`.

    Args:
        apply_a (callable): ``X -> A(X)``, same shape as ``b``.
        b (Tensor): right-hand side.
        x0 (Tensor, optional): start. (default: zeros)
        tol (float, optional): relative residual tolerance. (default: ``1e-8``)
        max_iter (int, optional): iteration cap. (default: ``20000``)
        precond (Tensor, optional): positive diagonal :math:`\mathbf{M}` (same shape as ``b``)
            of a Jacobi preconditioner; the iteration uses :math:`\mathbf{M}^{-1}\mathbf{R}`.
            Changes the path, not the solution. (default: ``None``)

    Returns:
        :class:`CGResult`.
    """
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b - apply_a(x) if x0 is not None else b.clone()
    inv = None if precond is None else 1.0 / precond
    z = r if inv is None else inv * r
    p = z.clone()
    rz = float((r * z).sum())
    res = float(r.norm())
    target = tol * max(float(b.norm()), 1e-300)
    it = 0
    while it < max_iter and res > target:
        ap = apply_a(p)
        denom = float((p * ap).sum())
        if denom <= 0:
            raise ValueError(
                "conjugate_gradient: operator is not positive definite (p^T A p <= 0); "
                "use eps > 0 or make sure every node is sampled at some time"
            )
        step = rz / denom
        x.add_(p, alpha=step)
        r.sub_(ap, alpha=step)
        z = r if inv is None else inv * r
        rz_new = float((r * z).sum())
        p.mul_(rz_new / rz).add_(z)
        rz = rz_new
        res = float(r.norm())
        it += 1
    return CGResult(x, it, res / max(float(b.norm()), 1e-300), res <= target)


def _check_inputs(y: Tensor, mask: Tensor, name: str) -> None:
    if y.dim() != 2:
        raise ValueError(f"{name}: y must be [N, T], got shape {tuple(y.shape)}")
    if mask.shape != y.shape:
        raise ValueError(
            f"{name}: mask shape {tuple(mask.shape)} differs from y shape {tuple(y.shape)}"
        )
    if y.size(1) < 2:
        raise ValueError(f"{name}: need at least 2 time steps, got {y.size(1)}")


def _dd_t_diagonal(num_steps: int, order: int) -> Tensor:
    r"""Diagonal of :math:`\mathbf{D}_h\mathbf{D}_h^\top` (``[T]``): squared binomial
    coefficients summed over the difference columns covering each step."""
    coef = torch.tensor(
        [float(math.comb(order, i)) ** 2 for i in range(order + 1)], dtype=torch.float64
    )
    ones = torch.ones(1, 1, num_steps - order, dtype=torch.float64)
    return torch.nn.functional.conv1d(ones, coef.view(1, 1, -1), padding=order).view(-1)


def _dd_t(x: Tensor, order: int) -> Tensor:
    r""":math:`\mathbf{X}\mathbf{D}_h\mathbf{D}_h^\top` (order-``order`` differences)."""
    return temporal_difference_adjoint(temporal_difference(x, order), order)


def graphtrss_operator(
    mask: Tensor, op: SobolevOperator, alpha: float, order: int = 1
) -> Callable[[Tensor], Tensor]:
    r"""The GraphTRSS normal-equation operator
    :math:`\mathbf{X} \mapsto \mathbf{J}\circ\mathbf{X} + \alpha\,\mathbf{S}\mathbf{X}\mathbf{D}_h\mathbf{D}_h^\top`."""
    m = mask.to(torch.float64)

    def apply(x: Tensor) -> Tensor:
        return m * x + alpha * op.matmul(_dd_t(x, order))

    return apply


def graphtrss(
    y: Tensor,
    mask: Tensor,
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    *,
    alpha: float = 0.2,
    eps: float = 0.05,
    beta: float = 1.0,
    order: int = 1,
    tol: float = 1e-8,
    max_iter: int = 20000,
) -> RecoveryResult:
    r"""GraphTRSS: Sobolev-smooth temporal differences, solved by conjugate gradient.

    See the module docstring for the objective. The Sobolev matrix is built sparse
    (:func:`graphsmooth.nn.losses.sobolev_operator`); nothing dense of size :math:`N \times N`
    or :math:`NT \times NT` is formed for integer :math:`\beta`.

    Args:
        y (Tensor): ``[N, T]`` sampled signal (values off the mask are ignored).
        mask (Tensor): bool ``[N, T]`` sampling mask :math:`\mathbf{J}`.
        edge_index (Tensor): ``[2, E]`` undirected graph.
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        alpha (float, optional): :math:`\alpha > 0`. (default: ``0.2``, GraphTRSS's PM2.5 choice)
        eps (float, optional): :math:`\epsilon`. (default: ``0.05``)
        beta (float, optional): :math:`\beta`. (default: ``1.0``)
        order (int, optional): temporal difference order. (default: ``1``)
        tol (float, optional): CG relative residual tolerance. (default: ``1e-8``)
        max_iter (int, optional): CG iteration cap. (default: ``20000``)

    Returns:
        :class:`RecoveryResult` with ``info = {"iterations", "residual", "converged"}``.
    """
    _check_inputs(y, mask, "graphtrss")
    if alpha <= 0:
        raise ValueError(f"graphtrss: alpha must be > 0, got {alpha}")
    op = sobolev_operator(edge_index, edge_weight, y.size(0), eps=eps, beta=beta)
    m = mask.bool()
    b = torch.where(m, y.to(torch.float64), torch.zeros((), dtype=torch.float64))
    diag = m.to(torch.float64) + alpha * op.diagonal()[:, None] * _dd_t_diagonal(y.size(1), order)
    res = conjugate_gradient(
        graphtrss_operator(m, op, alpha, order), b, tol=tol, max_iter=max_iter, precond=diag
    )
    info = {"iterations": res.iterations, "residual": res.residual, "converged": res.converged}
    return RecoveryResult(res.x.to(y.dtype), "graphtrss", info)


def tikhonov_operator(
    mask: Tensor, lap: SobolevOperator, graph_weight: float, time_weight: float, order: int = 1
) -> Callable[[Tensor], Tensor]:
    r"""The Tikhonov normal-equation operator
    :math:`\mathbf{X} \mapsto \mathbf{J}\circ\mathbf{X} + \beta_g\mathbf{L}\mathbf{X} + \gamma\mathbf{X}\mathbf{D}_h\mathbf{D}_h^\top`."""
    m = mask.to(torch.float64)

    def apply(x: Tensor) -> Tensor:
        out = m * x
        if graph_weight:
            out = out + graph_weight * lap.matmul(x)
        if time_weight:
            out = out + time_weight * _dd_t(x, order)
        return out

    return apply


def tikhonov(
    y: Tensor,
    mask: Tensor,
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    *,
    graph_weight: float = 1.0,
    time_weight: float = 0.01,
    order: int = 1,
    tol: float = 1e-8,
    max_iter: int = 20000,
) -> RecoveryResult:
    r"""Graph-and-time Tikhonov recovery (see the module docstring), solved by CG.

    Args:
        y (Tensor): ``[N, T]`` sampled signal.
        mask (Tensor): bool ``[N, T]`` sampling mask.
        edge_index (Tensor): ``[2, E]`` undirected graph.
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        graph_weight (float, optional): :math:`\beta_g \ge 0` on :math:`\operatorname{tr}(\mathbf{X}^\top\mathbf{L}\mathbf{X})`.
            (default: ``1.0``)
        time_weight (float, optional): :math:`\gamma \ge 0` on :math:`\|\mathbf{X}\mathbf{D}_h\|_F^2`.
            (default: ``0.01``)
        order (int, optional): temporal difference order. (default: ``1``)
        tol (float, optional): CG relative tolerance. (default: ``1e-8``)
        max_iter (int, optional): CG iteration cap. (default: ``20000``)

    Returns:
        :class:`RecoveryResult` with ``info = {"iterations", "residual", "converged"}``.
    """
    _check_inputs(y, mask, "tikhonov")
    if graph_weight < 0 or time_weight < 0 or graph_weight + time_weight == 0:
        raise ValueError(
            f"tikhonov: weights must be >= 0 and not both 0, got graph_weight={graph_weight}, "
            f"time_weight={time_weight}"
        )
    lap = sobolev_operator(edge_index, edge_weight, y.size(0), eps=0.0, beta=1.0)
    m = mask.bool()
    b = torch.where(m, y.to(torch.float64), torch.zeros((), dtype=torch.float64))
    diag = (
        m.to(torch.float64)
        + graph_weight * lap.diagonal()[:, None]
        + time_weight * _dd_t_diagonal(y.size(1), order)
    )
    res = conjugate_gradient(
        tikhonov_operator(m, lap, graph_weight, time_weight, order),
        b,
        tol=tol,
        max_iter=max_iter,
        precond=diag,
    )
    info = {"iterations": res.iterations, "residual": res.residual, "converged": res.converged}
    return RecoveryResult(res.x.to(y.dtype), "tikhonov", info)


def interpolate(
    y: Tensor,
    mask: Tensor,
    pos: Tensor,
    *,
    method: str = "linear",
    time_scale: float = 1.0,
) -> RecoveryResult:
    r"""Scattered interpolation of the samples in (position, time) space.

    Every sample is a point :math:`(\mathbf{p}_n, s\,t)` in :math:`\mathbb{R}^{d+1}` (``s`` =
    ``time_scale``, 1 as in GraphTRSS's NNI, which uses the raw time index); unsampled entries
    are read off the interpolant. Sampled entries keep their values.

    Args:
        y (Tensor): ``[N, T]`` sampled signal.
        mask (Tensor): bool ``[N, T]``.
        pos (Tensor): ``[N, d]`` node positions.
        method (str, optional): ``"linear"`` (Delaunay barycentric; nearest sample outside the
            hull) or ``"nearest"``. (default: ``"linear"``)
        time_scale (float, optional): units of one time step in position units. (default: ``1.0``)

    Returns:
        :class:`RecoveryResult`.
    """
    from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

    _check_inputs(y, mask, "interpolate")
    if method not in ("linear", "nearest"):
        raise ValueError(f"interpolate: method must be 'linear' or 'nearest', got {method!r}")
    if pos.dim() != 2 or pos.size(0) != y.size(0):
        raise ValueError(
            f"interpolate: pos must be [N, d] with N = {y.size(0)}, got {tuple(pos.shape)}"
        )
    n, t = y.shape
    m = mask.bool().cpu().numpy()
    if not m.any():
        raise ValueError("interpolate: the mask has no sampled entry")
    p = pos.to(torch.float64).cpu().numpy()
    coords = np.concatenate(
        [
            np.repeat(p[:, None, :], t, axis=1),
            time_scale * np.broadcast_to(np.arange(t), (n, t))[..., None],
        ],
        axis=2,
    )
    pts, vals = coords[m], y.to(torch.float64).cpu().numpy()[m]
    query = coords[~m]
    nearest = NearestNDInterpolator(pts, vals)
    if method == "nearest":
        out = nearest(query)
    else:
        out = LinearNDInterpolator(pts, vals)(query)
        bad = np.isnan(out)
        if bad.any():
            out[bad] = nearest(query[bad])
    x = y.to(torch.float64).cpu().numpy().copy()
    x[~m] = out
    return RecoveryResult(torch.from_numpy(x).to(y.dtype).to(y.device), f"interp_{method}", {})
