"""Interoperability with networkx and scipy.sparse."""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from graphsmooth.graph.structure import check_edge_index

__all__ = ["to_networkx", "from_networkx", "to_scipy", "from_scipy"]


def to_networkx(
    edge_index: Tensor,
    num_nodes: int | None = None,
    edge_weight: Tensor | None = None,
    directed: bool = False,
) -> nx.Graph:
    """A networkx (Di)Graph with nodes ``0..N-1`` (isolated ones included).

    Weights, when given, are stored in the ``"weight"`` edge attribute.
    """
    n = check_edge_index(edge_index, num_nodes, edge_weight)
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(n))
    ei = edge_index.long().tolist()
    if edge_weight is None:
        G.add_edges_from(zip(ei[0], ei[1], strict=True))
    else:
        G.add_weighted_edges_from(zip(ei[0], ei[1], edge_weight.tolist(), strict=True))
    return G


def from_networkx(
    G: nx.Graph, weight: str | None = None
) -> tuple[Tensor, Tensor | None, int, list]:
    """Convert a networkx graph; nodes are relabelled ``0..N-1`` in ``G.nodes`` order.

    Returns:
        (edge_index, edge_weight, num_nodes, nodes): undirected graphs give both directions;
        ``edge_weight`` is read from attribute ``weight`` (``None`` when ``weight`` is ``None``);
        ``nodes[i]`` is the original label of node ``i``.
    """
    nodes = list(G.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    src, dst, ws = [], [], []
    for a, b, data in G.edges(data=True):
        w = float(data.get(weight, 1.0)) if weight is not None else 1.0
        src.append(index[a])
        dst.append(index[b])
        ws.append(w)
        if not G.is_directed() and a != b:
            src.append(index[b])
            dst.append(index[a])
            ws.append(w)
    ei = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    ew = torch.tensor(ws, dtype=torch.float64) if weight is not None else None
    return ei, ew, len(nodes), nodes


def to_scipy(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
) -> sp.csr_matrix:
    """A ``scipy.sparse.csr_matrix`` adjacency (duplicates summed)."""
    n = check_edge_index(edge_index, num_nodes, edge_weight)
    ei = edge_index.long().cpu().numpy()
    w = np.ones(ei.shape[1]) if edge_weight is None else edge_weight.detach().cpu().double().numpy()
    return sp.coo_matrix((w, (ei[0], ei[1])), shape=(n, n)).tocsr()


def from_scipy(A: sp.spmatrix) -> tuple[Tensor, Tensor]:
    """``(edge_index, edge_weight)`` from a scipy sparse matrix (explicit zeros dropped)."""
    if not sp.issparse(A):
        raise ValueError(f"expected a scipy sparse matrix, got {type(A).__name__}")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"adjacency must be square, got shape {A.shape}")
    C = sp.coo_matrix(A)
    keep = C.data != 0
    ei = torch.from_numpy(np.vstack([C.row[keep], C.col[keep]]).astype(np.int64))
    order = torch.argsort(ei[0] * max(A.shape[0], 1) + ei[1])
    return ei[:, order].contiguous(), torch.from_numpy(C.data[keep].astype(np.float64))[order]
