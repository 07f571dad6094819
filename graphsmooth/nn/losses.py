r"""Sobolev smoothness of time-varying graph signals.

Castro-Correa, Giraldo et al., `"Time-varying Signals Recovery via Graph Neural Networks"
<https://arxiv.org/abs/2302.11313>`_ (ICASSP 2023), and its predecessor GraphTRSS (Giraldo et
al., `"Reconstruction of Time-varying Graph Signals via Sobolev Smoothness"
<https://arxiv.org/abs/2207.06439>`_, IEEE TSIPN 2022), measure how smooth the *temporal
differences* of a signal matrix :math:`\mathbf{X} \in \mathbb{R}^{N \times T}` are on a graph with
combinatorial Laplacian :math:`\mathbf{L}`:

.. math::
    \mathcal{S}_{\epsilon,\beta}(\mathbf{X}) =
    \operatorname{tr}\!\big((\mathbf{X}\mathbf{D}_h)^\top (\mathbf{L} + \epsilon\mathbf{I})^\beta
    \,\mathbf{X}\mathbf{D}_h\big),

where :math:`\mathbf{D}_h \in \mathbb{R}^{T \times (T-1)}` is the first-order temporal difference
operator (:math:`(\mathbf{X}\mathbf{D}_h)_{:,t} = \mathbf{x}_{t+1} - \mathbf{x}_t`); order 2 applies
it twice. The functions here never form :math:`\mathbf{D}_h`: differences are slices, and
:math:`(\mathbf{L}+\epsilon\mathbf{I})^\beta` is applied by repeated sparse mat-vecs for integer
:math:`\beta` and through an eigendecomposition (dense, small graphs only) otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "SobolevLoss",
    "SobolevOperator",
    "sobolev_operator",
    "sobolev_smoothness",
    "temporal_difference",
    "temporal_difference_adjoint",
]

#: Largest graph for which a non-integer beta (dense eigendecomposition) is accepted.
MAX_EIG_NODES = 5000


def temporal_difference(x: Tensor, order: int = 1) -> Tensor:
    r"""Temporal differences :math:`\mathbf{X}\mathbf{D}_h` along the last dimension.

    .. math::
        (\mathbf{X}\mathbf{D}_h)_{:,t} = \mathbf{x}_{t+1} - \mathbf{x}_t, \qquad
        t = 1, \dots, T-1,

    applied ``order`` times (order 2 gives :math:`\mathbf{x}_{t+2} - 2\mathbf{x}_{t+1} + \mathbf{x}_t`).

    Args:
        x (Tensor): signal ``[..., T]``.
        order (int, optional): difference order, 1 or 2 (any positive integer works). (default: ``1``)

    Returns:
        Tensor ``[..., T - order]``.
    """
    _check_order(order, x.shape[-1])
    for _ in range(order):
        x = x[..., 1:] - x[..., :-1]
    return x


def temporal_difference_adjoint(z: Tensor, order: int = 1) -> Tensor:
    r"""Adjoint of :func:`temporal_difference`: :math:`\mathbf{Z}\mathbf{D}_h^\top`.

    For order 1, :math:`(\mathbf{Z}\mathbf{D}_h^\top)_{:,s} = \mathbf{z}_{s-1} - \mathbf{z}_s`
    with :math:`\mathbf{z}_0 = \mathbf{z}_T = 0` (1-based), so that
    :math:`\langle \mathbf{X}\mathbf{D}_h, \mathbf{Z}\rangle = \langle \mathbf{X}, \mathbf{Z}\mathbf{D}_h^\top\rangle`.

    Args:
        z (Tensor): ``[..., T - order]``.
        order (int, optional): difference order. (default: ``1``)

    Returns:
        Tensor ``[..., T]``.
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(
            f"temporal_difference_adjoint: order must be a positive int, got {order!r}"
        )
    for _ in range(order):
        padded = F.pad(z, (1, 1))
        z = padded[..., :-1] - padded[..., 1:]
    return z


def _check_order(order: int, num_steps: int) -> None:
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"temporal difference order must be a positive int, got {order!r}")
    if num_steps <= order:
        raise ValueError(
            f"temporal difference of order {order} needs more than {order} time steps, got {num_steps}"
        )


def _laplacian(
    edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, dtype: torch.dtype
) -> Tensor:
    """Combinatorial Laplacian ``D - W`` (coalesced sparse COO) from the graph layer."""
    from graphsmooth.graph import laplacian

    return laplacian(edge_index, edge_weight, num_nodes=num_nodes, dtype=dtype).coalesce()


@dataclass
class SobolevOperator:
    r"""The matrix :math:`\mathbf{S} = (\mathbf{L} + \epsilon\mathbf{I})^\beta`, applied lazily.

    Built by :func:`sobolev_operator`. Integer :math:`\beta \ge 0` keeps the sparse Laplacian
    and applies :math:`\mathbf{S}\mathbf{v}` as :math:`\beta` sparse mat-vecs; any other
    :math:`\beta` stores the eigendecomposition :math:`\mathbf{L} = \mathbf{U}\Lambda\mathbf{U}^\top`
    and applies :math:`\mathbf{U}(\Lambda + \epsilon)^\beta\mathbf{U}^\top\mathbf{v}`.

    Attributes:
        laplacian (Tensor): sparse ``[N, N]`` combinatorial Laplacian (``None`` in eig mode).
        eps (float): diagonal shift :math:`\epsilon`.
        beta (float): power :math:`\beta`.
        eigvals (Tensor, optional): :math:`(\lambda_i + \epsilon)^\beta` in eig mode.
        eigvecs (Tensor, optional): :math:`\mathbf{U}` in eig mode.
    """

    laplacian: Tensor | None
    eps: float
    beta: float
    eigvals: Tensor | None = None
    eigvecs: Tensor | None = None

    @property
    def num_nodes(self) -> int:
        return int(self.eigvecs.size(0) if self.laplacian is None else self.laplacian.size(0))

    def matmul(self, x: Tensor) -> Tensor:
        r""":math:`\mathbf{S}\mathbf{X}` for ``x`` of shape ``[N, F]``."""
        if x.size(0) != self.num_nodes:
            raise ValueError(
                f"SobolevOperator: x has {x.size(0)} rows, the graph has {self.num_nodes} nodes"
            )
        if self.laplacian is None:
            u = self.eigvecs.to(x.dtype)
            return u @ (self.eigvals.to(x.dtype).unsqueeze(-1) * (u.T @ x))
        lap = self.laplacian if self.laplacian.dtype == x.dtype else self.laplacian.to(x.dtype)
        for _ in range(int(self.beta)):
            x = torch.sparse.mm(lap, x) + self.eps * x
        return x

    __matmul__ = matmul

    def diagonal(self) -> Tensor:
        r"""The diagonal of :math:`\mathbf{S}` (exact; dense work only for integer
        :math:`\beta \ge 2` on graphs up to ``MAX_EIG_NODES`` nodes, else
        :math:`(d_i + \epsilon)^\beta`, used only as a preconditioner)."""
        if self.laplacian is None:
            return (self.eigvecs.pow(2) * self.eigvals).sum(dim=1)
        lap = self.laplacian
        diag = torch.zeros(lap.size(0), dtype=lap.dtype, device=lap.device)
        idx, val = lap.indices(), lap.values()
        on = idx[0] == idx[1]
        diag[idx[0, on]] = val[on]
        if self.beta == 0:
            return torch.ones_like(diag)
        if self.beta == 1 or lap.size(0) > MAX_EIG_NODES:
            return (diag + self.eps) ** self.beta
        return torch.diagonal(self.dense().to(lap.dtype)).clone()

    def dense(self) -> Tensor:
        """The dense ``[N, N]`` matrix (for tests and small problems)."""
        eye = torch.eye(self.num_nodes, dtype=torch.float64)
        return self.matmul(eye)


def sobolev_operator(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    *,
    eps: float = 0.05,
    beta: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> SobolevOperator:
    r"""Build :math:`(\mathbf{L} + \epsilon\mathbf{I})^\beta` for a weighted undirected graph.

    Args:
        edge_index (Tensor): ``[2, E]`` edges, both directions present (undirected graph).
        edge_weight (Tensor, optional): ``[E]`` non-negative weights. (default: ``None`` = ones)
        num_nodes (int, optional): number of nodes. (default: ``edge_index.max() + 1``)
        eps (float, optional): diagonal shift :math:`\epsilon \ge 0`; must be ``> 0`` for negative
            or fractional :math:`\beta` (the Laplacian is singular). (default: ``0.05``)
        beta (float, optional): power :math:`\beta`. Integers use sparse mat-vecs; other values a
            dense eigendecomposition, allowed up to ``MAX_EIG_NODES`` nodes. (default: ``1.0``)
        dtype (torch.dtype, optional): storage dtype. (default: ``torch.float64``)

    Returns:
        :class:`SobolevOperator`.
    """
    if eps < 0:
        raise ValueError(f"sobolev_operator: eps must be >= 0, got {eps}")
    if not math.isfinite(beta):
        raise ValueError(f"sobolev_operator: beta must be finite, got {beta}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(
            f"sobolev_operator: edge_index must have shape [2, E], got {tuple(edge_index.shape)}"
        )
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    if edge_weight is not None and bool((edge_weight < 0).any()):
        raise ValueError("sobolev_operator: edge weights must be non-negative")
    lap = _laplacian(edge_index.long(), edge_weight, num_nodes, dtype)
    integer = float(beta).is_integer() and beta >= 0
    if integer:
        return SobolevOperator(lap, float(eps), float(beta))
    if eps == 0:
        raise ValueError(
            f"sobolev_operator: beta={beta} needs eps > 0 (L is singular; (L + eps I)^beta undefined)"
        )
    if num_nodes > MAX_EIG_NODES:
        raise ValueError(
            f"sobolev_operator: non-integer beta={beta} uses a dense eigendecomposition, limited to "
            f"{MAX_EIG_NODES} nodes (got {num_nodes}); use an integer beta"
        )
    dense = lap.to_dense()
    evals, evecs = torch.linalg.eigh(dense.to(torch.float64))
    evals = (evals.clamp_min(0.0) + eps) ** beta
    return SobolevOperator(None, float(eps), float(beta), evals.to(dtype), evecs.to(dtype))


def sobolev_smoothness(
    x: Tensor,
    edge_index: Tensor | SobolevOperator,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    *,
    eps: float = 0.05,
    beta: float = 1.0,
    order: int = 1,
) -> Tensor:
    r"""Sobolev smoothness of the temporal differences of ``x``.

    .. math::
        \mathcal{S}(\mathbf{X}) = \operatorname{tr}\!\big((\mathbf{X}\mathbf{D}_h)^\top
        (\mathbf{L} + \epsilon\mathbf{I})^\beta \mathbf{X}\mathbf{D}_h\big)
        = \sum_{n,t} (\mathbf{X}\mathbf{D}_h)_{nt}\,
        \big((\mathbf{L} + \epsilon\mathbf{I})^\beta \mathbf{X}\mathbf{D}_h\big)_{nt}.

    Args:
        x (Tensor): signal ``[N, T]`` (differentiable).
        edge_index (Tensor or SobolevOperator): ``[2, E]`` graph, or a prebuilt operator (then
            ``edge_weight``, ``num_nodes``, ``eps`` and ``beta`` are ignored).
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``x.size(0)``)
        eps (float, optional): :math:`\epsilon`. (default: ``0.05``)
        beta (float, optional): :math:`\beta`. (default: ``1.0``)
        order (int, optional): temporal difference order. (default: ``1``)

    Returns:
        Scalar tensor.
    """
    if x.dim() != 2:
        raise ValueError(f"sobolev_smoothness: x must be [N, T], got shape {tuple(x.shape)}")
    if isinstance(edge_index, SobolevOperator):
        op = edge_index
    else:
        op = sobolev_operator(
            edge_index,
            edge_weight,
            x.size(0) if num_nodes is None else num_nodes,
            eps=eps,
            beta=beta,
            dtype=x.dtype,
        )
    z = temporal_difference(x, order)
    return (z * op.matmul(z)).sum()


class SobolevLoss(torch.nn.Module):
    r"""TimeGNN training loss: masked MSE plus Sobolev smoothness.

    .. math::
        \mathcal{L}(\hat{\mathbf{X}}) = \frac{1}{|\mathcal{M}|}
        \|\mathbf{J} \circ (\hat{\mathbf{X}} - \mathbf{Y})\|_F^2
        + \lambda\, \operatorname{tr}\!\big((\hat{\mathbf{X}}\mathbf{D}_h)^\top
        (\mathbf{L} + \epsilon\mathbf{I})^\beta \hat{\mathbf{X}}\mathbf{D}_h\big),

    with :math:`\mathbf{J}` the 0/1 sampling mask and :math:`|\mathcal{M}|` its number of ones
    (the MSE is a mean over sampled entries, as in the authors' follow-up code; the smoothness is
    a plain trace, so :math:`\lambda` keeps their scale, 1e-6 to 1e-3).

    Args:
        edge_index (Tensor): ``[2, E]`` undirected graph.
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None``)
        num_nodes (int, optional): number of nodes. (default: ``edge_index.max() + 1``)
        lam (float, optional): :math:`\lambda`. (default: ``1e-4``)
        eps (float, optional): :math:`\epsilon`. (default: ``0.05``)
        beta (float, optional): :math:`\beta`. (default: ``1.0``)
        order (int, optional): temporal difference order. (default: ``1``)

    Shapes:
        - input: ``x_hat`` ``[N, T]``, ``target`` ``[N, T]`` (optional), ``mask`` bool ``[N, T]``
          (optional; default all entries)
        - output: scalar
    """

    def __init__(
        self,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        num_nodes: int | None = None,
        *,
        lam: float = 1e-4,
        eps: float = 0.05,
        beta: float = 1.0,
        order: int = 1,
    ) -> None:
        super().__init__()
        if lam < 0:
            raise ValueError(f"SobolevLoss: lam must be >= 0, got {lam}")
        self.lam, self.eps, self.beta, self.order = float(lam), float(eps), float(beta), order
        self.operator = sobolev_operator(
            edge_index, edge_weight, num_nodes, eps=eps, beta=beta, dtype=torch.float64
        )
        self._cache: dict[torch.dtype, SobolevOperator] = {}

    def _op(self, dtype: torch.dtype) -> SobolevOperator:
        if dtype == torch.float64:
            return self.operator
        if dtype not in self._cache:
            op = self.operator
            self._cache[dtype] = SobolevOperator(
                None if op.laplacian is None else op.laplacian.to(dtype),
                op.eps,
                op.beta,
                None if op.eigvals is None else op.eigvals.to(dtype),
                None if op.eigvecs is None else op.eigvecs.to(dtype),
            )
        return self._cache[dtype]

    def smoothness(self, x_hat: Tensor) -> Tensor:
        """The unweighted Sobolev term of ``x_hat``."""
        return sobolev_smoothness(x_hat, self._op(x_hat.dtype), order=self.order)

    def forward(
        self, x_hat: Tensor, target: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        loss = self.lam * self.smoothness(x_hat) if self.lam > 0 else x_hat.new_zeros(())
        if target is not None:
            diff = x_hat - target
            if mask is not None:
                diff = diff[mask]
            loss = loss + diff.pow(2).mean()
        return loss

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(lam={self.lam:g}, eps={self.eps:g}, beta={self.beta:g}, "
            f"order={self.order})"
        )
