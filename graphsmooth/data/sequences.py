r"""Sequence data: factorial HMM simulation and the London tube passenger-flow data.

* :func:`simulate_fhmm` draws hidden chains and observations from a
  :class:`~graphsmooth.hmm.FactorialHMM` (vectorised over components and factors).
* :func:`load_tube` reads the London Underground data of Rimella & Whiteley (JMLR 2022,
  "Exploiting locality in high-dimensional factorial hidden Markov models"), as published in
  ``LorenzoRimella/GraphFilter-GraphSmoother`` (``version2/Data``): 20 East-London stations,
  48 hidden chains on directed pairs of adjacent stations, and 40 count series (inflow
  ``F00``-``F19`` and outflow ``F20``-``F39`` at the 20 stations) every 10 minutes, 145 steps
  per day; train = Monday-Wednesday (435 steps), test = Thursday-Friday (290 steps).

The files live under ``<data root>/fhmm/version2_Data`` (see :func:`graphsmooth.data.data_root`);
only those known files are read (``BipartiteLondon.gpickle`` and ``names_dictionary.pkl`` with
:mod:`pickle`, the count matrices with :func:`numpy.load`).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["TubeData", "load_tube", "simulate_fhmm"]

#: 10-minute steps per day in the tube data (00:00 to 24:00 inclusive)
STEPS_PER_DAY = 145


def simulate_fhmm(model, T: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    r"""Draw :math:`(x_{1:T}, y_{1:T})` from a factorial HMM.

    .. math::
        X_1^v \sim \mu^v, \quad X_t^v \sim P^v(X_{t-1}^v, \cdot), \quad
        Y_t \sim \prod_f g_f(X_t^{N(f)}, \cdot).

    Args:
        model (FactorialHMM): the model (Gaussian, Poisson, or callable factors with a
            ``sample_fn``).
        T (int): number of time steps.
        generator (torch.Generator, optional): random source. (default: ``None``)

    Returns:
        (x, y): ``long [T, M]`` hidden states and ``[T, F]`` observations.
    """
    from graphsmooth.hmm.factorial import CallableFactors

    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive int, got {T!r}")
    M = model.num_components
    x = torch.empty(T, M, dtype=torch.long)
    x[0] = torch.multinomial(model.initial, 1, generator=generator).squeeze(1)
    comp = torch.arange(M)
    for t in range(1, T):  # time is sequential; components are drawn together
        x[t] = torch.multinomial(model.transition[comp, x[t - 1]], 1, generator=generator).squeeze(
            1
        )
    scope = model.scope
    valid = scope >= 0
    vals = model.state_values[scope.clamp(min=0)[None], x[:, scope.clamp(min=0)]]  # [T, F, S]
    vals = torch.where(valid[None], vals, torch.zeros((), dtype=vals.dtype))
    fam = model.factors
    if isinstance(fam, CallableFactors):
        if fam.sample_fn is None:
            raise ValueError("simulate_fhmm: CallableFactors needs a sample_fn to simulate")
        y = fam.sample_fn(vals, generator)
    else:
        y = fam.sample(vals.sum(-1), generator)
    return x, y


@dataclass
class TubeData:
    r"""The London tube FHMM data.

    Attributes:
        Y_train (torch.Tensor): ``[435, 40]`` counts, Monday-Wednesday.
        Y_test (torch.Tensor): ``[290, 40]`` counts, Thursday-Friday.
        scopes (list of list of int): the 48 chains in the scope of each of the 40 factors
            (factor ``j`` is column ``j``).
        chain_names (list of str): ``V00`` .. ``V47``.
        factor_names (list of str): ``F00`` .. ``F39``.
        series_names (list of str): e.g. ``'Mile End-Inflow'`` for each factor.
        stations (list of str): station of each factor (inflow and outflow share stations).
        steps_per_day (int): 145 ten-minute steps per day.
    """

    Y_train: Tensor
    Y_test: Tensor
    scopes: list[list[int]]
    chain_names: list[str]
    factor_names: list[str]
    series_names: list[str]
    stations: list[str]
    steps_per_day: int = STEPS_PER_DAY

    @property
    def num_chains(self) -> int:
        return len(self.chain_names)

    @property
    def num_factors(self) -> int:
        return len(self.factor_names)

    @property
    def factor_graph_edge_index(self) -> Tensor:
        """``[2, 2E]`` undirected bipartite factor graph: chain ``v`` is node ``v``, factor ``f``
        is node ``48 + f`` (the layout of :meth:`graphsmooth.hmm.FactorialHMM.factor_graph_edge_index`)."""
        f = torch.tensor([j for j, sc in enumerate(self.scopes) for _ in sc], dtype=torch.long)
        v = torch.tensor([c for sc in self.scopes for c in sc], dtype=torch.long)
        a = torch.stack([v, self.num_chains + f])
        return torch.cat([a, a.flip(0)], dim=1)


def _tube_dir(root: str | os.PathLike | None) -> Path:
    try:
        from graphsmooth.data.paths import data_root
    except ImportError:  # pragma: no cover
        data_root = None
    if data_root is not None:
        base = Path(data_root(root))
    else:  # pragma: no cover
        base = Path(root or os.environ.get("GRAPHSMOOTH_DATA", ""))
    d = base / "fhmm" / "version2_Data"
    if not d.is_dir():
        raise FileNotFoundError(
            f"London tube data not found: {d} does not exist (set $GRAPHSMOOTH_DATA or pass root)"
        )
    return d


def load_tube(root: str | os.PathLike | None = None) -> TubeData:
    r"""Load the London tube passenger-flow data (Rimella & Whiteley 2022).

    Args:
        root (str or Path, optional): data root holding ``fhmm/version2_Data``.
            (default: ``None``: :func:`graphsmooth.data.data_root`)

    Returns:
        TubeData

    Raises:
        FileNotFoundError: when the files are missing.
    """
    d = _tube_dir(root)
    with open(d / "BipartiteLondon.gpickle", "rb") as fh:
        G = pickle.load(fh)  # a networkx Graph (known file)
    with open(d / "names_dictionary.pkl", "rb") as fh:
        names = pickle.load(fh)
    y_train = np.load(d / "YT_train.npy")
    y_test = np.load(d / "YT_test.npy")
    chains = sorted(n for n in G.nodes if str(n).startswith("V"))
    factors = sorted(n for n in G.nodes if str(n).startswith("F"))
    if len(chains) != 48 or len(factors) != 40 or y_train.shape != (435, 40):
        raise ValueError(
            f"unexpected tube data layout in {d}: {len(chains)} chains, {len(factors)} factors, "
            f"train shape {y_train.shape}"
        )
    cidx = {c: i for i, c in enumerate(chains)}
    scopes = [sorted(cidx[v] for v in G.neighbors(f)) for f in factors]
    full = names["Stations_full"]
    return TubeData(
        Y_train=torch.as_tensor(y_train, dtype=torch.float64),
        Y_test=torch.as_tensor(y_test, dtype=torch.float64),
        scopes=scopes,
        chain_names=chains,
        factor_names=factors,
        series_names=[full[f] for f in factors],
        stations=[names["Stations"][f] for f in factors],
    )
