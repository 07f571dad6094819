r"""Exact Kalman / RTS references for :class:`~graphsmooth.smc.models.LinearGaussian`.

Computed with statsmodels' state-space machinery (``MLEModel(...).ssm.smooth()``), so that the
particle methods are tested against an independent implementation. With the smoothed means
:math:`\hat x_t`, covariances :math:`P_t` and lag-one covariances
:math:`P_{t+1,t} = \mathrm{Cov}(X_{t+1}, X_t \mid y)`:

.. math::
    \mathbb E\Big[\sum_t X_t\Big] = \sum_t \hat x_t, \quad
    \mathbb E\Big[\sum_t X_t X_t^\top\Big] = \sum_t P_t + \hat x_t \hat x_t^\top, \quad
    \mathbb E\Big[\sum_{t\ge1} X_t X_{t-1}^\top\Big] = \sum_{t\ge1} P_{t,t-1}
        + \hat x_t \hat x_{t-1}^\top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .models import LinearGaussian

__all__ = ["KalmanSmoothing", "kalman_smoother", "scalar_lg_mlemodel"]


@dataclass
class KalmanSmoothing:
    """Exact smoothing summaries of a linear Gaussian model.

    Attributes:
        means (Tensor): ``[T, d]`` smoothed means.
        covs (Tensor): ``[T, d, d]`` smoothed covariances.
        lag_covs (Tensor): ``[T - 1, d, d]``; row ``t - 1`` is :math:`\\mathrm{Cov}(X_t, X_{t-1}|y)`.
        log_likelihood (float): :math:`\\log p(y_{0:T-1})`.
        statistics (Tensor): :math:`[\\sum x, \\mathrm{vec}\\sum x x^\\top,
            \\mathrm{vec}\\sum x_t x_{t-1}^\\top]` in the layout of
            :data:`graphsmooth.smc.functionals.linear_gaussian_statistics`.
    """

    means: Tensor
    covs: Tensor
    lag_covs: Tensor
    log_likelihood: float
    statistics: Tensor


def kalman_smoother(model: LinearGaussian, observations: Tensor) -> KalmanSmoothing:
    """Exact RTS smoother via statsmodels for a :class:`LinearGaussian` model.

    Args:
        model (LinearGaussian): the model.
        observations (Tensor): ``[T, d_y]`` (a 1-D tensor is read as ``[T, 1]``).
    """
    from statsmodels.tsa.statespace.mlemodel import MLEModel

    if not isinstance(model, LinearGaussian):
        raise ValueError(f"kalman_smoother needs a LinearGaussian model, got {model!r}")
    y = observations.unsqueeze(-1) if observations.dim() == 1 else observations
    y_np = y.detach().cpu().double().numpy()
    d = model.state_dim
    mod = MLEModel(y_np, k_states=d)
    f = lambda a: a.detach().cpu().double().numpy()
    mod["design"] = f(model.C)
    mod["obs_cov"] = f(model.R)
    mod["transition"] = f(model.A)
    mod["selection"] = np.eye(d)
    mod["state_cov"] = f(model.Q)
    mod.initialize_known(f(model.m0), f(model.P0))
    res = mod.ssm.smooth()
    means = torch.from_numpy(np.ascontiguousarray(res.smoothed_state.T))
    covs = torch.from_numpy(np.ascontiguousarray(np.moveaxis(res.smoothed_state_cov, -1, 0)))
    auto = np.moveaxis(res.smoothed_state_autocov, -1, 0)  # [t] = Cov(X_{t+1}, X_t | y)
    lag = torch.from_numpy(np.ascontiguousarray(auto[: y.shape[0] - 1]))
    s1 = means.sum(0)
    s2 = (covs + means.unsqueeze(-1) * means.unsqueeze(-2)).sum(0)
    s3 = (lag + means[1:].unsqueeze(-1) * means[:-1].unsqueeze(-2)).sum(0)
    stats = torch.cat([s1, s2.reshape(-1), s3.reshape(-1)])
    return KalmanSmoothing(means, covs, lag, float(res.llf_obs.sum()), stats)


def scalar_lg_mlemodel(observations: np.ndarray, start_params: np.ndarray | None = None):
    r"""statsmodels ``MLEModel`` of the scalar linear Gaussian model with parameters
    :math:`(a, \log q, \log r)`:

    .. math::
        X_0 \sim \mathcal N(0, q), \quad X_t = a X_{t-1} + \mathcal N(0, q), \quad
        Y_t = X_t + \mathcal N(0, r),

    the exact reference for the learning examples and tests (``.fit()`` gives the MLE and its
    standard errors, ``.smooth(params, cov_type="opg")`` the OPG information).
    """
    from statsmodels.tsa.statespace.mlemodel import MLEModel

    start = None if start_params is None else np.asarray(start_params, dtype=float)

    class ScalarLG(MLEModel):
        def __init__(self, endog):
            super().__init__(endog, k_states=1)
            self["design"] = np.ones((1, 1))
            self["selection"] = np.ones((1, 1))
            self.initialize_known(np.zeros(1), np.ones((1, 1)))

        @property
        def start_params(self):
            return start if start is not None else np.array([0.5, 0.0, 0.0])

        @property
        def param_names(self):
            return ["a", "log_q", "log_r"]

        def update(self, params, **kwargs):
            params = super().update(params, **kwargs)
            q = np.exp(params[1])
            self["transition"] = np.array([[params[0]]])
            self["state_cov"] = np.array([[q]])
            self["obs_cov"] = np.array([[np.exp(params[2])]])
            self.ssm.initialize_known(np.zeros(1), np.array([[q]]))

    return ScalarLG(np.asarray(observations, dtype=float))
