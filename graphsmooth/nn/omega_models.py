r"""omega-GCN and omega-GAT networks for node and graph classification, in the model registry.

Eliasof, Ruthotto & Treister, `"Improving Graph Neural Networks with Learnable Propagation
Operators" <https://arxiv.org/abs/2210.17224>`_ (ICML 2023). Every layer is an omega step
(:class:`~graphsmooth.nn.conv.OmegaGCNConv` or :class:`~graphsmooth.nn.conv.OmegaGATConv`)
followed by a channel mixing:

- **node classification** (``task="node"``)

  .. math::
      f^{(0)} = \operatorname{ReLU}\big(\mathbf{K}_{\mathrm{open}}\,
      \operatorname{dropout}(\mathbf{X})\big), \qquad
      f^{(l)} = \operatorname{ReLU}\Big(\mathbf{K}_l\, \operatorname{dropout}\big(
      (1 - \boldsymbol{\omega}_l) \odot f^{(l-1)} + \boldsymbol{\omega}_l \odot
      \mathbf{S}^{(l)} f^{(l-1)}\big)\Big), \qquad
      \hat{\mathbf{Y}} = \mathbf{K}_{\mathrm{close}}\, \operatorname{dropout}(f^{(L)}),

  with :math:`\mathbf{K}_l` a bias-free :math:`C \times C` matrix initialised near the identity
  (:math:`\mathbf{I} + \mathcal{N}(0, \sigma^2)`, ``k_init_std`` :math:`= \sigma`), dropout
  :math:`p` before the opening (``input_dropout``, default :math:`p`) and the closing layer
  and :math:`p_L` inside every layer;
- **graph classification** (``task="graph"``): :math:`\mathbf{K}_l` is replaced by a GIN-style MLP
  (``Linear -> BatchNorm -> ReLU -> Linear``, then ReLU), the node features are sum-pooled
  per graph and a two-layer MLP head gives the logits.

**Depth-scaled parametrisation** (``depth_scaling=True``, the default; a design choice of
graphsmooth, see ``docs/omega.md``). With :math:`\alpha_L = \min(1, 2/L)` the network stores
:math:`\boldsymbol{\theta}_l` and :math:`\mathbf{W}_l` and uses

.. math::
    \boldsymbol{\omega}_l = \alpha_L\, \boldsymbol{\theta}_l, \qquad
    \mathbf{K}_l = \mathbf{I} + \alpha_L\, \mathbf{W}_l, \qquad
    \boldsymbol{\theta}_l^{(0)} = 1,

so that (i) an untrained network of any depth diffuses for the same total time
:math:`\sum_l \omega_l = 2` as a 2-layer GCN (the step
:math:`X - \omega (I - S) X` is an explicit Euler step of the heat equation with step size
:math:`\omega`) instead of starting over-smoothed by :math:`\mathbf{S}^L`, and (ii) one Adam
step, which moves every entry of a parameter by about the learning rate whatever its gradient's
size, changes the product of the :math:`L` layers by :math:`O(\text{lr})` and not by
:math:`(1 + \text{lr}\, C)^L` (it is a per-layer learning rate :math:`\alpha_L\,\text{lr}`
for :math:`\boldsymbol{\omega}` and :math:`\mathbf{K}_l`). The function class is unchanged
(:math:`\boldsymbol{\omega}` unconstrained, :math:`\mathbf{K}_l` any matrix). (iii) The
dropout inside the layers is :math:`p_L = 1 - (1 - p)^{\alpha_L}`, so that the product of the
:math:`L` inverted-dropout scalings has the same second moment
:math:`(1-p_L)^{-L} = (1-p)^{-2}` as in a 2-layer network (with a constant :math:`p` the
train-mode noise grows like :math:`(1-p)^{-L}` and, with small :math:`\omega`, swamps the
signal; :math:`p_{64} = 0.028` for :math:`p = 0.6`). At
:math:`L \le 2` it is the plain parametrisation (:math:`\omega^{(0)} = 1`, weight decay pulling
:math:`\mathbf{K}_l` towards :math:`\mathbf{I}` rather than 0). For graph classification, where
:math:`\mathbf{K}_l` is an MLP, only :math:`\boldsymbol{\omega}` and the layer dropout are
depth-scaled.

:math:`\boldsymbol{\omega}` is held by the network as one tensor ``omega`` of shape
``[layers, hidden]`` (``omega="channel"``, the paper's default), ``[layers, 1]``
(``"layer"``), ``[1, hidden]`` (``"shared"``: one channel-wise vector for all layers) or
``[1, 1]`` (``"shared_scalar"``), holding :math:`\boldsymbol{\theta}` (the effective
:math:`\boldsymbol{\omega} = \alpha_L \boldsymbol{\theta}` is :meth:`OmegaNet.omega_values`),
initialised so that :math:`\boldsymbol{\omega}^{(0)}` = ``omega_init`` (default
:math:`\alpha_L`) and unconstrained. The normalised operator (GCN) or the self-looped graph (GAT) is
computed once per forward pass and shared by all layers, and with ``cached=True`` once for the
whole training (transductive node classification only).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.typing import Adj, OptTensor
from torch_geometric.utils import is_torch_sparse_tensor, to_torch_csr_tensor

from graphsmooth.nn.conv.omega import (
    OmegaGATConv,
    OmegaGCNConv,
    attention_graph,
    csr_linear,
    csr_matmul,
    csr_transpose,
    gcn_operator,
    omega_mix,
)
from graphsmooth.nn.models import GRAPH_DEFAULTS, NODE_DEFAULTS, register_model

__all__ = [
    "NETWORK_OMEGA_MODES",
    "OPTIM_GROUPS",
    "OmegaGAT",
    "OmegaGCN",
    "OmegaNet",
    "omega_gat",
    "omega_gcn",
]

#: Shapes of the network's omega tensor by mode (``L`` layers, ``C`` hidden channels).
NETWORK_OMEGA_MODES = {
    "channel": "[L, C]",
    "layer": "[L, 1]",
    "shared": "[1, C]",
    "shared_scalar": "[1, 1]",
}
_POOLS = {"sum": global_add_pool, "add": global_add_pool, "mean": global_mean_pool}
_POOLS["max"] = global_max_pool
#: Optimiser groups of :meth:`OmegaNet.param_groups` (``optim_groups`` keys).
OPTIM_GROUPS = ("io", "mix", "omega", "attention")


class OmegaNet(nn.Module):
    r"""An omega-GNN (see the module docstring for the maths); use :class:`OmegaGCN` or
    :class:`OmegaGAT`.

    Args:
        task (str): ``"node"`` or ``"graph"`` classification.
        in_channels (int): Input features.
        out_channels (int): Classes.
        hidden (int, optional): Width :math:`C`. (default: 128 node / 64 graph, the registry's)
        layers (int, optional): Number of omega layers :math:`L`. (default: 2 node / 4 graph)
        dropout (float, optional): Dropout before the closing layer (node task) or in the graph
            head, and before the opening layer unless ``input_dropout`` is given.
            (default: ``0.5``)
        input_dropout (float, optional): Dropout on the input features, before the opening
            layer; ``None`` is ``dropout`` (the paper's network and all earlier results). Use
            ``0`` for one-hot node labels (TU graph classification), where dropping the only
            non-zero feature of a node erases the node's label. (default: ``None``)
        layer_dropout (float, optional): Dropout before every :math:`\mathbf{K}_l`; ``None``
            is :math:`p_L = 1 - (1 - p)^{\alpha_L}` (``dropout`` without depth scaling). Its
            noise is multiplied through all :math:`L` layers. (default: ``None``)
        omega (str, optional): ``"channel"``, ``"layer"``, ``"shared"`` or ``"shared_scalar"``.
            (default: ``"channel"``)
        omega_init (float, optional): Initial (effective) omega; ``None`` is
            :math:`\alpha_L` (1 without depth scaling). (default: ``None``)
        k_init_std (float, optional): Std of the noise added to the identity initialisation of
            :math:`\mathbf{K}_l` (node task). (default: ``0.01``)
        depth_scaling (bool, optional): Use the depth-scaled parametrisation
            :math:`\boldsymbol{\omega} = \alpha_L \boldsymbol{\theta}`,
            :math:`\mathbf{K}_l = \mathbf{I} + \alpha_L \mathbf{W}_l` with
            :math:`\alpha_L = \min(1, 2/L)`; ``False`` stores :math:`\boldsymbol{\omega}` and
            :math:`\mathbf{K}_l` directly (:math:`\alpha = 1`, :math:`\mathbf{K}_l` as a plain
            weight). (default: ``True``)
        cached (bool, optional): Compute the propagation graph once and reuse it on later calls
            (only when every call sees the same graph). (default: ``False``)
        pool (str, optional): Graph readout ``"sum"``, ``"mean"`` or ``"max"``.
            (default: ``"sum"``)
        optim_groups (dict, optional): Per-group optimiser settings used by
            :meth:`param_groups` (and so by the runner): keys among ``"io"`` (opening and
            closing layers, graph head), ``"mix"`` (:math:`\mathbf{K}_l` or the GIN MLPs),
            ``"omega"`` and ``"attention"`` (omega-GAT attention vectors), each a dict with
            ``"lr"`` and / or ``"weight_decay"``; a group or key left out takes the
            optimiser's (the config's) value. ``None``: one group. (default: ``None``)
    """

    conv_name = "omega"

    def __init__(
        self,
        *,
        task: str,
        in_channels: int,
        out_channels: int,
        hidden: int | None = None,
        layers: int | None = None,
        dropout: float = 0.5,
        input_dropout: float | None = None,
        layer_dropout: float | None = None,
        omega: str = "channel",
        omega_init: float | None = None,
        k_init_std: float = 0.01,
        depth_scaling: bool = True,
        cached: bool = False,
        pool: str = "sum",
        optim_groups: dict | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if task not in ("node", "graph"):
            raise ValueError(f"{name}: task must be 'node' or 'graph', got {task!r}")
        defaults = NODE_DEFAULTS if task == "node" else GRAPH_DEFAULTS
        hidden = int(defaults["hidden"] if hidden is None else hidden)
        layers = int((2 if task == "node" else defaults["layers"]) if layers is None else layers)
        if min(in_channels, out_channels, hidden, layers) < 1:
            raise ValueError(
                f"{name}: in_channels, out_channels, hidden and layers must be positive, got "
                f"{in_channels}, {out_channels}, {hidden}, {layers}"
            )
        alpha = min(1.0, 2.0 / layers) if depth_scaling else 1.0
        if layer_dropout is None and 0.0 <= dropout < 1.0:
            layer_dropout = 1.0 - (1.0 - dropout) ** alpha
        if input_dropout is None:
            input_dropout = dropout
        for key, p in (
            ("dropout", dropout),
            ("input_dropout", input_dropout),
            ("layer_dropout", layer_dropout),
        ):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"{name}: {key} must be in [0, 1), got {p}")
        if omega not in NETWORK_OMEGA_MODES:
            raise ValueError(
                f"{name}: omega must be one of {list(NETWORK_OMEGA_MODES)}, got {omega!r}"
            )
        if pool not in _POOLS:
            raise ValueError(f"{name}: pool must be one of {sorted(_POOLS)}, got {pool!r}")
        for group, settings in (optim_groups or {}).items():
            if group not in OPTIM_GROUPS or not isinstance(settings, dict):
                raise ValueError(
                    f"{name}: optim_groups keys must be among {list(OPTIM_GROUPS)} with dict "
                    f"values, got {group!r}: {settings!r}"
                )
            bad = set(settings) - {"lr", "weight_decay"}
            if bad:
                raise ValueError(
                    f"{name}: optim_groups[{group!r}] takes lr / weight_decay, got {bad}"
                )
        self.optim_groups = {k: dict(v) for k, v in (optim_groups or {}).items()}
        self.task, self.in_channels, self.out_channels = task, in_channels, out_channels
        self.hidden, self.num_layers = hidden, layers
        self.dropout, self.layer_dropout = float(dropout), float(layer_dropout)
        self.input_dropout = float(input_dropout)
        self.depth_scaling = bool(depth_scaling)
        #: alpha_L: omega = alpha * theta, K_l = I + alpha * W_l (1 without depth scaling)
        self.alpha = alpha
        omega_init = self.alpha if omega_init is None else float(omega_init)
        self.omega_mode, self.omega_init, self.k_init_std = omega, omega_init, k_init_std
        self.cached, self.pool = cached, pool
        self._cache: tuple | None = None

        rows = layers if omega in ("channel", "layer") else 1
        cols = hidden if omega in ("channel", "shared") else 1
        self.omega = nn.Parameter(torch.empty(rows, cols))
        self.lin_open = nn.Linear(in_channels, hidden)
        self.convs = nn.ModuleList([self.make_conv(hidden) for _ in range(layers)])
        if task == "node":
            self.mix = nn.ModuleList([nn.Linear(hidden, hidden, bias=False) for _ in range(layers)])
            self.lin_close = nn.Linear(hidden, out_channels)
            self.head = None
        else:
            self.mix = nn.ModuleList(
                [
                    nn.Sequential(
                        nn.Linear(hidden, hidden),
                        nn.BatchNorm1d(hidden),
                        nn.ReLU(),
                        nn.Linear(hidden, hidden),
                    )
                    for _ in range(layers)
                ]
            )
            self.lin_close = None
            self.head = nn.Sequential(
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, out_channels),
            )
        self.reset_parameters()

    # -- construction hooks -------------------------------------------------------------------
    def make_conv(self, hidden: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def propagation_graph(self, x: Tensor, edge_index: Adj, edge_weight: OptTensor):
        """Graph (and weights) handed to every layer; computed once per call or cached."""
        raise NotImplementedError  # pragma: no cover - abstract

    def run_conv(self, conv: nn.Module, x: Tensor, graph, omega: Tensor) -> Tensor:
        raise NotImplementedError  # pragma: no cover - abstract

    # -- parameters ---------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.omega.fill_(self.omega_init / self.alpha)  # theta; omega = alpha * theta
        self.lin_open.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        for m in self.mix:
            if isinstance(m, nn.Linear):  # K_l = I + N(0, k_init_std^2)
                with torch.no_grad():
                    if self.depth_scaling:  # the weight is W_l, K_l = I + alpha W_l
                        nn.init.normal_(m.weight, 0.0, self.k_init_std / self.alpha)
                    else:  # the weight is K_l itself
                        nn.init.normal_(m.weight, 0.0, self.k_init_std)
                        m.weight.add_(torch.eye(self.hidden))
            else:
                for sub in m:
                    if hasattr(sub, "reset_parameters"):
                        sub.reset_parameters()
        if self.lin_close is not None:
            self.lin_close.reset_parameters()
        if self.head is not None:
            for sub in self.head:
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
        self._cache = None
        self._x_cache = None

    def group_parameters(self) -> dict[str, list[nn.Parameter]]:
        """The parameters of each optimiser group (see ``optim_groups``); every parameter is in
        exactly one group."""
        io = list(self.lin_open.parameters())
        for m in (self.lin_close, self.head):
            if m is not None:
                io += list(m.parameters())
        return {
            "io": io,
            "mix": list(self.mix.parameters()),
            "omega": [self.omega],
            "attention": list(self.convs.parameters()),
        }

    def param_groups(self, lr: float, weight_decay: float) -> list[dict]:
        """``torch.optim`` parameter groups: one group with ``lr`` and ``weight_decay`` when
        ``optim_groups`` is empty (the runner's default optimiser), else one group per entry of
        :meth:`group_parameters`, with ``optim_groups`` overriding ``lr`` / ``weight_decay``."""
        if not self.optim_groups:
            return [{"params": list(self.parameters()), "lr": lr, "weight_decay": weight_decay}]
        out = []
        for group, params in self.group_parameters().items():
            if params:
                settings = {"lr": lr, "weight_decay": weight_decay}
                settings.update(self.optim_groups.get(group, {}))
                out.append({"params": params, "name": group, **settings})
        return out

    def omega_values(self) -> Tensor:
        """The effective omega of every layer and channel, detached, shape ``[layers, hidden]``."""
        return (self.alpha * self.omega.detach()).expand(self.num_layers, self.hidden).clone()

    def trial_extras(self) -> dict:
        """What the benchmark runner records with each trial (after training, final weights):
        ``{"omega": omega_values() as nested lists [layers][hidden]}``."""
        return {"omega": self.omega_values().tolist()}

    def mixing_matrices(self) -> Tensor:
        """The effective :math:`\\mathbf{K}_l` of the node task, detached, ``[layers, C, C]``."""
        if self.task != "node":
            raise ValueError(f"{type(self).__name__}: K_l is a matrix only for task='node'")
        w = torch.stack([m.weight.detach() for m in self.mix])
        if not self.depth_scaling:
            return w.clone()
        return torch.eye(self.hidden, dtype=w.dtype, device=w.device) + self.alpha * w

    # -- forward ------------------------------------------------------------------------------
    def open(self, x: Tensor) -> Tensor:
        r""":math:`\mathbf{K}_{\mathrm{open}}\, \operatorname{dropout}(\mathbf{X})` (``input_dropout``).

        With ``cached=True`` and sparse input features (under 10 % non-zeros, e.g. bag-of-words
        on Planetoid) the features are kept as a CSR matrix: dropout acts on the non-zeros only
        (dropping a zero changes nothing) and the product is sparse-dense. Same distribution as
        the dense path, several times cheaper on Cora's 2708 x 1433 features. The pattern of
        the transposed features, which the weight's gradient needs, is computed once with them
        (:func:`~graphsmooth.nn.conv.omega.csr_linear`; ``torch.addmm`` re-sorts all non-zeros
        in every backward pass; same gradients to the bit).
        """
        cache = self._sparse_features(x) if self.cached else None
        if cache is None:
            return self.lin_open(F.dropout(x, p=self.input_dropout, training=self.training))
        sp, sp_t = cache
        if self.training and self.input_dropout > 0:
            values = F.dropout(sp.values(), p=self.input_dropout, training=True)
            sp = torch.sparse_csr_tensor(sp.crow_indices(), sp.col_indices(), values, sp.shape)
        return csr_linear(sp, sp_t, self.lin_open.weight, self.lin_open.bias)

    def _sparse_features(self, x: Tensor) -> tuple | None:
        """``(X as CSR, (crow, col, perm) of its transpose)`` for sparse features, else ``None``."""
        if x.layout != torch.strided or x.dim() != 2 or x.requires_grad:
            return None
        key = (x.data_ptr(), tuple(x.shape), x._version, x.dtype, x.device)
        cache = getattr(self, "_x_cache", None)
        if cache is None or cache[0] != key:
            nnz = int(torch.count_nonzero(x))
            entry = None
            if nnz < 0.1 * x.numel():
                sp = x.to_sparse_csr()
                sp_t, perm = csr_transpose(sp)
                entry = (sp, (sp_t.crow_indices(), sp_t.col_indices(), perm))
            cache = (key, entry)
            self._x_cache = cache
        return cache[1]

    def _graph(self, x: Tensor, edge_index: Adj, edge_weight: OptTensor):
        if self._cache is not None:
            return self._cache
        graph = self.propagation_graph(x, edge_index, edge_weight)
        if self.cached:
            self._cache = graph
        return graph

    def hidden_states(
        self,
        x: Tensor,
        edge_index: Adj,
        edge_weight: OptTensor = None,
        *,
        all_layers: bool = False,
    ) -> Tensor | list[Tensor]:
        """The last hidden layer :math:`f^{(L)}` (``[N, hidden]``), e.g. for the Dirichlet energy;
        with ``all_layers=True`` the list :math:`[f^{(0)}, \\dots, f^{(L)}]`."""
        graph = self._graph(x, edge_index, edge_weight)
        x = torch.relu(self.open(x))
        states = [x] if all_layers else None
        rows = self.omega.size(0)
        node_residual = self.task == "node" and self.depth_scaling
        for i, (conv, mix) in enumerate(zip(self.convs, self.mix, strict=True)):
            x = self.run_conv(conv, x, graph, self.alpha * self.omega[i if rows > 1 else 0])
            x = F.dropout(x, p=self.layer_dropout, training=self.training)
            if node_residual:  # K_l x = x + alpha W_l x, one fused addmm
                x = torch.relu(torch.addmm(x, x, mix.weight.t(), alpha=self.alpha))
            else:
                x = torch.relu(mix(x))
            if all_layers:
                states.append(x)
        return states if all_layers else x

    def forward(
        self,
        x: Tensor,
        edge_index: Adj,
        batch: OptTensor = None,
        edge_weight: OptTensor = None,
    ) -> Tensor:
        """Logits per node (``task="node"``) or per graph (``task="graph"``)."""
        h = self.hidden_states(x, edge_index, edge_weight)
        if self.task == "node":
            h = F.dropout(h, p=self.dropout, training=self.training)
            return self.lin_close(h)
        if batch is None:
            batch = h.new_zeros(h.size(0), dtype=torch.long)
        return self.head(_POOLS[self.pool](h, batch))

    def __repr__(self) -> str:
        extra = f", pool={self.pool!r}" if self.task == "graph" else ""
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, task={self.task!r}, "
            f"hidden={self.hidden}, layers={self.num_layers}, dropout={self.dropout}, "
            f"{'' if self.input_dropout == self.dropout else f'input_dropout={self.input_dropout}, '}"
            f"omega={self.omega_mode!r}{self._repr_extra()}{extra}"
            f"{'' if self.depth_scaling else ', depth_scaling=False'})"
        )

    def _repr_extra(self) -> str:
        return ""


class OmegaGCN(OmegaNet):
    r"""omega-GCN network: every layer is an :class:`~graphsmooth.nn.conv.OmegaGCNConv` step with
    :math:`\mathbf{S} = \hat{\mathbf{D}}^{-1/2}(\mathbf{A}+\mathbf{I})\hat{\mathbf{D}}^{-1/2}`,
    normalised once per forward pass (or once in all with ``cached=True``).

    Args:
        sparse (bool, optional): Propagate with a ``torch.sparse_csr`` matrix (one sparse-dense
            product per layer) instead of PyG's gather/scatter over edges; same result.
            (default: ``True``)
        Others as :class:`OmegaNet`.
    """

    def __init__(self, *, sparse: bool = True, **kwargs) -> None:
        self.sparse = bool(sparse)
        super().__init__(**kwargs)

    def make_conv(self, hidden: int) -> nn.Module:
        return OmegaGCNConv(hidden, omega="none", normalize=False)

    def propagation_graph(self, x, edge_index, edge_weight):
        op, w = gcn_operator(edge_index, edge_weight, x.size(0), add_self_loops=True, dtype=x.dtype)
        if self.sparse and isinstance(op, Tensor) and not is_torch_sparse_tensor(op):
            # S as a CSR matrix: rows are targets (PyG's adj_t), so spmm(S, x)_i = sum_j S_ij x_j
            # equals the edge-wise sum over (j -> i); about 2x faster than gather/scatter on CPU.
            # Its transpose (the backward pass's operator) is built here once, not in every
            # backward pass (csr_matmul; same products to the bit as autograd through spmm).
            s = to_torch_csr_tensor(op.flip(0), w, size=(x.size(0), x.size(0)))
            return s, None, csr_transpose(s)[0]
        return op, w

    def run_conv(self, conv, x, graph, omega):
        if len(graph) == 3:  # CSR S with its transpose: the conv's step, S X by csr_matmul
            return omega_mix(x, csr_matmul(graph[0], graph[2], x), omega)
        return conv(x, graph[0], graph[1], omega=omega)


class OmegaGAT(OmegaNet):
    r"""omega-GAT network: every layer is an :class:`~graphsmooth.nn.conv.OmegaGATConv` step
    (``heads`` heads of ``hidden // heads`` channels, attention without projection, softmax over
    :math:`\mathcal{N}(i) \cup \{i\}`).

    Args:
        heads (int, optional): Attention heads; must divide ``hidden``. (default: ``8``)
        attn_dropout (float, optional): Dropout on the attention coefficients. (default: ``0.0``)
        Others as :class:`OmegaNet`.
    """

    def __init__(self, *, heads: int = 8, attn_dropout: float = 0.0, **kwargs) -> None:
        task = kwargs.get("task", "node")
        defaults = NODE_DEFAULTS if task == "node" else GRAPH_DEFAULTS
        hidden = int(kwargs.get("hidden") or defaults["hidden"])
        if heads < 1 or hidden % heads != 0:
            raise ValueError(f"OmegaGAT: heads ({heads}) must be >= 1 and divide hidden ({hidden})")
        self.heads, self.attn_dropout = int(heads), float(attn_dropout)
        super().__init__(**kwargs)

    def make_conv(self, hidden: int) -> nn.Module:
        return OmegaGATConv(
            hidden, heads=self.heads, omega="none", dropout=self.attn_dropout, add_self_loops=False
        )

    def propagation_graph(self, x, edge_index, edge_weight):
        return (attention_graph(edge_index, x.size(0), add_self_loops=True),)

    def run_conv(self, conv, x, graph, omega):
        return conv(x, graph[0], omega=omega)

    def _repr_extra(self) -> str:
        return f", heads={self.heads}"


# Registry factories with explicit keyword lists, so that build_model rejects an unknown option
# with a ValueError naming it (the classes take **kwargs, which the registry cannot check).
@register_model("omega_gcn", tasks=("node", "graph"))
def omega_gcn(
    *,
    task: str,
    in_channels: int,
    out_channels: int,
    hidden: int | None = None,
    layers: int | None = None,
    dropout: float = 0.5,
    input_dropout: float | None = None,
    layer_dropout: float | None = None,
    omega: str = "channel",
    omega_init: float | None = None,
    k_init_std: float = 0.01,
    depth_scaling: bool = True,
    cached: bool = False,
    pool: str = "sum",
    optim_groups: dict | None = None,
    sparse: bool = True,
) -> OmegaGCN:
    """Build an :class:`OmegaGCN` (registry name ``omega_gcn``); arguments as the class."""
    return OmegaGCN(**{k: v for k, v in locals().items()})


@register_model("omega_gat", tasks=("node", "graph"))
def omega_gat(
    *,
    task: str,
    in_channels: int,
    out_channels: int,
    hidden: int | None = None,
    layers: int | None = None,
    dropout: float = 0.5,
    input_dropout: float | None = None,
    layer_dropout: float | None = None,
    omega: str = "channel",
    omega_init: float | None = None,
    k_init_std: float = 0.01,
    depth_scaling: bool = True,
    cached: bool = False,
    pool: str = "sum",
    optim_groups: dict | None = None,
    heads: int = 8,
    attn_dropout: float = 0.0,
) -> OmegaGAT:
    """Build an :class:`OmegaGAT` (registry name ``omega_gat``); arguments as the class."""
    return OmegaGAT(**{k: v for k, v in locals().items()})
