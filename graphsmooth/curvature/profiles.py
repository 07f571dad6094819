r"""Local Curvature Profiles (LCP) as a PyG transform.

From `"Effective Structural Encodings via Local Curvature Profiles"
<https://arxiv.org/abs/2311.14864>`_ (Fesser & Weber, ICLR 2024): every node :math:`v` gets the
summary statistics of the Ollivier-Ricci curvatures of its edges,

.. math::
    \mathrm{LCP}(v) = \big[\min, \max, \operatorname{mean}, \operatorname{std},
    \operatorname{median}\big] \{\kappa(u, v) : u \sim v\},

with the population standard deviation and the median of numpy (mean of the two middle values
for an even count); isolated nodes get zeros (authors' code). The combinatorial variant
(Appendix A.1.3 / A.4) replaces exact curvature by the Jost-Liu bounds and keeps two features,
:math:`[\min_u \mathrm{LB}(u, v), \max_u \mathrm{UB}(u, v)]`.

Curvature is local, so a disjoint union of graphs (a PyG ``Batch``) is processed in one call:
:meth:`LocalCurvatureProfile.transform_list` encodes a whole list of graphs at once.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.data.datapipes import functional_transform
from torch_geometric.transforms import BaseTransform

from graphsmooth.curvature.ollivier import _resolve_workers, ollivier_ricci

__all__ = ["LocalCurvatureProfile", "local_curvature_profile", "segment_stats"]

LCP_METHODS = ("exact", "combinatorial")


def segment_stats(index: Tensor, values: Tensor, num_segments: int) -> Tensor:
    r"""``[num_segments, 5]`` min, max, mean, population std and median of ``values`` grouped
    by ``index`` (zeros for empty segments), vectorised (one sort, no loop over segments)."""
    out = torch.zeros(num_segments, 5, dtype=values.dtype, device=values.device)
    if values.numel() == 0:
        return out
    order = torch.argsort(values, stable=True)
    order = order[torch.argsort(index[order], stable=True)]
    idx, val = index[order], values[order]
    cnt = torch.bincount(idx, minlength=num_segments)
    start = torch.cumsum(cnt, 0) - cnt
    has = cnt > 0
    c = cnt.clamp(min=1)
    s = torch.zeros(num_segments, dtype=values.dtype, device=values.device).index_add_(0, idx, val)
    mean = s / c
    var = torch.zeros_like(s).index_add_(0, idx, (val - mean[idx]) ** 2) / c  # population variance
    first, last = start, start + c - 1
    lo_mid = start + (c - 1) // 2
    hi_mid = start + c // 2
    safe = lambda t: t.clamp(max=max(val.numel() - 1, 0))  # noqa: E731
    stats = torch.stack(
        [
            val[safe(first)],
            val[safe(last)],
            mean,
            var.sqrt(),
            0.5 * (val[safe(lo_mid)] + val[safe(hi_mid)]),
        ],
        dim=1,
    )
    out[has] = stats[has]
    return out


def local_curvature_profile(
    edge_index: Tensor,
    num_nodes: int | None = None,
    method: str = "exact",
    alpha: float = 0.0,
    workers: int = 1,
) -> Tensor:
    r"""LCP features of every node: ``float64 [N, 5]`` (``method="exact"``) or ``[N, 2]``
    (``method="combinatorial"``: min of Jost-Liu lower bounds, max of upper bounds).

    Args:
        edge_index (torch.Tensor): ``[2, E]`` edges (made simple and undirected).
        num_nodes (int, optional): number of nodes. (default: ``None``)
        method (str): ``"exact"`` or ``"combinatorial"``. (default: ``"exact"``)
        alpha (float): idleness of the random walk. (default: ``0.0``)
        workers (int): processes for the exact curvature of a large graph
            (:func:`~graphsmooth.curvature.ollivier_ricci`). (default: ``1``)
    """
    if method not in LCP_METHODS:
        raise ValueError(f"method must be one of {LCP_METHODS}, got {method!r}")
    res = ollivier_ricci(
        edge_index,
        num_nodes,
        alpha=alpha,
        method="exact" if method == "exact" else "bounds",
        workers=workers,
    )
    n = res.num_nodes
    node = torch.cat([res.pairs[0], res.pairs[1]])
    if method == "exact":
        k = res.pair_curvature
        return segment_stats(node, torch.cat([k, k]), n)
    lo, up = res.pair_lower, res.pair_upper
    out = torch.zeros(n, 2, dtype=torch.float64, device=edge_index.device)
    if node.numel():
        has = torch.bincount(node, minlength=n) > 0
        mn = torch.full((n,), float("inf"), dtype=torch.float64, device=edge_index.device)
        mx = torch.full((n,), float("-inf"), dtype=torch.float64, device=edge_index.device)
        mn.scatter_reduce_(0, node, torch.cat([lo, lo]), reduce="amin")
        mx.scatter_reduce_(0, node, torch.cat([up, up]), reduce="amax")
        out[has, 0] = mn[has]
        out[has, 1] = mx[has]
    return out


@functional_transform("local_curvature_profile")
class LocalCurvatureProfile(BaseTransform):
    r"""Adds the Local Curvature Profile from `"Effective Structural Encodings via Local
    Curvature Profiles" <https://arxiv.org/abs/2311.14864>`_ (functional name:
    :obj:`local_curvature_profile`).

    .. math::
        \mathrm{LCP}(v) = [\min, \max, \operatorname{mean}, \operatorname{std},
        \operatorname{median}]\{\kappa_\alpha(u, v) : u \sim v\}

    Args:
        attr_name (str, optional): attribute to store the ``[N, F]`` encoding in; ``None``
            concatenates it to ``data.x`` (created when absent), as the paper does.
            (default: ``None``)
        method (str): ``"exact"`` (5 features) or ``"combinatorial"`` (2 features: min of the
            Jost-Liu lower bounds, max of the upper bounds). (default: ``"exact"``)
        alpha (float): idleness of the random walk (the paper uses 0). (default: ``0.0``)
        workers (int): processes for the exact curvature of large graphs (forked, Linux; the
            values do not depend on it). (default: ``1``)

    The features are cast to ``data.x``'s dtype when concatenated (``float32`` when stored in a
    new attribute). Works as ``pre_transform`` of a TUDataset; for a list of graphs,
    :meth:`transform_list` encodes all of them in one curvature call.
    """

    def __init__(
        self,
        attr_name: str | None = None,
        method: str = "exact",
        alpha: float = 0.0,
        workers: int = 1,
    ) -> None:
        if method not in LCP_METHODS:
            raise ValueError(
                f"LocalCurvatureProfile: method must be one of {LCP_METHODS}, got {method!r}"
            )
        if not (0.0 <= float(alpha) < 1.0):
            raise ValueError(f"LocalCurvatureProfile: alpha must be in [0, 1), got {alpha}")
        self.attr_name = attr_name
        self.method = method
        self.alpha = float(alpha)
        _resolve_workers(workers)  # a bad value fails here, not at the first graph
        self.workers = workers

    @property
    def num_features(self) -> int:
        return 5 if self.method == "exact" else 2

    def _add(self, data: Data, value: Tensor) -> Data:
        if self.attr_name is None:
            if data.x is not None:
                x = data.x.view(-1, 1) if data.x.dim() == 1 else data.x
                data.x = torch.cat([x, value.to(x.device, x.dtype)], dim=-1)
            else:
                data.x = value.float()
        else:
            data[self.attr_name] = value.float()
        return data

    @torch.no_grad()
    def forward(self, data: Data) -> Data:
        assert data.edge_index is not None
        lcp = local_curvature_profile(
            data.edge_index, data.num_nodes, self.method, self.alpha, self.workers
        )
        return self._add(data, lcp)

    @torch.no_grad()
    def transform_list(self, data_list: list[Data]) -> list[Data]:
        """Encode many graphs with one curvature call on their disjoint union."""
        if not data_list:
            return []
        batch = Batch.from_data_list(data_list)
        lcp = local_curvature_profile(
            batch.edge_index, batch.num_nodes, self.method, self.alpha, self.workers
        )
        sizes = (batch.ptr[1:] - batch.ptr[:-1]).tolist()
        parts = torch.split(lcp, sizes)
        return [self._add(copy.copy(d), x) for d, x in zip(data_list, parts, strict=True)]

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(attr_name={self.attr_name!r}, method={self.method!r}, "
            f"alpha={self.alpha})"
        )
