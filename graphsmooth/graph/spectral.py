r"""Graph Laplacians, kNN graphs from coordinates, and the Dirichlet energy.

.. math::
    L = D - W, \qquad
    L_{\mathrm{sym}} = I - D^{-1/2} W D^{-1/2}, \qquad
    L_{\mathrm{rw}} = I - D^{-1} W,

with :math:`D = \operatorname{diag}(W \mathbf{1})`. For nodes of zero degree the normalised
Laplacians have a zero row (networkx's convention).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from graphsmooth.graph.structure import check_edge_index, is_undirected

__all__ = ["laplacian", "knn_graph", "dirichlet_energy"]


def laplacian(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    normalization: str | None = None,
    dense: bool = False,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    r"""Combinatorial or normalised Laplacian of the (weighted) graph given by ``edge_index``.

    ``edge_index`` is used as given: pass both directions of every undirected edge (e.g. from
    :func:`~graphsmooth.graph.simple_undirected`). Degrees are row sums of :math:`W`.

    Args:
        edge_index (torch.Tensor): ``[2, E]``.
        edge_weight (torch.Tensor, optional): ``[E]`` weights (default: all ones).
        num_nodes (int, optional): number of nodes. (default: ``None``)
        normalization (str, optional): ``None`` for :math:`D - W`, ``"sym"`` for
            :math:`I - D^{-1/2} W D^{-1/2}`, ``"rw"`` for :math:`I - D^{-1} W`. (default: ``None``)
        dense (bool): return a dense matrix instead of a coalesced sparse COO. (default: ``False``)
        dtype (torch.dtype): output dtype. (default: ``torch.float64``)

    Shapes:
        output: ``[N, N]``.
    """
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"normalization must be None, 'sym' or 'rw', got {normalization!r}")
    n = check_edge_index(edge_index, num_nodes, edge_weight)
    ei = edge_index.long()
    w = (
        torch.ones(ei.size(1), dtype=dtype, device=ei.device)
        if edge_weight is None
        else edge_weight.to(dtype)
    )
    deg = torch.zeros(n, dtype=dtype, device=ei.device).index_add_(0, ei[0], w)
    idx = torch.arange(n, device=ei.device)
    if normalization is None:
        off = -w
        diag = deg
    else:
        pos = deg > 0
        if normalization == "sym":
            dis = torch.where(pos, deg.clamp(min=1e-300).rsqrt(), torch.zeros_like(deg))
            off = -dis[ei[0]] * w * dis[ei[1]]
        else:
            di = torch.where(pos, 1.0 / deg.clamp(min=1e-300), torch.zeros_like(deg))
            off = -di[ei[0]] * w
        diag = pos.to(dtype)
    rows = torch.cat([ei[0], idx])
    cols = torch.cat([ei[1], idx])
    vals = torch.cat([off, diag])
    L = torch.sparse_coo_tensor(
        torch.stack([rows, cols]), vals, (n, n), check_invariants=False
    ).coalesce()
    return L.to_dense() if dense else L


def knn_graph(
    pos: Tensor,
    k: int,
    sigma: float | None = None,
    symmetrize: str = "average",
    loop: bool = False,
) -> tuple[Tensor, Tensor]:
    r"""k-nearest-neighbour graph on coordinates with Gaussian weights.

    Each node is linked to its ``k`` nearest other nodes (Euclidean distance, ties broken by
    index) with weight

    .. math::
        W_{ij} = \exp\!\left(-\frac{d_{ij}^2}{\sigma^2}\right),
        \qquad \sigma = \frac{1}{Nk}\sum_i \sum_{j \in \mathrm{kNN}(i)} d_{ij}
        \ \text{(default)},

    then symmetrised (``"average"``: :math:`(W + W^\top)/2`, as GSPBox's ``gsp_nn_graph``;
    ``"max"``: union; ``"min"``: mutual kNN only).

    Args:
        pos (torch.Tensor): ``[N, d]`` coordinates.
        k (int): neighbours per node, ``1 <= k < N``.
        sigma (float, optional): kernel width; the mean kNN distance when ``None``.
        symmetrize (str): ``"average"``, ``"max"`` or ``"min"``. (default: ``"average"``)
        loop (bool): keep self loops with weight 1. (default: ``False``)

    Returns:
        (edge_index, edge_weight): both directions, sorted by ``(row, col)``.
    """
    if not isinstance(pos, Tensor) or pos.dim() != 2:
        raise ValueError(f"pos must be a [N, d] tensor, got {getattr(pos, 'shape', type(pos))}")
    if not bool(torch.isfinite(pos).all()):
        raise ValueError("pos contains NaN or infinite coordinates")
    n = pos.size(0)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < n:
        raise ValueError(f"k must be an int with 1 <= k < N={n}, got {k!r}")
    if symmetrize not in ("average", "max", "min"):
        raise ValueError(f"symmetrize must be 'average', 'max' or 'min', got {symmetrize!r}")
    p = pos.to(torch.float64)
    d2 = torch.cdist(p, p).pow(2)
    d2.fill_diagonal_(float("inf"))
    # ties broken by the lower index (as MATLAB's knnsearch): a stable sort, not topk
    d2s, order = torch.sort(d2, dim=1, stable=True)
    dist_k, nbr = d2s[:, :k], order[:, :k]
    dist_k = dist_k.clamp(min=0).sqrt()
    if sigma is None:
        sigma = float(dist_k.mean())
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    w = torch.exp(-(dist_k**2) / sigma**2)
    W = torch.zeros(n, n, dtype=torch.float64)
    W.scatter_(1, nbr, w)
    if symmetrize == "average":
        W = (W + W.T) / 2
    elif symmetrize == "max":
        W = torch.maximum(W, W.T)
    else:
        W = torch.minimum(W, W.T)
    if loop:
        W.fill_diagonal_(1.0)
    idx = W.nonzero(as_tuple=False).T
    return idx.contiguous(), W[idx[0], idx[1]]


def dirichlet_energy(
    x: Tensor,
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    normalization: str | None = None,
    reduction: str = "sum",
) -> Tensor:
    r"""Dirichlet energy of node features, :math:`\operatorname{tr}(X^\top L X)`.

    ``edge_index`` lists every undirected edge in both directions (PyG convention), so

    .. math::
        E(X) = \frac{1}{2} \sum_{(j, i) \in \mathcal{E}} w_{ij}
        \left\| \frac{x_i}{\sqrt{\delta_i}} - \frac{x_j}{\sqrt{\delta_j}} \right\|^2

    with :math:`\delta \equiv 1` for ``normalization=None`` (combinatorial Laplacian
    :math:`D - W`) and :math:`\delta_i = 1 + d_i` for ``"sym"`` (the Laplacian of the GCN operator
    :math:`I - \hat D^{-1/2} \hat A \hat D^{-1/2}`, as in Cai & Wang 2020 and Rusch et al. 2023).
    Over-smoothing shows as this energy decaying to zero with depth. Self loops are ignored. A
    directed ``edge_index`` (an edge without its reverse, as in the geom-gcn Wikipedia graphs) is
    symmetrised with a :class:`UserWarning` (reverse edges added, the two weights of an edge
    averaged).

    Args:
        x (torch.Tensor): ``[N, C]`` features.
        edge_index (torch.Tensor): ``[2, E]``, both directions of each undirected edge.
        edge_weight (torch.Tensor, optional): ``[E]`` weights. (default: ``None`` = ones)
        num_nodes (int, optional): :math:`N`. (default: ``x.size(0)``)
        normalization (str, optional): ``None`` or ``"sym"``. (default: ``None``)
        reduction (str): ``"sum"`` for the trace, ``"mean"`` divides it by :math:`N`.
            (default: ``"sum"``)

    Returns:
        torch.Tensor: a scalar (differentiable in ``x``).
    """
    if normalization not in (None, "sym"):
        raise ValueError(
            f"dirichlet_energy: normalization must be None or 'sym', got {normalization!r}"
        )
    if reduction not in ("sum", "mean"):
        raise ValueError(f"dirichlet_energy: reduction must be 'sum' or 'mean', got {reduction!r}")
    n = x.size(0) if num_nodes is None else num_nodes
    check_edge_index(edge_index, n, edge_weight)
    keep = edge_index[0] != edge_index[1]
    ei = edge_index[:, keep].long()
    w = (
        torch.ones(ei.size(1), dtype=x.dtype, device=x.device)
        if edge_weight is None
        else edge_weight[keep].to(x.dtype)
    )
    if not is_undirected(ei, n, w):
        # one direction of an edge (or unequal weights) is no Laplacian's quadratic form: with
        # "sym" the quotient E / |X|^2 could exceed 2. Use the symmetrisation (mean weight).
        from torch_geometric.utils import to_undirected

        warnings.warn(
            "dirichlet_energy: edge_index is directed (some edge lacks its reverse, or the two "
            "directions have different weights); using its symmetrisation",
            UserWarning,
            stacklevel=2,
        )
        ei, w = to_undirected(ei, w, n, reduce="mean")
    src, dst = ei[0], ei[1]
    if normalization == "sym":
        deg = torch.zeros(n, dtype=x.dtype, device=x.device).index_add_(0, dst, w) + 1.0
        x = x * deg.rsqrt().unsqueeze(-1)
    diff = (x[dst] - x[src]).pow(2).reshape(ei.size(1), -1).sum(-1)
    energy = 0.5 * (w * diff).sum()
    return energy / n if reduction == "mean" else energy
