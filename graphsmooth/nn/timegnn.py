r"""TimeGNN: an encoder-decoder GNN for recovering time-varying graph signals.

Castro-Correa, Giraldo, Mondal, Badiey, Bouwmans, Malliaros, `"Time-varying Signals Recovery via
Graph Neural Networks" <https://arxiv.org/abs/2302.11313>`_ (ICASSP 2023).

The network maps the temporal differences of the sampled signal, :math:`(\mathbf{J}\circ\mathbf{Y})
\mathbf{D}_h \in \mathbb{R}^{N\times(T-1)}` (one feature vector per node: its whole difference
series), to the recovered signal :math:`\hat{\mathbf{X}} \in \mathbb{R}^{N\times T}`.

**Encoder** — a cascade of Chebyshev graph filters of degrees :math:`k = 1, \dots, K`, each with
its own weights, fused by learnable scalars :math:`a_k`:

.. math::
    \mathbf{H}_k = \mathrm{dropout}\Big(\mathrm{ReLU}\Big(\sum_{j=0}^{k}
        T_j(\tilde{\mathbf{L}})\,\mathbf{Z}\,\mathbf{\Theta}_{k,j} + \mathbf{b}_k\Big)\Big),
    \qquad \mathbf{H} = \sum_{k=1}^{K} a_k \mathbf{H}_k,

with :math:`T_0(\tilde{\mathbf{L}})\mathbf{Z} = \mathbf{Z}`, :math:`T_1 = \tilde{\mathbf{L}}\mathbf{Z}`,
:math:`T_j = 2\tilde{\mathbf{L}}T_{j-1} - T_{j-2}` and the scaled Laplacian
:math:`\tilde{\mathbf{L}} = 2\mathbf{L}_{\mathrm{sym}}/\lambda_{\max} - \mathbf{I}` with
:math:`\lambda_{\max} = 2`, i.e. :math:`-\mathbf{D}^{-1/2}\mathbf{W}\mathbf{D}^{-1/2}` (PyG
``ChebConv``'s default for the symmetric normalisation; a branch of degree :math:`k` equals
``ChebConv(K=k+1)``). The basis :math:`T_j(\tilde{\mathbf{L}})\mathbf{Z}` is computed once and
shared by all branches.

**Decoder** — ``num_linear`` linear layers (no activation between them, as in the authors'
follow-up code), the last one with ``out_channels`` = :math:`T` outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["TimeGNN", "chebyshev_basis", "scaled_laplacian"]


def scaled_laplacian(
    edge_index: Tensor,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    r"""Sparse :math:`\tilde{\mathbf{L}} = \mathbf{L}_{\mathrm{sym}} - \mathbf{I} =
    -\mathbf{D}^{-1/2}\mathbf{W}\mathbf{D}^{-1/2}` (Chebyshev scaling with :math:`\lambda_{\max}=2`).

    Isolated nodes get an all-zero row and column.

    Args:
        edge_index (Tensor): ``[2, E]`` undirected edges.
        edge_weight (Tensor, optional): ``[E]`` weights. (default: ``None`` = ones)
        num_nodes (int, optional): number of nodes. (default: ``edge_index.max() + 1``)
        dtype (torch.dtype, optional): value dtype. (default: ``torch.float32``)

    Returns:
        Sparse COO tensor ``[N, N]``.
    """
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    from graphsmooth.graph import laplacian

    lap = laplacian(edge_index, edge_weight, num_nodes=num_nodes, normalization="sym", dtype=dtype)
    idx, val = lap.coalesce().indices(), lap.coalesce().values()
    off = idx[0] != idx[1]  # L_sym - I: drop the diagonal (1, or 0 for isolated nodes)
    return torch.sparse_coo_tensor(
        idx[:, off], val[off], (num_nodes, num_nodes), check_invariants=False
    ).coalesce()


def chebyshev_basis(x: Tensor, lap: Tensor, degree: int) -> Tensor:
    r"""Stack :math:`[T_0(\tilde{\mathbf{L}})\mathbf{x}, \dots, T_K(\tilde{\mathbf{L}})\mathbf{x}]`.

    Args:
        x (Tensor): ``[N, F]``.
        lap (Tensor): sparse or dense ``[N, N]`` scaled Laplacian.
        degree (int): highest degree :math:`K \ge 0`.

    Returns:
        Tensor ``[K + 1, N, F]``.
    """
    out = [x]
    if degree >= 1:
        out.append(lap @ x)
    for _ in range(2, degree + 1):
        out.append(2.0 * (lap @ out[-1]) - out[-2])
    return torch.stack(out)


class TimeGNN(torch.nn.Module):
    r"""TimeGNN encoder-decoder (Castro-Correa et al., ICASSP 2023); see the module docstring.

    Args:
        in_channels (int): input features per node (:math:`T - 1` for difference inputs).
        out_channels (int): outputs per node (:math:`T`).
        hidden_channels (int, optional): width of every Chebyshev branch. (default: ``64``)
        K (int, optional): number of branches; branch :math:`k` is a degree-:math:`k` Chebyshev
            filter. (default: ``3``)
        num_linear (int, optional): number of decoder linear layers (>= 1). (default: ``2``)
        linear_hidden (int, optional): width of the hidden decoder layers. (default: ``64``)
        dropout (float, optional): dropout on every branch output. (default: ``0.0``)

    Shapes:
        - input: ``x`` ``[N, in_channels]``, ``edge_index`` ``[2, E]``, ``edge_weight`` ``[E]``
          (optional)
        - output: ``[N, out_channels]``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int = 64,
        K: int = 3,
        num_linear: int = 2,
        linear_hidden: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if K < 1:
            raise ValueError(f"TimeGNN: K must be >= 1, got {K}")
        if num_linear < 1:
            raise ValueError(f"TimeGNN: num_linear must be >= 1, got {num_linear}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"TimeGNN: dropout must be in [0, 1), got {dropout}")
        for name, val in [
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("hidden_channels", hidden_channels),
            ("linear_hidden", linear_hidden),
        ]:
            if val < 1:
                raise ValueError(f"TimeGNN: {name} must be >= 1, got {val}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.hidden_channels, self.K = hidden_channels, K
        self.num_linear, self.linear_hidden, self.dropout = num_linear, linear_hidden, dropout
        # weight[k - 1, j] = Theta_{k, j}; entries with j > k are masked out
        self.weight = torch.nn.Parameter(torch.empty(K, K + 1, in_channels, hidden_channels))
        self.bias = torch.nn.Parameter(torch.empty(K, hidden_channels))
        self.register_buffer(
            "_mask",
            (torch.arange(K + 1).unsqueeze(0) <= torch.arange(1, K + 1).unsqueeze(1)).float(),
            persistent=False,
        )
        self.fusion = torch.nn.Parameter(torch.empty(K))
        dims = [hidden_channels] + [linear_hidden] * (num_linear - 1) + [out_channels]
        self.lins = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True)
        )
        self._cached: tuple[tuple, Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot weights per Chebyshev term, zero biases, equal fusion weights 1/K."""
        for k in range(self.K):
            for j in range(self.K + 1):
                torch.nn.init.xavier_uniform_(self.weight.data[k, j])
        torch.nn.init.zeros_(self.bias)
        torch.nn.init.constant_(self.fusion, 1.0 / self.K)
        for lin in self.lins:
            lin.reset_parameters()
        self._cached = None

    def _lap(self, edge_index: Tensor, edge_weight: Tensor | None, n: int, dtype) -> Tensor:
        key = (
            edge_index.data_ptr(),
            edge_index.size(1),
            None if edge_weight is None else edge_weight.data_ptr(),
            n,
            dtype,
        )
        if self._cached is None or self._cached[0] != key:
            lap = scaled_laplacian(edge_index, edge_weight, n, dtype=dtype).to(edge_index.device)
            self._cached = (key, lap)
        return self._cached[1]

    def encode(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        """Fused Chebyshev cascade output ``[N, hidden_channels]``."""
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f"TimeGNN: x must be [N, {self.in_channels}], got shape {tuple(x.shape)}"
            )
        lap = self._lap(edge_index, edge_weight, x.size(0), x.dtype)
        basis = chebyshev_basis(x, lap, self.K)  # [K+1, N, F]
        weight = self.weight * self._mask[:, :, None, None]
        h = torch.einsum("jnf,kjfh->knh", basis, weight) + self.bias[:, None, :]
        h = F.dropout(F.relu(h), p=self.dropout, training=self.training)
        return torch.einsum("k,knh->nh", self.fusion, h)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        h = self.encode(x, edge_index, edge_weight)
        for lin in self.lins:
            h = lin(h)
        return h

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
            f"hidden_channels={self.hidden_channels}, K={self.K}, num_linear={self.num_linear}, "
            f"dropout={self.dropout})"
        )
