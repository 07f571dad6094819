r"""Node- and graph-classification networks by name: the model registry used by the runner.

Baselines (GCN, GIN, GAT) follow the configuration of the curvature papers the runner reproduces
(Fesser & Weber, "Mitigating Over-smoothing and Over-squashing using Augmentations of
Forman-Ricci Curvature" / LCP, LoG 2023; Nguyen et al., "Revisiting Over-smoothing and
Over-squashing Using Ollivier-Ricci Curvature" / BORF, ICML 2023): ReLU, dropout 0.5,

- **node classification**: ``layers`` stacked message-passing layers (default 3, hidden 128);
  the last layer maps directly to the classes,

  .. math::
      H^{(0)} = X,\qquad
      H^{(l)} = \operatorname{dropout}\big(\operatorname{ReLU}(\operatorname{conv}_l(H^{(l-1)}, A))\big),
      \qquad \hat Y = \operatorname{conv}_L(H^{(L-1)}, A);

- **graph classification**: ``layers`` hidden message-passing layers (default 4, hidden 64),
  global pooling (mean by default, ``pool="sum"|"max"``) and a two-layer MLP head,

  .. math::
      h_G = \operatorname{pool}\{H^{(L)}_v : v \in G\},\qquad
      \hat y_G = W_2\, \operatorname{dropout}(\operatorname{ReLU}(W_1 h_G)).

Every registered network is called as ``model(x, edge_index, batch=None)`` and returns logits:
``[num_nodes, out_channels]`` for ``task="node"`` and ``[num_graphs, out_channels]`` for
``task="graph"`` (``batch`` is PyG's node-to-graph assignment vector; ``None`` means one graph).

Registering a network (the omega-GNN module does this)::

    from graphsmooth.nn.models import register_model

    @register_model("omega_gcn", tasks=("node", "graph"))
    def omega_gcn(*, task, in_channels, out_channels, hidden=None, layers=None, dropout=0.5, **kwargs):
        ...  # return a torch.nn.Module following the calling convention above

``build_model`` passes ``task``, ``in_channels`` and ``out_channels`` and only those of
``hidden``, ``layers``, ``dropout`` that are not ``None``, plus the extra keyword arguments, so each
factory keeps its own defaults.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.nn import (
    GATConv,
    GCNConv,
    GINConv,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
)

__all__ = [
    "GAT",
    "GCN",
    "GIN",
    "GRAPH_DEFAULTS",
    "MODELS",
    "NODE_DEFAULTS",
    "ModelEntry",
    "build_model",
    "model_names",
    "register_model",
]

#: LCP/BORF node-classification defaults.
NODE_DEFAULTS: dict[str, float | int] = {"hidden": 128, "layers": 3, "dropout": 0.5}
#: LCP/BORF graph-classification defaults.
GRAPH_DEFAULTS: dict[str, float | int] = {"hidden": 64, "layers": 4, "dropout": 0.5}

TASKS = ("node", "graph")
_POOLS = {
    "mean": global_mean_pool,
    "sum": global_add_pool,
    "add": global_add_pool,
    "max": global_max_pool,
}


@dataclass(frozen=True)
class ModelEntry:
    """A registered network: its factory and the tasks it supports."""

    name: str
    factory: Callable[..., nn.Module]
    tasks: tuple[str, ...]

    def accepted_kwargs(self) -> set[str] | None:
        """Names of keyword arguments the factory accepts (``None``: anything, ``**kwargs``).

        For a class whose ``__init__`` forwards ``**kwargs`` to its base classes, the names
        accepted along the method resolution order are collected."""
        targets = [self.factory]
        if inspect.isclass(self.factory):
            targets = [c.__init__ for c in self.factory.__mro__ if "__init__" in vars(c)]
        names: set[str] = set()
        for target in targets:
            params = inspect.signature(target).parameters.values()
            names |= {
                p.name
                for p in params
                if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
            }
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                return names - {"self"}
            if target is nn.Module.__init__:
                break
        return None


#: name -> :class:`ModelEntry`; names are lower case.
MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, tasks: Sequence[str] = TASKS) -> Callable:
    """Decorator registering a network factory (class or function) under ``name``.

    Args:
        name (str): registry key (case-insensitive, stored lower case).
        tasks (sequence of str): subset of ``("node", "graph")`` the factory supports.
            (default: both)

    The factory is called with keyword arguments ``task``, ``in_channels``, ``out_channels`` and
    optional ``hidden``, ``layers``, ``dropout`` and model-specific extras.
    """
    key = name.lower()
    tasks = tuple(tasks)
    bad = [t for t in tasks if t not in TASKS]
    if bad or not tasks:
        raise ValueError(
            f"register_model({name!r}): tasks must be a non-empty subset of {TASKS}, got {tasks}"
        )

    def decorator(factory: Callable) -> Callable:
        if key in MODELS and MODELS[key].factory is not factory:
            raise ValueError(f"register_model: the name {key!r} is already registered")
        MODELS[key] = ModelEntry(key, factory, tasks)
        return factory

    return decorator


def model_names(task: str | None = None) -> list[str]:
    """Sorted names of the registered networks (those supporting ``task`` when given)."""
    return sorted(k for k, e in MODELS.items() if task is None or task in e.tasks)


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry for ``name``; ``ValueError`` listing the known names otherwise."""
    key = name.lower()
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(model_names())}")
    return MODELS[key]


def build_model(
    name: str,
    *,
    task: str,
    in_channels: int,
    out_channels: int,
    hidden: int | None = None,
    layers: int | None = None,
    dropout: float | None = None,
    **kwargs,
) -> nn.Module:
    """Build the registered network ``name`` for ``task``.

    Args:
        name (str): registered model name (``gcn``, ``gin``, ``gat``, ...).
        task (str): ``"node"`` or ``"graph"`` classification.
        in_channels (int): input feature size.
        out_channels (int): number of classes.
        hidden (int, optional): hidden width. (default: the factory's, LCP/BORF setting for baselines)
        layers (int, optional): number of message-passing layers. (default: the factory's)
        dropout (float, optional): dropout probability. (default: the factory's, 0.5 for baselines)
        **kwargs: model-specific options (``heads`` for GAT, ``pool`` for graph models, ...).

    Raises:
        ValueError: unknown name, unsupported task, or an option the factory does not accept.
    """
    entry = get_model_entry(name)
    if task not in entry.tasks:
        raise ValueError(
            f"model {entry.name!r} does not support task {task!r} (supports: {', '.join(entry.tasks)})"
        )
    accepted = entry.accepted_kwargs()
    if accepted is not None:
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            raise ValueError(f"model {entry.name!r} got unknown option(s) {unknown}")
    opts = {
        k: v
        for k, v in (("hidden", hidden), ("layers", layers), ("dropout", dropout))
        if v is not None
    }
    return entry.factory(
        task=task, in_channels=in_channels, out_channels=out_channels, **opts, **kwargs
    )


def _check(
    cls: str,
    task: str,
    in_channels: int,
    out_channels: int,
    hidden: int,
    layers: int,
    dropout: float,
):
    if task not in TASKS:
        raise ValueError(f"{cls}: task must be one of {TASKS}, got {task!r}")
    if in_channels < 1 or out_channels < 1 or hidden < 1:
        raise ValueError(
            f"{cls}: in_channels, out_channels and hidden must be positive, "
            f"got {in_channels}, {out_channels}, {hidden}"
        )
    if layers < 1:
        raise ValueError(f"{cls}: layers must be >= 1, got {layers}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{cls}: dropout must be in [0, 1), got {dropout}")


class _StackedGNN(nn.Module):
    """Shared skeleton: stacked convolutions, ReLU + dropout, optional pooling + MLP head."""

    def __init__(
        self,
        *,
        task: str,
        in_channels: int,
        out_channels: int,
        hidden: int | None = None,
        layers: int | None = None,
        dropout: float = 0.5,
        pool: str = "mean",
        input_dropout: float = 0.0,
        head: str = "mlp",
    ):
        super().__init__()
        defaults = NODE_DEFAULTS if task == "node" else GRAPH_DEFAULTS
        hidden = int(defaults["hidden"] if hidden is None else hidden)
        layers = int(defaults["layers"] if layers is None else layers)
        _check(type(self).__name__, task, in_channels, out_channels, hidden, layers, dropout)
        if not 0.0 <= input_dropout < 1.0:
            raise ValueError(
                f"{type(self).__name__}: input_dropout must be in [0, 1), got {input_dropout}"
            )
        self.input_dropout = float(input_dropout)
        if pool not in _POOLS:
            raise ValueError(
                f"{type(self).__name__}: pool must be one of {sorted(_POOLS)}, got {pool!r}"
            )
        if head not in ("mlp", "none"):
            raise ValueError(f"{type(self).__name__}: head must be 'mlp' or 'none', got {head!r}")
        self.head_kind = head
        # the last convolution maps to the classes for node tasks, and for graph tasks without
        # an MLP head (their node logits are pooled, as in the LCP authors' graph model)
        self._last_to_classes = task == "node" or head == "none"
        self.task, self.in_channels, self.out_channels = task, in_channels, out_channels
        self.hidden, self.num_layers, self.dropout, self.pool = hidden, layers, dropout, pool
        convs = []
        for i in range(layers):
            c_in = in_channels if i == 0 else hidden
            last = self._last_to_classes and i == layers - 1
            convs.append(self.make_conv(c_in, out_channels if last else hidden, last=last))
        self.convs = nn.ModuleList(convs)
        if task == "graph" and head == "mlp":
            self.head = nn.Sequential(
                nn.Linear(self.conv_out(hidden), hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, out_channels),
            )
        else:
            self.head = None
        self.reset_parameters()

    def make_conv(self, c_in: int, c_out: int, *, last: bool) -> nn.Module:  # pragma: no cover
        raise NotImplementedError

    def conv_out(self, hidden: int) -> int:
        return hidden

    def reset_parameters(self):
        for conv in self.convs:
            conv.reset_parameters()
        if self.head is not None:
            for m in self.head:
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None) -> Tensor:
        """Logits per node (``task="node"``) or per graph (``task="graph"``)."""
        n_hidden = len(self.convs) - (1 if self._last_to_classes else 0)
        x = nn.functional.dropout(x, p=self.input_dropout, training=self.training)
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if i < n_hidden:
                x = torch.relu(x)
                x = nn.functional.dropout(x, p=self.dropout, training=self.training)
        if self.task == "node":
            return x
        if batch is None:
            batch = x.new_zeros(x.size(0), dtype=torch.long)
        pooled = _POOLS[self.pool](x, batch)
        return pooled if self.head is None else self.head(pooled)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, task={self.task!r}, "
            f"hidden={self.hidden}, layers={self.num_layers}, dropout={self.dropout}"
            + (f", pool={self.pool!r}" if self.task == "graph" else "")
            + (f", head={self.head_kind!r})" if self.task == "graph" and self.head is None else ")")
        )


@register_model("gcn")
class GCN(_StackedGNN):
    r"""GCN baseline (Kipf & Welling, ICLR 2017) with PyG's :class:`~torch_geometric.nn.GCNConv`:
    :math:`H' = \hat D^{-1/2}(A + I)\hat D^{-1/2} H W`.

    Args:
        task (str): ``"node"`` or ``"graph"``.
        in_channels (int): input features.
        out_channels (int): classes.
        hidden (int, optional): width. (default: 128 node / 64 graph)
        layers (int, optional): message-passing layers. (default: 3 node / 4 graph)
        dropout (float): dropout after every hidden layer. (default: 0.5)
        pool (str): graph readout ``"mean"``, ``"sum"`` or ``"max"``. (default: ``"mean"``)
        head (str): graph tasks: ``"mlp"`` (pool the last hidden layer, two-layer MLP head) or
            ``"none"`` (the last layer maps to the classes and its outputs are pooled, as in the
            LCP authors' graph model). (default: ``"mlp"``)
        input_dropout (float): dropout on the input features (Kipf & Welling use 0.5 on
            Planetoid). (default: 0.0)
        cached (bool): cache the normalised adjacency after the first call; only valid when
            the model always sees the same graph (transductive node classification).
            (default: ``False``)
    """

    def __init__(self, *, cached: bool = False, **kwargs):
        self.cached = bool(cached)
        super().__init__(**kwargs)

    def make_conv(self, c_in, c_out, *, last):
        return GCNConv(c_in, c_out, cached=self.cached)


@register_model("gin")
class GIN(_StackedGNN):
    r"""GIN baseline (Xu et al., ICLR 2019): :math:`h_v' = \mathrm{MLP}((1+\epsilon)h_v +
    \sum_{u \in N(v)} h_u)` with ``MLP = Linear -> BatchNorm -> ReLU -> Linear`` and
    :math:`\epsilon = 0` (PyG :class:`~torch_geometric.nn.GINConv`, as in the LCP/BORF code).

    Args: as :class:`GCN`.
    """

    def make_conv(self, c_in, c_out, *, last):
        mlp = nn.Sequential(
            nn.Linear(c_in, c_out), nn.BatchNorm1d(c_out), nn.ReLU(), nn.Linear(c_out, c_out)
        )
        # wide inputs (bag-of-words features): sum the projected features, not the raw ones
        return _LinearFirstGINConv(mlp) if c_in > c_out else GINConv(mlp)


class _LinearFirstGINConv(GINConv):
    r""":class:`~torch_geometric.nn.GINConv` whose MLP starts with a linear layer
    :math:`W h + b`, evaluated in the equivalent order

    .. math::
        W\Big((1+\epsilon) h_v + \sum_{u \in N(v)} h_u\Big) + b
        = (1+\epsilon) W h_v + \sum_{u \in N(v)} W h_u + b,

    so that the neighbour sum gathers ``out`` channels instead of ``in`` (3,703 -> 128 on
    CiteSeer: the gather was 60% of an epoch). Same parameters (and ``state_dict``), same function
    up to floating-point rounding."""

    def forward(self, x, edge_index, size=None):
        if not isinstance(x, Tensor):  # bipartite input: the plain order
            return super().forward(x, edge_index, size)
        lin = self.nn[0]
        y = nn.functional.linear(x, lin.weight)
        out = self.propagate(edge_index, x=(y, y), size=size) + (1 + self.eps) * y
        if lin.bias is not None:
            out = out + lin.bias
        for layer in list(self.nn)[1:]:
            out = layer(out)
        return out


@register_model("gat")
class GAT(_StackedGNN):
    r"""GAT baseline (Velickovic et al., ICLR 2018) with PyG's :class:`~torch_geometric.nn.GATConv`.

    Hidden layers use ``heads`` heads of ``hidden // heads`` channels each, concatenated (so the
    hidden width stays ``hidden``); the last node-classification layer uses one head.

    Args:
        heads (int): attention heads of the hidden layers; must divide ``hidden``. (default: 8)
        attn_dropout (float): dropout on attention coefficients. (default: 0.0)
        Others as :class:`GCN`.
    """

    def __init__(self, *, heads: int = 8, attn_dropout: float = 0.0, **kwargs):
        self.heads, self.attn_dropout = int(heads), float(attn_dropout)
        task = kwargs.get("task", "node")
        hidden = (
            kwargs.get("hidden") or (NODE_DEFAULTS if task == "node" else GRAPH_DEFAULTS)["hidden"]
        )
        if self.heads < 1 or hidden % self.heads != 0:
            raise ValueError(f"GAT: heads ({heads}) must be >= 1 and divide hidden ({hidden})")
        super().__init__(**kwargs)

    def make_conv(self, c_in, c_out, *, last):
        if last:
            return GATConv(c_in, c_out, heads=1, concat=False, dropout=self.attn_dropout)
        return GATConv(c_in, c_out // self.heads, heads=self.heads, dropout=self.attn_dropout)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", heads={self.heads})"


# Networks defined elsewhere register themselves with the decorator above on import.
for _module in ("graphsmooth.nn.omega_models",):
    try:
        _found = importlib.util.find_spec(_module) is not None
    except ModuleNotFoundError:  # parent package missing
        _found = False
    if _found:
        importlib.import_module(_module)
