r"""Time-varying graph signal recovery: TimeGNN and classical baselines.

All methods share one call shape, reachable by name through :func:`recover`::

    mask = sampling_mask(sig.valid, 0.3, seed=0)
    res = recover("graphtrss", sig.signal * mask, mask, edge_index=sig.edge_index,
                  edge_weight=sig.edge_weight, alpha=0.2, eps=0.05)
    recovery_metrics(sig.signal, res.x_hat, evaluation_mask(sig.valid, mask))

- :func:`graphtrss` — Sobolev minimisation of temporal differences by conjugate gradient.
- :func:`tikhonov` — graph + temporal Tikhonov by conjugate gradient.
- :func:`interpolate` — linear / nearest scattered interpolation in (position, time).
- :func:`fit_timegnn` — TimeGNN (Castro-Correa et al., ICASSP 2023) with validation and early stopping.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from graphsmooth.recovery.baselines import (
    CGResult,
    RecoveryResult,
    conjugate_gradient,
    graphtrss,
    interpolate,
    tikhonov,
)
from graphsmooth.recovery.metrics import RecoveryMetrics, evaluation_mask, recovery_metrics
from graphsmooth.recovery.sampling import sampling_mask, split_mask
from graphsmooth.recovery.timegnn import fit_timegnn

__all__ = [
    "METHODS",
    "CGResult",
    "RecoveryMetrics",
    "RecoveryResult",
    "conjugate_gradient",
    "evaluation_mask",
    "fit_timegnn",
    "graphtrss",
    "interpolate",
    "recover",
    "recovery_metrics",
    "sampling_mask",
    "split_mask",
    "tikhonov",
]


def _graph_method(fn: Callable) -> Callable:
    def run(y, mask, *, edge_index=None, edge_weight=None, pos=None, **kw):
        if edge_index is None:
            raise ValueError(f"recover: method {fn.__name__!r} needs edge_index")
        return fn(y, mask, edge_index, edge_weight, **kw)

    return run


def _pos_method(method: str) -> Callable:
    def run(y, mask, *, edge_index=None, edge_weight=None, pos=None, **kw):
        if pos is None:
            raise ValueError(f"recover: method {method!r} needs node positions (pos=)")
        return interpolate(y, mask, pos, method=method.split("_")[1], **kw)

    return run


#: name -> callable(y, mask, *, edge_index, edge_weight, pos, **params) -> RecoveryResult
METHODS: dict[str, Callable[..., RecoveryResult]] = {
    "graphtrss": _graph_method(graphtrss),
    "tikhonov": _graph_method(tikhonov),
    "timegnn": _graph_method(fit_timegnn),
    "interp_linear": _pos_method("interp_linear"),
    "interp_nearest": _pos_method("interp_nearest"),
}


def recover(
    method: str,
    y: Tensor,
    mask: Tensor,
    *,
    edge_index: Tensor | None = None,
    edge_weight: Tensor | None = None,
    pos: Tensor | None = None,
    **params,
) -> RecoveryResult:
    """Run a recovery method by name (see :data:`METHODS`); ``params`` go to the method."""
    if method not in METHODS:
        raise ValueError(f"recover: unknown method {method!r}; valid: {sorted(METHODS)}")
    return METHODS[method](
        y, mask, edge_index=edge_index, edge_weight=edge_weight, pos=pos, **params
    )
