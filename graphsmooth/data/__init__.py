"""Datasets, standard splits, synthetic graphs and signal / sequence loaders.

Names are resolved lazily so that importing :mod:`graphsmooth.data` stays cheap (PyG's dataset
module is only imported when a dataset is loaded):

- :func:`load_dataset`, :func:`dataset_info`, :func:`available_datasets`, :data:`DATASETS` —
  benchmark datasets by name (Planetoid, WebKB, WikipediaNetwork, Actor, TUDataset).
- :func:`data_root`, :func:`cache_dir` — where raw data is read and processed data is cached.
- :func:`public_split`, :func:`geom_gcn_split`, :func:`random_node_split`,
  :func:`stratified_graph_split`, :func:`graph_kfold` — seeded, stratified splits.
- :func:`contextual_sbm`, :func:`ring_of_cliques`, :func:`barbell`, :func:`binary_tree`,
  :func:`barabasi_albert`, :func:`edge_homophily` — synthetic graphs needing no files.
- :func:`load_timegnn_signal` — time-varying graph signals (TimeGNN data sets).
- :func:`load_tube` — the London tube FHMM data.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "data_root": "graphsmooth.data.paths",
    "cache_dir": "graphsmooth.data.paths",
    "DATASETS": "graphsmooth.data.datasets",
    "DatasetInfo": "graphsmooth.data.datasets",
    "DatasetAvailability": "graphsmooth.data.datasets",
    "load_dataset": "graphsmooth.data.datasets",
    "dataset_info": "graphsmooth.data.datasets",
    "available_datasets": "graphsmooth.data.datasets",
    "NodeSplit": "graphsmooth.data.splits",
    "public_split": "graphsmooth.data.splits",
    "geom_gcn_split": "graphsmooth.data.splits",
    "random_node_split": "graphsmooth.data.splits",
    "stratified_graph_split": "graphsmooth.data.splits",
    "graph_kfold": "graphsmooth.data.splits",
    "contextual_sbm": "graphsmooth.data.synthetic",
    "ring_of_cliques": "graphsmooth.data.synthetic",
    "barbell": "graphsmooth.data.synthetic",
    "binary_tree": "graphsmooth.data.synthetic",
    "barabasi_albert": "graphsmooth.data.synthetic",
    "edge_homophily": "graphsmooth.data.synthetic",
    "load_timegnn_signal": "graphsmooth.data.signals",
    "load_tube": "graphsmooth.data.sequences",
    "TubeData": "graphsmooth.data.sequences",
    "simulate_fhmm": "graphsmooth.data.sequences",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'graphsmooth.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
