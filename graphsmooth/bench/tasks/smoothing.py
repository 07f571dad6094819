r"""Runner task ``smoothing``: PaRIS / PPG smoothed sums against the exact Kalman/RTS values.

One trial = one seed: simulate ``num_steps`` observations from a scalar linear Gaussian model
(``a``, ``q``, ``r``; data seed = ``data_seed``, the same for every trial so that trials
replicate the Monte Carlo error on fixed data), run ``method`` (``paris`` with
``num_particles``, or ``ppg`` with ``num_particles`` and ``ppg_sweeps`` sweeps after
``ppg_burn_in``; backward kernel ``backward``, :obj:`None` = the library default, i.e.
``mh`` for PaRIS and ``rejection`` for PPG) on the additive functional :math:`\sum_t X_t^2`,
and report the signed and
absolute errors against the statsmodels RTS smoother and the CPU seconds. The runner's mean of
``error`` over seeds estimates the method's bias. Rows are the method, columns the model.

Example::

    task: smoothing
    seeds: [0, 1, 2, 3, 4, 5, 6, 7]
    method: [paris, ppg]
    num_particles: 32
    num_steps: 100
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from graphsmooth.bench.config import ConfigError, RunConfig
from graphsmooth.bench.tasks import Task, register_task

__all__ = ["SmoothingConfig", "SmoothingTask"]

_METHODS = ("paris", "ppg")
_BACKWARD = ("mh", "rejection", "sampling", "exact")


@dataclass(kw_only=True)
class SmoothingConfig(RunConfig):
    """Schema of a ``smoothing`` config; every field but the common ones may sweep."""

    method: str = "paris"
    num_particles: int = 100
    num_steps: int = 100
    num_backward: int = 2
    backward: str | None = None
    mh_steps: int = 1
    ppg_sweeps: int = 8
    ppg_burn_in: int = 2
    a: float = 0.9
    q: float = 1.0
    r: float = 0.5
    data_seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.method, str) and self.method not in _METHODS:
            raise ConfigError(
                f"unknown method {self.method!r}; valid: {list(_METHODS)}", key="method"
            )
        if isinstance(self.backward, str) and self.backward not in _BACKWARD:
            raise ConfigError(
                f"unknown backward kernel {self.backward!r}; valid: {list(_BACKWARD)}",
                key="backward",
            )
        if self.backward == "exact" and self.method == "ppg":
            raise ConfigError("ppg needs backward draws; use mh, rejection or sampling",
                              key="backward")  # fmt: skip
        for key in ("num_particles", "num_steps", "num_backward", "ppg_sweeps", "mh_steps"):
            v = getattr(self, key)
            if isinstance(v, int) and v < 1:
                raise ConfigError(f"must be >= 1, got {v}", key=key)
        if isinstance(self.ppg_burn_in, int) and isinstance(self.ppg_sweeps, int):
            if not 0 <= self.ppg_burn_in < self.ppg_sweeps:
                raise ConfigError("must be in [0, ppg_sweeps)", key="ppg_burn_in")
        for key in ("q", "r"):
            v = getattr(self, key)
            if isinstance(v, (int, float)) and v <= 0:
                raise ConfigError(f"must be > 0, got {v}", key=key)


@register_task("smoothing")
class SmoothingTask(Task):
    Config = SmoothingConfig
    metrics = ("abs_error", "error", "cpu_s")
    higher_is_better = False

    def labels(self, config) -> tuple[str, str]:
        if config.method == "ppg":
            method = (
                f"ppg N={config.num_particles} sweeps={config.ppg_sweeps} "
                f"burn_in={config.ppg_burn_in}"
            )
        else:
            method = f"paris N={config.num_particles}"
        if config.backward is not None:
            method += f" backward={config.backward}"
        return method, f"lg a={config.a} q={config.q} r={config.r} T={config.num_steps}"

    def run_trial(self, config, trial: dict) -> dict[str, float]:
        from graphsmooth.smc import (
            LinearGaussian,
            kalman_smoother,
            paris,
            ppg,
            simulate,
            state_outer_sum,
        )

        model = LinearGaussian(config.a, 1.0, config.q, config.r)
        data = torch.Generator().manual_seed(int(config.data_seed))
        y = simulate(model, config.num_steps, data).observations
        exact = float(kalman_smoother(model, y).statistics[1])
        gen = torch.Generator().manual_seed(int(trial["seed"]))
        kw = {} if config.backward is None else {"backward": config.backward}
        c0 = time.process_time()
        if config.method == "paris":
            est = paris(
                model, y, state_outer_sum, config.num_particles,
                num_backward=config.num_backward, mh_steps=config.mh_steps, generator=gen, **kw,
            ).estimate  # fmt: skip
        else:
            est = ppg(
                model, y, state_outer_sum, config.num_particles, config.ppg_sweeps,
                burn_in=config.ppg_burn_in, num_backward=config.num_backward, generator=gen,
                **kw,
            ).estimate  # fmt: skip
        cpu = time.process_time() - c0
        err = float(est[0]) - exact
        return {"abs_error": abs(err), "error": err, "cpu_s": cpu, "exact": exact}
