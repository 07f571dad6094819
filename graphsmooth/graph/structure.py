r"""Canonical simple undirected graphs on ``edge_index`` and input validation.

Every module of graphsmooth that needs an undirected graph goes through :func:`simple_undirected`:
self loops are dropped, both directions are present, duplicates are merged, and columns are
sorted by ``(row, col)``. ``num_nodes`` is kept explicitly so that isolated nodes survive.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

__all__ = ["check_edge_index", "simple_undirected", "is_undirected", "undirected_pairs"]

_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def check_edge_index(
    edge_index: Tensor,
    num_nodes: int | None = None,
    edge_weight: Tensor | None = None,
) -> int:
    r"""Validate an ``edge_index`` (and optional weights) and return the number of nodes.

    Args:
        edge_index (torch.Tensor): integer tensor of shape ``[2, E]``.
        num_nodes (int, optional): number of nodes; inferred as ``max(edge_index) + 1`` when
            ``None`` (0 for an empty edge set). (default: ``None``)
        edge_weight (torch.Tensor, optional): weights of shape ``[E]``; must be finite.
            (default: ``None``)

    Returns:
        int: the number of nodes.

    Raises:
        ValueError: on a wrong type, shape or dtype, negative or out-of-range indices, a bad
            ``num_nodes``, or weights of the wrong shape or containing NaN / infinity.
    """
    if not isinstance(edge_index, Tensor):
        raise ValueError(
            f"edge_index must be a torch.Tensor of shape [2, E], got {type(edge_index).__name__}"
        )
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.dtype not in _INT_DTYPES:
        raise ValueError(f"edge_index must have an integer dtype, got {edge_index.dtype}")
    num_edges = edge_index.size(1)
    if num_nodes is not None:
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 0:
            raise ValueError(f"num_nodes must be a non-negative int, got {num_nodes!r}")
    if num_edges > 0:
        lo = int(edge_index.min())
        hi = int(edge_index.max())
        if lo < 0:
            raise ValueError(f"edge_index contains a negative node index ({lo})")
        if num_nodes is None:
            num_nodes = hi + 1
        elif hi >= num_nodes:
            raise ValueError(
                f"edge_index contains node index {hi}, out of range for num_nodes={num_nodes}"
            )
    elif num_nodes is None:
        num_nodes = 0
    if edge_weight is not None:
        if not isinstance(edge_weight, Tensor):
            raise ValueError("edge_weight must be a torch.Tensor of shape [E]")
        if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
            raise ValueError(
                f"edge_weight must have shape [{num_edges}] to match edge_index, "
                f"got {tuple(edge_weight.shape)}"
            )
        if not torch.is_floating_point(edge_weight):
            raise ValueError(f"edge_weight must be a floating tensor, got {edge_weight.dtype}")
        if num_edges and not bool(torch.isfinite(edge_weight).all()):
            n_bad = int((~torch.isfinite(edge_weight)).sum())
            raise ValueError(f"edge_weight contains {n_bad} NaN or infinite value(s)")
    return int(num_nodes)


def _sorted_keys(row: Tensor, col: Tensor, num_nodes: int) -> Tensor:
    return row * max(num_nodes, 1) + col


def is_undirected(
    edge_index: Tensor, num_nodes: int | None = None, edge_weight: Tensor | None = None
) -> bool:
    """Whether every edge ``(u, v)`` has its reverse ``(v, u)`` (with the same weight).

    Duplicated columns are merged by summing their weights before the comparison (PyG's
    ``coalesce`` convention).
    """
    n = check_edge_index(edge_index, num_nodes, edge_weight)
    ei = edge_index.long()
    key = _sorted_keys(ei[0], ei[1], n)
    rkey = _sorted_keys(ei[1], ei[0], n)
    uk, inv = torch.unique(key, return_inverse=True)
    urk, rinv = torch.unique(rkey, return_inverse=True)
    if uk.numel() != urk.numel() or not torch.equal(uk, urk):
        return False
    if edge_weight is None:
        return True
    w = torch.zeros(uk.numel(), dtype=edge_weight.dtype).index_add_(0, inv, edge_weight)
    rw = torch.zeros(urk.numel(), dtype=edge_weight.dtype).index_add_(0, rinv, edge_weight)
    return bool(torch.allclose(w, rw))


def simple_undirected(
    edge_index: Tensor,
    num_nodes: int | None = None,
    edge_weight: Tensor | None = None,
    *,
    on_directed: str = "symmetrize",
    reduce: str = "max",
) -> tuple[Tensor, Tensor | None, int]:
    r"""Canonical simple undirected graph: symmetrise, coalesce, drop self loops.

    The result holds both directions of every undirected edge, sorted by ``(row, col)``, so
    ``out[:, out[0] < out[1]]`` lists each undirected edge once.

    Args:
        edge_index (torch.Tensor): ``[2, E]`` integer tensor.
        num_nodes (int, optional): number of nodes (isolated nodes are kept). (default: ``None``)
        edge_weight (torch.Tensor, optional): ``[E]`` weights. Duplicates and the two directions
            of an edge are merged with ``reduce``. (default: ``None``)
        on_directed (str): what to do when the input is not symmetric: ``"symmetrize"`` (silently
            add reverse edges), ``"warn"`` (symmetrise with a :class:`UserWarning`) or
            ``"error"`` (raise :class:`ValueError`). (default: ``"symmetrize"``)
        reduce (str): how to merge weights of duplicates, ``"max"``, ``"min"``, ``"mean"`` or
            ``"sum"``. (default: ``"max"``)

    Returns:
        (edge_index, edge_weight, num_nodes): ``edge_index`` of shape ``[2, 2E]`` (``long``),
        the merged weights (or ``None``) and the number of nodes.
    """
    if on_directed not in ("symmetrize", "warn", "error"):
        raise ValueError(
            f"on_directed must be 'symmetrize', 'warn' or 'error', got {on_directed!r}"
        )
    if reduce not in ("max", "min", "mean", "sum"):
        raise ValueError(f"reduce must be 'max', 'min', 'mean' or 'sum', got {reduce!r}")
    n = check_edge_index(edge_index, num_nodes, edge_weight)
    ei = edge_index.long()
    keep = ei[0] != ei[1]
    ei = ei[:, keep]
    w = edge_weight[keep] if edge_weight is not None else None
    if on_directed != "symmetrize" and not is_undirected(ei, n, w):
        msg = (
            "edge_index is directed (some edge (u, v) lacks its reverse (v, u)"
            + (" or has a different weight" if w is not None else "")
            + ")"
        )
        if on_directed == "error":
            raise ValueError(msg + "; an undirected graph is required")
        warnings.warn(msg + "; symmetrising it", UserWarning, stacklevel=2)
    row = torch.cat([ei[0], ei[1]])
    col = torch.cat([ei[1], ei[0]])
    key = _sorted_keys(row, col, n)
    if w is None:  # no weights to merge: a plain sort-unique is cheaper than with the inverse
        ukey = torch.unique(key, sorted=True)
        return torch.stack([ukey // max(n, 1), ukey % max(n, 1)]), None, n
    ukey, inv = torch.unique(key, sorted=True, return_inverse=True)
    out = torch.stack([ukey // max(n, 1), ukey % max(n, 1)])
    out_w = None
    if w is not None:
        ww = torch.cat([w, w])
        amax = {"max": "amax", "min": "amin", "mean": "mean", "sum": "sum"}[reduce]
        out_w = torch.zeros(ukey.numel(), dtype=w.dtype).scatter_reduce(
            0, inv, ww, reduce=amax, include_self=False
        )
    return out, out_w, n


def undirected_pairs(edge_index: Tensor) -> Tensor:
    """One column ``(u, v)`` with ``u < v`` per undirected edge of a simple undirected graph."""
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    return edge_index[:, edge_index[0] < edge_index[1]]
