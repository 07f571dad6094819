r"""Time-varying graph signals: the TimeGNN / GraphTRSS data sets.

Data live under ``<data root>/timegnn`` (see ``shared/data/README.md`` §5):

=============  ===========  ==============================================  =====================
name           shape N x T  source                                          positions / graph
=============  ===========  ==============================================  =====================
``sst``        100 x 600    GraphTRSS ``sea_surface_temperature.mat``       (lat, lon); 10-NN
                            (``Data[:, :600]``, monthly °C)
``pm25``       93 x 220     GraphTRSS ``PM2_5_concentration.mat``           (lat, lon); 10-NN
                            (``myDataPM[:, :220]``, daily µg/m³; entries
                            ``<= 0`` are missing)
``intel``      52 x 600     GegenGNN ``intel_dataset/dataset.hdf`` (°C)      none; GegenGNN graph
``synthetic``  100 x 600    Qiu et al. ``paramAWD.mat`` (``Temp``)           grid positions; stored
                                                                            5-NN ``W``
=============  ===========  ==============================================  =====================

The graph (``graph=``):

- ``"knn"`` — k-NN on the positions with the GraphTRSS/GSPBox construction, verified against
  the stored ``full_graph.mat`` (max abs. weight difference ~1e-16): Euclidean distance on the
  raw (lat, lon) coordinates, :math:`W_{ij} = \exp(-d_{ij}^2/\sigma^2)` with
  :math:`\sigma` = mean of the :math:`N \times (k+1)` k-NN distance table **including each
  node's zero self-distance**, symmetrised by the maximum (an edge kept if either end lists the
  other). Default ``k`` = 10 (GraphTRSS).
- ``"graphtrss"`` — the stored GSPBox ``G.W`` of ``full_graph.mat`` (sst, pm25).
- ``"polynomial"`` / ``"attention"`` — GegenGNN's stored ``W`` (sst, pm25, intel).
- ``"stored"`` — the synthetic data set's own ``W``.
- ``None`` — ``"knn"`` when positions exist, else ``"polynomial"`` (intel).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from graphsmooth.graph import knn_graph

__all__ = [
    "TIMEGNN_SIGNALS",
    "TimeVaryingSignal",
    "gspbox_knn_graph",
    "load_timegnn_signal",
]

#: name -> (GraphTRSS folder, mat file, variable, columns kept, GegenGNN hdf folder)
TIMEGNN_SIGNALS: dict[str, dict] = {
    "sst": {
        "mat": ("sea_surface_temperature", "sea_surface_temperature.mat", "Data"),
        "steps": 600,
        "hdf": "sea_surface_temperature",
        "k": 10,
    },
    "pm25": {
        "mat": ("pm25_concentration", "PM2_5_concentration.mat", "myDataPM"),
        "steps": 220,
        "hdf": "pm25_concentration",
        "k": 10,
    },
    "intel": {"mat": None, "steps": 600, "hdf": "intel_dataset", "k": None},
    "synthetic": {
        "mat": ("synthetic", "paramAWD.mat", "Temp"),
        "steps": 600,
        "hdf": None,
        "k": 5,
    },
}

_GRAPHS = ("knn", "graphtrss", "polynomial", "attention", "stored")


@dataclass
class TimeVaryingSignal:
    """A signal matrix on a graph.

    Attributes:
        name (str): data set name.
        signal (Tensor): ``[N, T]`` values (float64 unless asked otherwise).
        valid (Tensor): bool ``[N, T]``; ``False`` marks missing measurements.
        pos (Tensor, optional): ``[N, 2]`` node coordinates (lat, lon for sst/pm25).
        edge_index (Tensor): ``[2, E]`` undirected graph, both directions.
        edge_weight (Tensor, optional): ``[E]`` weights.
        graph (str): which graph construction was used.
    """

    name: str
    signal: Tensor
    valid: Tensor
    pos: Tensor | None
    edge_index: Tensor
    edge_weight: Tensor | None
    graph: str

    @property
    def num_nodes(self) -> int:
        return int(self.signal.size(0))

    @property
    def num_steps(self) -> int:
        return int(self.signal.size(1))


def _timegnn_root(root: str | None) -> str:
    from graphsmooth.data.paths import data_root

    path = os.path.join(str(data_root(root)), "timegnn")
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"load_timegnn_signal: {path!r} does not exist; pass root= or set $GRAPHSMOOTH_DATA "
            "to the shared data folder"
        )
    return path


def gspbox_knn_graph(pos: Tensor, k: int) -> tuple[Tensor, Tensor, float]:
    r"""k-NN Gaussian graph built exactly as GSPBox's ``gsp_nn_graph`` did for GraphTRSS.

    .. math::
        \sigma = \frac{1}{N(k+1)} \sum_{i} \sum_{r=0}^{k} d_{i,(r)}, \qquad
        W_{ij} = \max\big(\mathbb{1}[j \in \mathrm{kNN}(i)], \mathbb{1}[i \in \mathrm{kNN}(j)]\big)
        \exp(-d_{ij}^2 / \sigma^2),

    where :math:`d_{i,(0)} = 0` is the node's distance to itself (GSPBox averages the whole
    ``[N, k+1]`` distance table). Ties in distance are broken by the lower node index (MATLAB's
    ``knnsearch``). Built here on a dense :math:`N \times N` distance matrix (the data sets have
    at most a few hundred nodes) because the exact tie-breaking and :math:`\sigma` convention
    must match the stored graphs; see ``docs/timegnn.md`` for how
    :func:`graphsmooth.graph.knn_graph` compares.

    Args:
        pos (Tensor): ``[N, d]`` coordinates.
        k (int): neighbours per node.

    Returns:
        ``(edge_index [2, E], edge_weight [E], sigma)``.
    """
    pos = pos.to(torch.float64)
    n = pos.size(0)
    if not 1 <= k < n:
        raise ValueError(f"gspbox_knn_graph: k must be in [1, {n - 1}], got {k}")
    # GSPBox averages the whole [N, k+1] distance table, the zero self-distance included:
    # sigma = k / (k + 1) * (mean kNN distance); the graph itself is the graph layer's kNN
    # graph (ties to the lower index, as MATLAB's knnsearch) with union symmetrisation
    knn_d = torch.cdist(pos, pos).sort(dim=1, stable=True).values[:, : k + 1]
    sigma = float(knn_d.mean())
    ei, w = knn_graph(pos, k, sigma=sigma, symmetrize="max")
    return ei, w, sigma


def _dense_to_edges(w: np.ndarray) -> tuple[Tensor, Tensor]:
    w = np.asarray(w, dtype=np.float64)
    if w.shape[0] != w.shape[1] or not np.allclose(w, w.T):
        raise ValueError("load_timegnn_signal: stored adjacency is not square and symmetric")
    np.fill_diagonal(w, 0.0)
    idx = np.stack(np.nonzero(w))
    return torch.from_numpy(idx).long(), torch.from_numpy(w[idx[0], idx[1]])


def load_timegnn_signal(
    name: str,
    root: str | None = None,
    *,
    graph: str | None = None,
    k: int | None = None,
    num_steps: int | None = None,
    noisy: bool = False,
    dtype: torch.dtype = torch.float64,
) -> TimeVaryingSignal:
    r"""Load one of the TimeGNN/GraphTRSS time-varying signals.

    Args:
        name (str): ``"sst"``, ``"pm25"``, ``"intel"`` or ``"synthetic"``.
        root (str, optional): data root holding ``timegnn/``. (default: ``$GRAPHSMOOTH_DATA``)
        graph (str, optional): ``"knn"``, ``"graphtrss"``, ``"polynomial"``, ``"attention"``,
            ``"stored"`` (see module docstring). (default: ``None`` = ``"knn"`` when positions
            exist, else ``"polynomial"``)
        k (int, optional): neighbours for ``graph="knn"``. (default: 10 for sst/pm25, 5 for
            synthetic)
        num_steps (int, optional): keep the first ``num_steps`` columns. (default: the papers'
            600 / 220 / 600 / 600)
        noisy (bool, optional): synthetic only: add the stored ``noise`` matrix. (default: ``False``)
        dtype (torch.dtype, optional): dtype of ``signal``. (default: ``torch.float64``)

    Returns:
        :class:`TimeVaryingSignal`. ``valid`` is ``signal > 0`` for pm25 (GraphTRSS's
        ``good_data``: 0 marks a missing day, and the few negative readings are dropped too),
        all ``True`` otherwise.
    """
    import scipy.io as sio

    if name not in TIMEGNN_SIGNALS:
        raise ValueError(
            f"load_timegnn_signal: unknown signal {name!r}; valid names: {sorted(TIMEGNN_SIGNALS)}"
        )
    spec = TIMEGNN_SIGNALS[name]
    base = _timegnn_root(root)
    pos = None
    stored_w = None
    if spec["mat"] is not None:
        folder, fname, var = spec["mat"]
        mat = sio.loadmat(os.path.join(base, "graphtrss_mat", folder, fname))
        data = np.asarray(mat[var], dtype=np.float64)
        if noisy:
            if name != "synthetic":
                raise ValueError("load_timegnn_signal: noisy=True exists only for 'synthetic'")
            data = data + np.asarray(mat["noise"], dtype=np.float64)
        pos = torch.from_numpy(np.asarray(mat["Position"], dtype=np.float64))
        if name == "synthetic":
            stored_w = np.asarray(mat["W"], dtype=np.float64)
    else:
        import h5py

        with h5py.File(
            os.path.join(base, "gegengnn_hdf", "polynomial", spec["hdf"], "dataset.hdf")
        ) as f:
            data = np.asarray(f["data"][()], dtype=np.float64)
    steps = spec["steps"] if num_steps is None else num_steps
    if not 2 <= steps <= data.shape[1]:
        raise ValueError(
            f"load_timegnn_signal: num_steps must be in [2, {data.shape[1]}] for {name!r}, got {steps}"
        )
    data = data[:, :steps]
    signal = torch.from_numpy(np.ascontiguousarray(data)).to(dtype)
    valid = signal > 0 if name == "pm25" else torch.ones_like(signal, dtype=torch.bool)

    if graph is None:
        graph = "knn" if pos is not None else "polynomial"
    if graph not in _GRAPHS:
        raise ValueError(f"load_timegnn_signal: unknown graph {graph!r}; valid: {list(_GRAPHS)}")
    if graph == "knn":
        if pos is None:
            raise ValueError(
                f"load_timegnn_signal: {name!r} has no node positions; use graph='polynomial'"
            )
        kk = spec["k"] if k is None else k
        edge_index, edge_weight, _ = gspbox_knn_graph(pos, kk)
    elif graph == "graphtrss":
        if name not in ("sst", "pm25"):
            raise ValueError(f"load_timegnn_signal: no stored GraphTRSS graph for {name!r}")
        g = sio.loadmat(os.path.join(base, "graphtrss_mat", spec["mat"][0], "full_graph.mat"))
        edge_index, edge_weight = _dense_to_edges(g["G"][0, 0]["W"].toarray())
    elif graph in ("polynomial", "attention"):
        if spec["hdf"] is None:
            raise ValueError(f"load_timegnn_signal: no GegenGNN graph for {name!r}")
        import h5py

        with h5py.File(os.path.join(base, "gegengnn_hdf", graph, spec["hdf"], "dataset.hdf")) as f:
            edge_index, edge_weight = _dense_to_edges(f["W"][()])
    else:  # stored
        if stored_w is None:
            raise ValueError("load_timegnn_signal: graph='stored' exists only for 'synthetic'")
        edge_index, edge_weight = _dense_to_edges(stored_w)
    return TimeVaryingSignal(name, signal, valid, pos, edge_index, edge_weight, graph)
