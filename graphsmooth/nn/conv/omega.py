r"""omega-GNN propagation layers (Eliasof, Ruthotto & Treister, ICML 2023).

`"Improving Graph Neural Networks with Learnable Propagation Operators"
<https://arxiv.org/abs/2210.17224>`_ mixes a smoothing propagation operator :math:`\mathbf{S}`
with the identity through trainable channel-wise weights :math:`\boldsymbol{\omega}`:

.. math::
    \mathbf{X}^{\prime} = \mathbf{X} - \boldsymbol{\omega} \odot (\mathbf{X} - \mathbf{S}\mathbf{X})
    = (1 - \boldsymbol{\omega}) \odot \mathbf{X} + \boldsymbol{\omega} \odot \mathbf{S}\mathbf{X},

where :math:`\boldsymbol{\omega}` multiplies each feature channel (column of :math:`\mathbf{X}`).
For :math:`0 < \omega \le 1` the step smooths, for :math:`\omega > 1` it sharpens (it moves a node
past its neighbourhood mean), :math:`\omega = 0` is the identity and :math:`\omega < 0` is an
unsharp mask :math:`\mathbf{X} + |\omega| (\mathbf{X} - \mathbf{S}\mathbf{X})`. In the
eigenbasis of :math:`\mathbf{L} = \mathbf{I} - \mathbf{S}` (eigenvalues :math:`\lambda`) a
channel is multiplied by :math:`1 - \omega\lambda`: high frequencies are damped for
:math:`0 < \omega \le 1` and amplified for :math:`\omega < 0` (all) or :math:`\omega > 1`
(those with :math:`\lambda > 2/\omega`, with a sign flip). :math:`\omega` is
unconstrained and initialised to 1, so an untrained layer is a plain GCN propagation step.

Two operators are provided:

- :class:`OmegaGCNConv`: :math:`\mathbf{S} = \hat{\mathbf{D}}^{-1/2} (\mathbf{A} + \mathbf{I})
  \hat{\mathbf{D}}^{-1/2}` (PyG's :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm`).
- :class:`OmegaGATConv`: a row-stochastic attention matrix per head, computed from the input
  features *without* a projection.

The functions :func:`omega_mix`, :func:`omega_attention` and :func:`dirichlet_energy` are the
building blocks; the classes are thin :class:`~torch_geometric.nn.conv.MessagePassing` wrappers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.typing import Adj, OptTensor, SparseTensor
from torch_geometric.utils import add_self_loops as add_self_loops_fn
from torch_geometric.utils import (
    is_torch_sparse_tensor,
    remove_self_loops,
    softmax,
    spmm,
    to_edge_index,
)

from graphsmooth.graph import dirichlet_energy  # re-exported: the graph layer owns it

__all__ = [
    "OMEGA_MODES",
    "OmegaGATConv",
    "OmegaGCNConv",
    "attention_graph",
    "csr_linear",
    "csr_matmul",
    "csr_transpose",
    "dirichlet_energy",
    "gcn_operator",
    "omega_attention",
    "omega_mix",
]

#: Valid values of the ``omega`` argument of the layers: one weight per channel, one scalar weight,
#: or no own parameter (the weight is passed to ``forward``, e.g. shared across layers).
OMEGA_MODES = ("channel", "scalar", "none")


def omega_mix(x: Tensor, sx: Tensor, omega: Tensor) -> Tensor:
    r"""Mix features with their propagated version, :math:`(1 - \omega) x + \omega\, S x`.

    .. math::
        \mathbf{X}^{\prime} = \mathbf{X} + \boldsymbol{\omega} \odot (\mathbf{S}\mathbf{X}
        - \mathbf{X})

    Args:
        x (Tensor): Node features :math:`[N, C]`.
        sx (Tensor): Propagated features :math:`\mathbf{S}\mathbf{X}`, :math:`[N, C]`.
        omega (Tensor): Weights of shape :math:`[C]` (per channel), :math:`[1]` or :math:`[]`
            (scalar).

    Returns:
        Tensor: :math:`[N, C]`.
    """
    if x.shape != sx.shape:
        raise ValueError(f"omega_mix: x {tuple(x.shape)} and sx {tuple(sx.shape)} differ in shape")
    if omega.dim() > 1 or omega.numel() not in (1, x.size(-1)):
        raise ValueError(
            f"omega_mix: omega must have shape [{x.size(-1)}], [1] or [] for {x.size(-1)} "
            f"channels, got {tuple(omega.shape)}"
        )
    # x + omega * (sx - x) as one fused op; autograd reaches omega through torch.lerp.
    return torch.lerp(x, sx, omega.to(x.dtype))


def omega_attention(
    x: Tensor,
    edge_index: Tensor,
    att_src: Tensor,
    att_dst: Tensor,
    num_nodes: int | None = None,
    negative_slope: float = 0.2,
) -> Tensor:
    r"""Multi-head attention coefficients of omega-GAT, without a projection of the features.

    For an edge :math:`j \to i` (``edge_index[0] = j`` source, ``edge_index[1] = i`` target) and
    head :math:`h`,

    .. math::
        e_{ij}^{h} = \mathrm{LeakyReLU}\big(\mathbf{a}_{\mathrm{src}}^{h\top} \mathbf{x}_j
        + \mathbf{a}_{\mathrm{dst}}^{h\top} \mathbf{x}_i\big), \qquad
        \alpha_{ij}^{h} = \frac{\exp e_{ij}^{h}}{\sum_{k \in \mathcal{N}(i)} \exp e_{ik}^{h}},

    the softmax running over the incoming edges of :math:`i` (include the self loop in
    ``edge_index`` to obtain GAT's :math:`\mathcal{N}(i) \cup \{i\}`).

    Args:
        x (Tensor): Node features :math:`[N, C]`.
        edge_index (Tensor): :math:`[2, E]`.
        att_src (Tensor): Source attention vectors :math:`[C, H]` (one column per head).
        att_dst (Tensor): Target attention vectors :math:`[C, H]`.
        num_nodes (int, optional): :math:`N` (default: ``x.size(0)``).
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)

    Returns:
        Tensor: :math:`[E, H]` coefficients; for each target and head they sum to one.
    """
    n = x.size(0) if num_nodes is None else num_nodes
    # One [N, C] x [C, 2H] product gives both score halves for every node and head.
    scores = x @ torch.cat([att_src, att_dst], dim=1)
    heads = att_src.size(1)
    src, dst = edge_index[0], edge_index[1]
    e = scores[src, :heads] + scores[dst, heads:]
    e = F.leaky_relu(e, negative_slope)
    return softmax(e, dst, num_nodes=n)


def gcn_operator(
    edge_index: Adj,
    edge_weight: OptTensor = None,
    num_nodes: int | None = None,
    add_self_loops: bool = True,
    dtype: torch.dtype | None = None,
) -> tuple[Adj, OptTensor]:
    r"""The GCN operator :math:`\hat{\mathbf{D}}^{-1/2} (\mathbf{A} + \mathbf{I})
    \hat{\mathbf{D}}^{-1/2}` in the format of the input.

    A thin wrapper of PyG's :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm` that also accepts
    unsorted ``torch.sparse`` COO input (coalesced first).

    Args:
        edge_index (Tensor or SparseTensor): :math:`[2, E]` indices or a sparse ``adj_t``.
        edge_weight (Tensor, optional): :math:`[E]` weights. (default: ``None``)
        num_nodes (int, optional): :math:`N`. (default: inferred)
        add_self_loops (bool, optional): Use :math:`\mathbf{A} + \mathbf{I}`. (default: ``True``)
        dtype (torch.dtype, optional): Weight dtype. (default: ``None``)

    Returns:
        ``(edge_index, edge_weight)`` for index input, ``(adj_t, None)`` for sparse input.
    """
    if isinstance(edge_index, SparseTensor):
        return gcn_norm(
            edge_index, edge_weight, num_nodes, False, add_self_loops, dtype=dtype
        ), None
    if is_torch_sparse_tensor(edge_index) and edge_index.layout == torch.sparse_coo:
        edge_index = edge_index.coalesce()  # gcn_norm's self-loop insertion needs sorted input
    return gcn_norm(edge_index, edge_weight, num_nodes, False, add_self_loops, dtype=dtype)


def csr_transpose(a: Tensor) -> tuple[Tensor, Tensor]:
    r"""The transpose of a ``torch.sparse_csr`` matrix as a CSR matrix, and the permutation of
    the non-zeros: ``a_t.values() == a.values()[perm]``.

    The non-zeros of :math:`\mathbf{A}^\top` are ordered by row and, within a row, by column
    (the order PyTorch's own CSR transposition produces, so products with it are the same to the
    bit); entries that repeat a position keep their order. ``perm`` lets a matrix with the same
    pattern but other values (e.g. after dropout on the values) be transposed by one gather.

    Args:
        a (Tensor): A 2-D ``torch.sparse_csr`` matrix :math:`[M, N]`.

    Returns:
        ``(a_t, perm)``: the CSR matrix :math:`[N, M]` and the :math:`[\mathrm{nnz}]` permutation.
    """
    if a.layout != torch.sparse_csr or a.dim() != 2:
        raise ValueError(f"csr_transpose: expected a 2-D sparse CSR matrix, got {a.layout}")
    m, n = a.shape
    crow, col = a.crow_indices(), a.col_indices()
    row = torch.repeat_interleave(torch.arange(m, device=a.device), crow.diff())
    perm = torch.argsort(col * m + row, stable=True)
    t_crow = torch.zeros(n + 1, dtype=crow.dtype, device=a.device)
    t_crow[1:] = torch.cumsum(torch.bincount(col, minlength=n), 0)
    a_t = torch.sparse_csr_tensor(
        t_crow, row[perm].to(col.dtype), a.values()[perm], (n, m), device=a.device
    )
    return a_t, perm


class _CSRMatmul(torch.autograd.Function):
    """``a @ x`` for a constant CSR ``a``; the backward multiplies by the given ``a_t``."""

    @staticmethod
    def forward(ctx, x: Tensor, a: Tensor, a_t: Tensor) -> Tensor:
        ctx.a_t = a_t
        return spmm(a, x, reduce="sum")

    @staticmethod
    def backward(ctx, grad: Tensor):
        return spmm(ctx.a_t, grad, reduce="sum"), None, None


def csr_matmul(a: Tensor, a_t: Tensor, x: Tensor) -> Tensor:
    r""":math:`\mathbf{A}\mathbf{X}` for a constant ``torch.sparse_csr`` matrix :math:`\mathbf{A}`
    whose transpose ``a_t`` (:func:`csr_transpose`) is known.

    The same product as :func:`torch_geometric.utils.spmm` (``reduce="sum"``); the gradient
    :math:`\mathbf{A}^\top \mathbf{G}` uses ``a_t`` instead of transposing :math:`\mathbf{A}`
    (a sort of its non-zeros) in every backward pass. No gradient reaches the values of
    :math:`\mathbf{A}`.
    """
    if a.values().requires_grad:
        raise ValueError("csr_matmul: the matrix is a constant (its values require grad)")
    return _CSRMatmul.apply(x, a, a_t)


class _CSRLinear(torch.autograd.Function):
    """``x @ weight.T + bias`` for a constant CSR ``x``; ``x_t`` = (crow, col, perm) of its
    transpose, its values taken from ``x`` in the backward pass."""

    @staticmethod
    def forward(ctx, weight: Tensor, bias: Tensor, x: Tensor, x_t: tuple) -> Tensor:
        ctx.x_values, ctx.x_t, ctx.x_shape = x.values(), x_t, x.shape
        return torch.addmm(bias, x, weight.t())

    @staticmethod
    def backward(ctx, grad: Tensor):
        grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            crow, col, perm = ctx.x_t
            n, f = ctx.x_shape
            x_t = torch.sparse_csr_tensor(crow, col, ctx.x_values[perm], (f, n))
            grad_w = torch.mm(x_t, grad).t()
        if ctx.needs_input_grad[1]:
            grad_b = grad.sum(0)
        return grad_w, grad_b, None, None


def csr_linear(
    x: Tensor, x_t: tuple[Tensor, Tensor, Tensor], weight: Tensor, bias: Tensor
) -> Tensor:
    r""":math:`\mathbf{X}\mathbf{W}^\top + \mathbf{b}` for constant sparse CSR input features
    :math:`\mathbf{X}` (e.g. bag-of-words, with dropout already applied to its values).

    ``torch.addmm`` gives the same forward; its backward builds :math:`\mathbf{X}^\top` (a
    sort of all non-zeros) in every pass. Here the pattern of :math:`\mathbf{X}^\top` is
    computed once (``x_t = (crow, col, perm)`` from :func:`csr_transpose`) and only its values
    are gathered, ``x.values()[perm]``: the gradients are the same to the bit.

    Args:
        x (Tensor): ``torch.sparse_csr`` features :math:`[N, F]` (no gradient).
        x_t (tuple): ``(crow_indices, col_indices, perm)`` of :math:`\mathbf{X}^\top`.
        weight (Tensor): :math:`[C, F]`.
        bias (Tensor): :math:`[C]`.
    """
    return _CSRLinear.apply(weight, bias, x, x_t)


def attention_graph(edge_index: Adj, num_nodes: int, add_self_loops: bool = True) -> Tensor:
    r"""The :math:`[2, E]` ``(source, target)`` index of the edges omega-GAT attends over.

    Sparse inputs are PyG's transposed adjacency ``adj_t`` (row = target, column = source) and
    their values are ignored; with ``add_self_loops`` every node gets exactly one self loop, so
    the softmax runs over :math:`\mathcal{N}(i) \cup \{i\}`.

    Args:
        edge_index (Tensor or SparseTensor): :math:`[2, E]` indices or a sparse ``adj_t``.
        num_nodes (int): :math:`N`.
        add_self_loops (bool, optional): Replace existing self loops by one per node.
            (default: ``True``)
    """
    if isinstance(edge_index, SparseTensor):
        row, col, _ = edge_index.coo()
        edge_index = torch.stack([col, row], dim=0)
    elif is_torch_sparse_tensor(edge_index):
        (row, col), _ = to_edge_index(edge_index)
        edge_index = torch.stack([col, row], dim=0)
    if add_self_loops:
        edge_index, _ = remove_self_loops(edge_index)
        edge_index, _ = add_self_loops_fn(edge_index, num_nodes=num_nodes)
    return edge_index


def _check_omega_mode(cls: str, omega: str) -> None:
    if omega not in OMEGA_MODES:
        raise ValueError(f"{cls}: omega must be one of {OMEGA_MODES}, got {omega!r}")


class _OmegaBase(MessagePassing):
    """Shared omega parameter handling of the two layers."""

    def _init_omega(self, channels: int, omega: str, omega_init: float) -> None:
        _check_omega_mode(type(self).__name__, omega)
        if channels <= 0:
            raise ValueError(f"{type(self).__name__}: channels must be positive, got {channels}")
        self.channels = channels
        self.omega_mode = omega
        self.omega_init = float(omega_init)
        if omega == "none":
            self.register_parameter("omega", None)
        else:
            self.omega = Parameter(torch.empty(channels if omega == "channel" else 1))

    def _reset_omega(self) -> None:
        if self.omega is not None:
            with torch.no_grad():
                self.omega.fill_(self.omega_init)

    def _resolve_omega(self, omega: OptTensor) -> Tensor:
        if omega is None:
            omega = self.omega
        if omega is None:
            raise ValueError(
                f"{type(self).__name__} was built with omega='none': pass omega= to forward"
            )
        return omega

    def _check_x(self, x: Tensor) -> None:
        if isinstance(x, (tuple, list)):
            raise ValueError(f"{type(self).__name__} does not support bipartite message passing")
        if x.dim() != 2 or x.size(-1) != self.channels:
            raise ValueError(
                f"{type(self).__name__}: expected node features [N, {self.channels}], "
                f"got {tuple(x.shape)}"
            )


class OmegaGCNConv(_OmegaBase):
    r"""The omega-GCN propagation step from `"Improving Graph Neural Networks with Learnable
    Propagation Operators" <https://arxiv.org/abs/2210.17224>`_ (Eliasof, Ruthotto & Treister,
    ICML 2023).

    .. math::
        \mathbf{X}^{\prime} = (1 - \boldsymbol{\omega}) \odot \mathbf{X} + \boldsymbol{\omega}
        \odot \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2} \mathbf{X},
        \qquad \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I},

    with :math:`\boldsymbol{\omega}` one trainable weight per channel (``omega="channel"``) or one
    scalar (``"scalar"``), initialised to ``omega_init`` and unconstrained. The layer has no
    channel-mixing weights: in omega-GCN networks a matrix :math:`\mathbf{K}_l` follows each step
    (see :mod:`graphsmooth.nn.omega_models`). With :math:`\omega = 1` it equals a weightless,
    bias-free :class:`~torch_geometric.nn.conv.GCNConv` propagation; with :math:`\omega = 0` it is
    the identity.

    Args:
        channels (int): Number of feature channels :math:`C` (input = output size).
        omega (str, optional): ``"channel"`` (parameter :math:`[C]`), ``"scalar"`` (parameter
            :math:`[1]`) or ``"none"`` (no parameter; pass ``omega=`` to :meth:`forward`, e.g. a
            weight shared by several layers). (default: ``"channel"``)
        omega_init (float, optional): Initial value of :math:`\omega`. (default: ``1.0``)
        cached (bool, optional): Cache the normalised operator on the first call (transductive
            use only: the same graph at every call). (default: ``False``)
        add_self_loops (bool, optional): Use :math:`\mathbf{A} + \mathbf{I}`. (default: ``True``)
        normalize (bool, optional): Build the GCN operator from the input graph; with ``False``
            the given ``edge_index``/``edge_weight`` (or sparse matrix) is used as
            :math:`\mathbf{S}` unchanged, e.g. an operator from :func:`gcn_operator` shared by
            all layers of a network. (default: ``True``)
        **kwargs (optional): Arguments of :class:`~torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        - **input:** node features :math:`(N, C)`, edge indices :math:`(2, E)` or a sparse
          adjacency :math:`(N, N)` (``torch.sparse`` or ``SparseTensor``, given as its transpose
          ``adj_t`` as everywhere in PyG), edge weights :math:`(E)` *(optional)*, omega
          :math:`(C)` or :math:`(1)` *(optional)*
        - **output:** node features :math:`(N, C)`
    """

    def __init__(
        self,
        channels: int,
        omega: str = "channel",
        omega_init: float = 1.0,
        cached: bool = False,
        add_self_loops: bool = True,
        normalize: bool = True,
        **kwargs,
    ) -> None:
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)
        if add_self_loops and not normalize:
            add_self_loops = False  # nothing is added to a graph used as given
        self._init_omega(channels, omega, omega_init)
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_edge_index: tuple[Tensor, OptTensor] | None = None
        self._cached_adj_t: SparseTensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self._reset_omega()
        self._cached_edge_index = None
        self._cached_adj_t = None

    def normalized_operator(
        self, x: Tensor, edge_index: Adj, edge_weight: OptTensor = None
    ) -> tuple[Adj, OptTensor]:
        """The propagation operator for this input (from the cache when ``cached=True``)."""
        if not self.normalize:
            return edge_index, edge_weight
        cache = self._cached_adj_t if isinstance(edge_index, SparseTensor) else None
        cache = self._cached_edge_index if cache is None else (cache, None)
        if cache is not None:
            return cache
        out = gcn_operator(edge_index, edge_weight, x.size(0), self.add_self_loops, x.dtype)
        if self.cached:
            if isinstance(out[0], SparseTensor):
                self._cached_adj_t = out[0]
            else:
                self._cached_edge_index = out
        return out

    def forward(
        self, x: Tensor, edge_index: Adj, edge_weight: OptTensor = None, omega: OptTensor = None
    ) -> Tensor:
        """Apply :math:`(1-\\omega) X + \\omega S X`; ``omega`` overrides the layer's own."""
        self._check_x(x)
        w = self._resolve_omega(omega)
        op, op_weight = self.normalized_operator(x, edge_index, edge_weight)
        sx = self.propagate(op, x=x, edge_weight=op_weight)
        return omega_mix(x, sx, w)

    def message(self, x_j: Tensor, edge_weight: OptTensor) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def message_and_aggregate(self, adj_t: Adj, x: Tensor) -> Tensor:
        return spmm(adj_t, x, reduce=self.aggr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.channels}, omega={self.omega_mode!r})"


class OmegaGATConv(_OmegaBase):
    r"""The omega-GAT propagation step from `"Improving Graph Neural Networks with Learnable
    Propagation Operators" <https://arxiv.org/abs/2210.17224>`_ (Eliasof, Ruthotto & Treister,
    ICML 2023).

    The :math:`C` channels are split into :math:`H` heads of :math:`C/H` channels. Head :math:`h`
    propagates its channel block :math:`\mathbf{X}^{h}` with its own attention matrix
    :math:`\mathbf{S}^{h}` (rows sum to one, self loop included), computed from the *unprojected*
    features:

    .. math::
        S^{h}_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}
        \mathrm{LeakyReLU}\big(\mathbf{a}_{\mathrm{src}}^{h\top} \mathbf{x}_j
        + \mathbf{a}_{\mathrm{dst}}^{h\top} \mathbf{x}_i\big), \qquad
        \mathbf{X}^{\prime h} = (1 - \boldsymbol{\omega}^{h}) \odot \mathbf{X}^{h}
        + \boldsymbol{\omega}^{h} \odot \mathbf{S}^{h} \mathbf{X}^{h}.

    With :math:`\mathbf{a} = 0` the attention is uniform and :math:`\mathbf{S}` is the mean over
    :math:`\mathcal{N}(i) \cup \{i\}`. The attention vectors see all :math:`C` channels (the paper
    does not fix this; it costs one :math:`[N, C] \times [C, 2H]` product per layer).

    Args:
        channels (int): Number of feature channels :math:`C`, divisible by ``heads``.
        heads (int, optional): Number of attention heads :math:`H`. (default: ``1``)
        omega (str, optional): ``"channel"``, ``"scalar"`` or ``"none"``, as in
            :class:`OmegaGCNConv`. (default: ``"channel"``)
        omega_init (float, optional): Initial value of :math:`\omega`. (default: ``1.0``)
        negative_slope (float, optional): LeakyReLU slope. (default: ``0.2``)
        dropout (float, optional): Dropout on the attention coefficients in training.
            (default: ``0.0``)
        cached (bool, optional): Cache the graph with self loops on the first call (transductive
            use only; the attention itself depends on :math:`\mathbf{X}` and is never cached).
            (default: ``False``)
        add_self_loops (bool, optional): Attend over :math:`\mathcal{N}(i) \cup \{i\}`.
            (default: ``True``)
        **kwargs (optional): Arguments of :class:`~torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        - **input:** node features :math:`(N, C)`, edge indices :math:`(2, E)` or a sparse
          adjacency ``adj_t`` :math:`(N, N)` (its values are ignored), omega :math:`(C)` or
          :math:`(1)` *(optional)*
        - **output:** node features :math:`(N, C)`
    """

    def __init__(
        self,
        channels: int,
        heads: int = 1,
        omega: str = "channel",
        omega_init: float = 1.0,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        cached: bool = False,
        add_self_loops: bool = True,
        **kwargs,
    ) -> None:
        kwargs.setdefault("aggr", "add")
        super().__init__(node_dim=0, **kwargs)
        if heads <= 0 or channels % heads != 0:
            raise ValueError(
                f"OmegaGATConv: channels ({channels}) must be a positive multiple of heads ({heads})"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"OmegaGATConv: dropout must be in [0, 1), got {dropout}")
        self._init_omega(channels, omega, omega_init)
        self.heads = heads
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.att_src = Parameter(torch.empty(channels, heads))
        self.att_dst = Parameter(torch.empty(channels, heads))
        self._cached_edge_index: Tensor | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self._reset_omega()
        # Glorot on the [C, H] attention matrices, as GATConv does for its [1, H, C'] vectors.
        torch.nn.init.xavier_uniform_(self.att_src)
        torch.nn.init.xavier_uniform_(self.att_dst)
        self._cached_edge_index = None

    def graph(self, x: Tensor, edge_index: Adj) -> Tensor:
        """The :func:`attention_graph` of the input, from the cache when ``cached=True``."""
        if self._cached_edge_index is not None:
            return self._cached_edge_index
        edge_index = attention_graph(edge_index, x.size(0), self.add_self_loops)
        if self.cached:
            self._cached_edge_index = edge_index
        return edge_index

    def attention(self, x: Tensor, edge_index: Adj) -> tuple[Tensor, Tensor]:
        """``(edge_index, alpha)``: the graph used and the :math:`[E, H]` attention coefficients."""
        edge_index = self.graph(x, edge_index)
        alpha = omega_attention(
            x, edge_index, self.att_src, self.att_dst, x.size(0), self.negative_slope
        )
        return edge_index, alpha

    def forward(
        self,
        x: Tensor,
        edge_index: Adj,
        omega: OptTensor = None,
        return_attention_weights: bool | None = None,
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        """Apply :math:`(1-\\omega) X + \\omega S X` per head; ``omega`` overrides the layer's.

        With ``return_attention_weights=True`` (as :class:`~torch_geometric.nn.conv.GATConv`)
        the result is ``(out, (edge_index, alpha))``: the graph attended over, self loops
        included, as a :math:`[2, E]` index tensor (also for sparse input) and the :math:`[E, H]`
        coefficients :math:`S^{h}_{ij}` (edge ``(j, i)`` = source ``j``, target ``i``) after
        attention dropout, i.e. the ones used.
        """
        self._check_x(x)
        w = self._resolve_omega(omega)
        edge_index, alpha = self.attention(x, edge_index)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        n, c = x.shape
        sx = self.propagate(edge_index, x=x.view(n, self.heads, c // self.heads), alpha=alpha)
        out = omega_mix(x, sx.reshape(n, c), w)
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return alpha.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.channels}, heads={self.heads}, omega={self.omega_mode!r})"
        )
