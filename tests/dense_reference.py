"""Dense numpy references shared by the TimeGNN / recovery tests (independent of the library)."""

from __future__ import annotations

import numpy as np
import torch


def random_weighted_graph(
    n: int, p: float, seed: int, low: float = 0.2, path_weight: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Random symmetric weighted graph with a path that keeps it connected: (edge_index, w, W)."""
    rng = np.random.default_rng(seed)
    w = np.triu(rng.uniform(low, 1.0, (n, n)) * (rng.uniform(size=(n, n)) < p), 1)
    w[np.arange(n - 1), np.arange(1, n)] = path_weight
    w = w + w.T
    idx = np.stack(np.nonzero(w))
    return torch.from_numpy(idx), torch.from_numpy(w[idx[0], idx[1]]), w


def dense_dh(t: int, order: int) -> np.ndarray:
    """Dense T x (T - order) difference matrix: Dh[t, t] = -1, Dh[t + 1, t] = 1, composed."""
    out = np.eye(t)
    for _ in range(order):
        m = out.shape[1]
        d = np.zeros((m, m - 1))
        d[np.arange(m - 1), np.arange(m - 1)] = -1.0
        d[np.arange(1, m), np.arange(m - 1)] = 1.0
        out = out @ d
    return out
