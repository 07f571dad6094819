"""Independent references: networkx shortest paths + POT exact OT, one problem per edge."""

from __future__ import annotations

import networkx as nx
import numpy as np
import ot
import torch


def measure(G: nx.Graph, x, alpha: float):
    nb = sorted(G.neighbors(x))
    sup = nb + ([x] if alpha > 0 else [])
    w = [(1 - alpha) / len(nb)] * len(nb) + ([alpha] if alpha > 0 else [])
    return sup, np.array(w, dtype=np.float64)


def pot_curvature(G: nx.Graph, alpha: float = 0.0) -> dict[tuple[int, int], float]:
    """kappa(u, v) = 1 - W1 for every edge of G (keys (min, max))."""
    out = {}
    for u, v in G.edges():
        if u == v:
            continue
        su, a = measure(G, u, alpha)
        sv, b = measure(G, v, alpha)
        dist = {p: nx.single_source_shortest_path_length(G, p, cutoff=3) for p in su}
        C = np.array([[dist[p].get(q, 99) for q in sv] for p in su], dtype=np.float64)
        out[(min(u, v), max(u, v))] = 1.0 - float(ot.emd2(a, b, C))
    return out


def to_edge_index(G: nx.Graph) -> torch.Tensor:
    e = torch.tensor([(u, v) for u, v in G.edges() if u != v], dtype=torch.long).reshape(-1, 2).T
    return torch.cat([e, e.flip(0)], 1)
