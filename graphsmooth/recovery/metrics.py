r"""Recovery error metrics on the unsampled valid entries.

.. math::
    \mathrm{RMSE} = \sqrt{\tfrac{1}{|\mathcal{E}|}\textstyle\sum_{\mathcal{E}} (x - \hat x)^2},\quad
    \mathrm{MAE} = \tfrac{1}{|\mathcal{E}|}\textstyle\sum_{\mathcal{E}} |x - \hat x|,\quad
    \mathrm{MAPE} = \tfrac{1}{|\mathcal{E}_{\ne 0}|}\textstyle\sum_{\mathcal{E}_{\ne 0}}
    \left|\tfrac{x - \hat x}{x}\right|,

with :math:`\mathcal{E}` = valid and not sampled, and :math:`\mathcal{E}_{\ne 0}` its entries
with :math:`x \ne 0` (as GraphTRSS's scripts; MAPE is a fraction, not a percentage).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor

__all__ = ["RecoveryMetrics", "evaluation_mask", "recovery_metrics"]


@dataclass
class RecoveryMetrics:
    """RMSE, MAE, MAPE and the number of evaluated entries."""

    rmse: float
    mae: float
    mape: float
    count: int

    def as_dict(self) -> dict:
        return asdict(self)


def evaluation_mask(valid: Tensor, sampled: Tensor) -> Tensor:
    """Entries that count in the error: valid and not sampled."""
    if valid.shape != sampled.shape:
        raise ValueError(
            f"evaluation_mask: valid {tuple(valid.shape)} and sampled {tuple(sampled.shape)} differ"
        )
    return valid.bool() & ~sampled.bool()


def recovery_metrics(x_true: Tensor, x_hat: Tensor, mask: Tensor) -> RecoveryMetrics:
    """RMSE / MAE / MAPE of ``x_hat`` against ``x_true`` on the ``True`` entries of ``mask``.

    Args:
        x_true (Tensor): ``[N, T]`` ground truth.
        x_hat (Tensor): ``[N, T]`` recovered signal.
        mask (Tensor): bool ``[N, T]`` entries to evaluate (see :func:`evaluation_mask`).

    Returns:
        :class:`RecoveryMetrics` (floats; NaN when ``mask`` is empty).
    """
    if x_true.shape != x_hat.shape or x_true.shape != mask.shape:
        raise ValueError(
            f"recovery_metrics: shapes differ: x_true {tuple(x_true.shape)}, "
            f"x_hat {tuple(x_hat.shape)}, mask {tuple(mask.shape)}"
        )
    t = x_true[mask].to(torch.float64)
    e = t - x_hat[mask].to(torch.float64)
    if t.numel() == 0:
        nan = float("nan")
        return RecoveryMetrics(nan, nan, nan, 0)
    nz = t != 0
    mape = float((e[nz] / t[nz]).abs().mean()) if bool(nz.any()) else float("nan")
    return RecoveryMetrics(
        float(e.pow(2).mean().sqrt()), float(e.abs().mean()), mape, int(t.numel())
    )
