r"""Runner task ``signal_recovery``: time-varying graph signal recovery vs sampling density.

One trial = one data set, one method, one sampling density, one seed: a sampling mask drawn
with :func:`graphsmooth.recovery.sampling_mask` (``round(m N)`` valid nodes per time step,
seeded by the trial seed, so every method sees the same masks for the same seed), the method
run by name through :func:`graphsmooth.recovery.recover`, and RMSE / MAE / MAPE on the valid
unsampled entries. Table rows are methods, columns ``<dataset> m=<density>``.

Example (``configs/recovery/pm25.yaml``)::

    task: signal_recovery
    seeds: [0, 1, 2]
    dataset: {name: pm25}
    density: [0.1, 0.15, 0.2]
    method:
      - {name: graphtrss, params: {alpha: 0.2, eps: 0.05}}
      - {name: timegnn, params: {lr: 0.005, lam: 1.0e-5}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from graphsmooth.bench.config import ConfigError, RunConfig
from graphsmooth.bench.tasks import Task, register_task

__all__ = ["RecoveryDatasetConfig", "RecoveryMethodConfig", "SignalRecoveryConfig"]


@dataclass(kw_only=True)
class RecoveryDatasetConfig:
    """``name`` (sst | pm25 | intel | synthetic), ``graph`` (knn | graphtrss | polynomial |
    attention | stored; default knn when positions exist), ``k`` (kNN size), ``num_steps``,
    optional table ``label``."""

    name: str
    graph: str | None = None
    k: int | None = None
    num_steps: int | None = None
    label: str | None = None


@dataclass(kw_only=True)
class RecoveryMethodConfig:
    """``name`` (a key of :data:`graphsmooth.recovery.METHODS`), ``params`` (its keyword
    arguments), optional table ``label``."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None


@dataclass(kw_only=True)
class SignalRecoveryConfig(RunConfig):
    """Schema of a ``signal_recovery`` config; ``dataset``, ``density`` and ``method`` sweep."""

    dataset: RecoveryDatasetConfig
    density: float
    method: RecoveryMethodConfig

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.density, float | int) and not 0 < self.density <= 1:
            raise ConfigError(f"must be in (0, 1], got {self.density}", key="density")


_CACHE: dict[tuple, Any] = {}


def _signal(ds: RecoveryDatasetConfig):
    from graphsmooth.data.signals import load_timegnn_signal

    key = (ds.name, ds.graph, ds.k, ds.num_steps)
    if key not in _CACHE:
        _CACHE[key] = load_timegnn_signal(ds.name, graph=ds.graph, k=ds.k, num_steps=ds.num_steps)
    return _CACHE[key]


@register_task("signal_recovery")
class SignalRecoveryTask(Task):
    Config = SignalRecoveryConfig
    metrics = ("rmse", "mae", "mape")
    higher_is_better = False

    def validate(self, config) -> None:
        from graphsmooth.data.signals import TIMEGNN_SIGNALS
        from graphsmooth.recovery import METHODS

        if config.dataset.name not in TIMEGNN_SIGNALS:
            raise ConfigError(
                f"unknown signal {config.dataset.name!r}; valid: {sorted(TIMEGNN_SIGNALS)}",
                key="dataset.name",
            )
        if config.method.name not in METHODS:
            raise ConfigError(
                f"unknown method {config.method.name!r}; valid: {sorted(METHODS)}",
                key="method.name",
            )

    def prepare(self, config) -> None:
        try:
            _signal(config.dataset)
        except (ValueError, FileNotFoundError) as exc:
            raise ConfigError(str(exc), key="dataset") from None

    def labels(self, config) -> tuple[str, str]:
        ds = config.dataset.label or config.dataset.name
        return config.method.label or config.method.name, f"{ds} m={config.density:g}"

    def run_trial(self, config, trial: dict) -> dict[str, float]:
        from graphsmooth.bench.tasks.classification import resolve_device
        from graphsmooth.recovery import evaluation_mask, recover, recovery_metrics, sampling_mask

        sig = _signal(config.dataset)
        mask = sampling_mask(sig.valid, config.density, seed=int(trial["seed"]))
        params = dict(config.method.params)
        if config.method.name == "timegnn":
            params.setdefault("seed", int(trial["seed"]))
            params.setdefault("device", resolve_device(config.device))
        res = recover(
            config.method.name,
            sig.signal * mask,
            mask,
            edge_index=sig.edge_index,
            edge_weight=sig.edge_weight,
            pos=sig.pos,
            **params,
        )
        met = recovery_metrics(sig.signal, res.x_hat.cpu(), evaluation_mask(sig.valid, mask))
        out = {"rmse": met.rmse, "mae": met.mae, "mape": met.mape, "count": float(met.count)}
        for key in ("iterations", "epochs", "best_epoch", "train_seconds"):
            if key in res.info:
                out[key] = float(res.info[key])
        if "converged" in res.info:
            out["converged"] = float(bool(res.info["converged"]))
        return out


def node_series(config_path: str, node: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Re-run every (dataset, density, method) point of a config for one seed and return the
    true and recovered series of ``node`` (for plots); keys ``"true"``, ``"mask"`` and the
    method labels."""
    from graphsmooth.bench.config import expand, load_config
    from graphsmooth.recovery import recover, sampling_mask

    config = load_config(config_path)
    out: dict[str, torch.Tensor] = {}
    for point, _ in expand(config):
        sig = _signal(point.dataset)
        mask = sampling_mask(sig.valid, point.density, seed=seed)
        params = dict(point.method.params)
        if point.method.name == "timegnn":
            params.setdefault("seed", seed)
        res = recover(
            point.method.name,
            sig.signal * mask,
            mask,
            edge_index=sig.edge_index,
            edge_weight=sig.edge_weight,
            pos=sig.pos,
            **params,
        )
        out["true"], out["mask"], out["valid"] = sig.signal[node], mask[node], sig.valid[node]
        out[point.method.label or point.method.name] = res.x_hat[node]
    return out
