r"""Jost-Liu combinatorial bounds on Ollivier-Ricci curvature, vectorised over edges.

For an edge :math:`(u, v)` with degrees :math:`d_u, d_v` and :math:`\#` triangles
(Jost & Liu, "Ollivier's Ricci curvature, local clustering and curvature-dimension inequalities
on graphs", Discrete Comput. Geom. 2014; LCP paper, Appendix A.1.3), for :math:`\alpha = 0`:

.. math::
    \kappa(u, v) \ge -\Big(1 - \tfrac{1}{d_u} - \tfrac{1}{d_v} - \tfrac{\#}{d_u \wedge d_v}\Big)_+
    - \Big(1 - \tfrac{1}{d_u} - \tfrac{1}{d_v} - \tfrac{\#}{d_u \vee d_v}\Big)_+
    + \tfrac{\#}{d_u \vee d_v},
    \qquad \kappa(u, v) \le \tfrac{\#}{d_u \vee d_v}.

**Idleness** :math:`\alpha > 0` (derived here, not in the papers). :math:`m^\alpha_x` is affine in
:math:`\alpha` and :math:`W_1` is jointly convex, so :math:`\alpha \mapsto \kappa_\alpha` is
concave with :math:`\kappa_1 = 1 - W_1(\delta_u, \delta_v) = 0`; hence
:math:`\kappa_\alpha \ge (1 - \alpha)\, \kappa_0 \ge (1 - \alpha)\,\mathrm{LB}_0`. Every cost
between distinct points is at least 1, so :math:`W_1 \ge \mathrm{TV}(m^\alpha_u, m^\alpha_v)` and
:math:`\kappa_\alpha \le 1 - \mathrm{TV}`, computed in closed form from
:math:`d_u, d_v, \#, \alpha` (at :math:`\alpha = 0` this is exactly :math:`\# / (d_u \vee d_v)`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphsmooth.graph import CSR, common_neighbor_counts, simple_undirected, to_csr

__all__ = ["jost_liu_bounds", "pair_bounds"]


def pair_bounds(csr: CSR, u: Tensor, v: Tensor, alpha: float = 0.0) -> tuple[Tensor, Tensor]:
    r"""Lower and upper bounds (``float64 [P]``) for the edges ``(u[i], v[i])`` of ``csr``."""
    if not (0.0 <= alpha < 1.0):
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    deg = csr.deg.to(torch.float64)
    du, dv = deg[u], deg[v]
    tri = common_neighbor_counts(csr, u, v).to(torch.float64)
    dmin, dmax = torch.minimum(du, dv), torch.maximum(du, dv)
    base = 1.0 - 1.0 / du - 1.0 / dv
    lower = -(base - tri / dmin).clamp(min=0) - (base - tri / dmax).clamp(min=0) + tri / dmax
    a = float(alpha)
    lower = (1.0 - a) * lower
    # total variation between m_u and m_v (closed form)
    b = 1.0 - a
    tv = (
        (a - b / dv).clamp(min=0)  # at u
        + (b / du - a).clamp(min=0)  # at v
        + tri * (b / du - b / dv).clamp(min=0)  # common neighbours
        + (du - 1.0 - tri) * b / du  # neighbours of u only
    )
    upper = 1.0 - tv
    return lower, upper


def jost_liu_bounds(
    edge_index: Tensor, num_nodes: int | None = None, alpha: float = 0.0
) -> tuple[Tensor, Tensor]:
    r"""Jost-Liu lower and upper bounds on :math:`\kappa_\alpha` for every column of
    ``edge_index`` (``float64``; ``nan`` for self loops), on the simple undirected graph.

    Args:
        edge_index (torch.Tensor): ``[2, E]`` edges (symmetrised with a warning if directed).
        num_nodes (int, optional): number of nodes. (default: ``None``)
        alpha (float): idleness in ``[0, 1)``; for ``alpha > 0`` the laziness-aware bounds
            of the module docstring. (default: ``0.0``)

    Returns:
        (lower, upper)
    """
    ei, _, n = simple_undirected(edge_index, num_nodes, on_directed="warn")
    csr = to_csr(ei, n, canonical=False)
    a, b = edge_index[0].long(), edge_index[1].long()
    loop = a == b
    lo, up = pair_bounds(csr, torch.where(loop, 0, a), torch.where(loop, 0, b), alpha)
    nan = torch.full_like(lo, float("nan"))
    return torch.where(loop, nan, lo), torch.where(loop, nan, up)
