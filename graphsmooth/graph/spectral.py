r"""Graph Laplacians, kNN graphs from coordinates, and the Dirichlet energy.

.. math::
    L = D - W, \qquad
    L_{\mathrm{sym}} = I - D^{-1/2} W D^{-1/2}, \qquad
    L_{\mathrm{rw}} = I - D^{-1} W,

with :math:`D = \operatorname{diag}(W \mathbf{1})`. For nodes of zero degree the normalised
Laplacians have a zero row (networkx's convention).
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphsmooth.graph.structure import check_edge_index

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
    normalization: str | None = None,
) -> Tensor:
    r"""Dirichlet energy of node features :math:`X`.

    .. math::
        E(X) = \frac{1}{2} \sum_{(i, j)} w_{ij}\,
        \left\lVert \frac{x_i}{\sqrt{\tilde d_i}} - \frac{x_j}{\sqrt{\tilde d_j}} \right\rVert^2

    over the columns of ``edge_index`` (both directions of an undirected edge, so this equals
    :math:`\operatorname{tr}(X^\top L X)` for ``normalization=None``, where
    :math:`\tilde d_i = 1`); with ``normalization="sym"``, :math:`\tilde d_i = 1 + d_i` (the
    degree with a self loop, as in over-smoothing studies; Cai & Wang 2020, Rusch et al. 2023).
    """
    if normalization not in (None, "sym"):
        raise ValueError(f"normalization must be None or 'sym', got {normalization!r}")
    n = check_edge_index(edge_index, x.size(0), edge_weight)
    ei = edge_index.long()
    xs = x
    if normalization == "sym":
        deg = torch.zeros(n, dtype=x.dtype, device=x.device).index_add_(
            0,
            ei[0],
            torch.ones(ei.size(1), dtype=x.dtype, device=x.device)
            if edge_weight is None
            else edge_weight.to(x.dtype),
        )
        xs = x / (1.0 + deg).sqrt().unsqueeze(-1)
    diff = (xs[ei[0]] - xs[ei[1]]).pow(2).reshape(ei.size(1), -1).sum(-1)
    if edge_weight is not None:
        diff = diff * edge_weight.to(diff.dtype)
    return 0.5 * diff.sum()
