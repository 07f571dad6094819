r"""Runner task ``hmm``: Graph Filter accuracy against the exact filter on synthetic FHMMs.

One trial = one seed: simulate ``num_steps`` observations from the model (the paper's Gaussian
chain, or the denser ``ring_triples`` graph whose factor ``f`` has scope
``{f, f+1, f+2 mod M}``), run the Graph Filter with radius ``m`` and, when the joint state space
is small enough, the exact filter; metrics are the local total-variation errors of the filtering
marginals (mean over time and components, and mean over time of the worst component) and the
Graph Filter's seconds per step. Rows are ``graph_filter m=<m>``, columns the model.

Example::

    task: hmm
    seeds: [0, 1, 2, 3, 4]
    model: chain
    num_components: 10
    num_steps: 200
    m: [0, 1, 2]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from graphsmooth.bench.config import NO_SWEEP, ConfigError, RunConfig
from graphsmooth.bench.tasks import Task, register_task

__all__ = ["HMMConfig", "HMMTask", "make_model"]

_MODELS = ("chain", "ring_triples")


@dataclass(kw_only=True)
class HMMConfig(RunConfig):
    """Schema of an ``hmm`` config; ``model``, ``num_components`` and ``m`` may sweep."""

    model: str = "chain"
    num_components: int = 10
    num_steps: int = 200
    m: int = 0
    max_exact_states: int = field(default=2**16, metadata=NO_SWEEP)

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.model, str) and self.model not in _MODELS:
            raise ConfigError(f"unknown model {self.model!r}; valid: {list(_MODELS)}", key="model")
        if isinstance(self.m, int) and self.m < 0:
            raise ConfigError(f"must be >= 0, got {self.m}", key="m")
        if isinstance(self.num_components, int) and self.num_components < 3:
            raise ConfigError(f"must be >= 3, got {self.num_components}", key="num_components")
        if isinstance(self.num_steps, int) and self.num_steps < 1:
            raise ConfigError(f"must be >= 1, got {self.num_steps}", key="num_steps")


def make_model(name: str, M: int):
    """The paper's Gaussian chain or the ``ring_triples`` model (same parameters)."""
    from graphsmooth.hmm import FactorialHMM, GaussianFactors, gaussian_chain

    if name == "chain":
        return gaussian_chain(M)
    f = torch.arange(M)
    scopes = torch.stack([f, (f + 1) % M, (f + 2) % M], dim=1)
    return FactorialHMM(
        torch.tensor([1.0, 0.0]),
        torch.tensor([[0.4, 0.6], [0.8, 0.2]]),
        GaussianFactors(scopes, c=2.0, sigma2=4.0),
        num_components=M,
    )


@register_task("hmm")
class HMMTask(Task):
    Config = HMMConfig
    metrics = ("tv_mean", "tv_max", "sec_per_step")
    higher_is_better = False

    def labels(self, config) -> tuple[str, str]:
        return f"graph_filter m={config.m}", f"{config.model} M={config.num_components}"

    def run_trial(self, config, trial: dict) -> dict[str, float]:
        from graphsmooth.data.sequences import simulate_fhmm
        from graphsmooth.hmm import exact_filter, graph_filter

        model = make_model(config.model, config.num_components)
        gen = torch.Generator().manual_seed(int(trial["seed"]))
        _, y = simulate_fhmm(model, config.num_steps, gen)
        t0 = time.perf_counter()
        gf = graph_filter(model, y, config.m)
        out = {"sec_per_step": (time.perf_counter() - t0) / config.num_steps}
        if model.L**model.num_components <= config.max_exact_states:
            ex = exact_filter(model, y, max_states=config.max_exact_states)
            tv = 0.5 * (gf.marginals - ex.marginals).abs().sum(-1)  # [T, M]
            out["tv_mean"] = float(tv.mean())
            out["tv_max"] = float(tv.max(-1).values.mean())
        return out
