r"""Node and graph classification tasks (the curvature papers' protocol).

Training protocol (both tasks): Adam (``optim.lr``, ``optim.weight_decay``), cross-entropy on
the training nodes / graphs, evaluation after every epoch, early stopping when validation
accuracy has not improved (strictly) for ``training.patience`` epochs, and **test accuracy at
the best validation epoch** (the first epoch reaching the best validation accuracy). Never the
maximum over epochs or splits.

Trials: ``seeds x splits``. Node tasks: ``split.protocol`` ``random`` (a fresh random
train/val/test split per seed, 50/25/25 by default as in the LCP paper), ``public`` (the
Planetoid split; seeds change only the initialisation) or ``geom_gcn`` (the 10 stored splits,
``split.indices`` to choose some, times the seeds). Graph tasks: ``random`` (stratified
80/10/10 per seed) or ``kfold`` (stratified ``split.folds``-fold cross-validation with a
validation part carved from the training folds, times the seeds).

Datasets come from :func:`graphsmooth.data.load_dataset` by name; the name ``csbm`` builds a
contextual stochastic block model with :func:`graphsmooth.data.synthetic.contextual_sbm`
(``dataset.params`` are its keyword arguments; its ``seed`` is fixed per dataset, default 0, so
all trials share one graph).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from graphsmooth.bench.config import ConfigError, RunConfig
from graphsmooth.bench.tasks import Task, register_task

__all__ = [
    "DatasetConfig",
    "GraphClassificationConfig",
    "GraphClassificationTask",
    "GraphSplitConfig",
    "ModelConfig",
    "NodeClassificationConfig",
    "NodeClassificationTask",
    "NodeSplitConfig",
    "OptimConfig",
    "TrainingConfig",
    "resolve_device",
    "seed_everything",
    "train_graph_classifier",
    "train_node_classifier",
]

SYNTHETIC = {"csbm": "contextual_sbm"}


# --------------------------------------------------------------------------- config schema
@dataclass(kw_only=True)
class DatasetConfig:
    """``name`` (a :mod:`graphsmooth.data` dataset or ``csbm``), optional table ``label`` and
    ``params`` (keyword arguments of ``load_dataset`` / the generator)."""

    name: str
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class NodeSplitConfig:
    """Node split: ``protocol`` random | public | geom_gcn; ``train``/``val`` fractions (random);
    ``stratify`` (random); ``indices`` of the stored geom-gcn splits (default all 10)."""

    protocol: Literal["random", "public", "geom_gcn"] = "random"
    train: float = 0.5
    val: float = 0.25
    stratify: bool = False
    indices: list[int] | None = None

    def __post_init__(self):
        if not (0 < self.train < 1 and 0 < self.val < 1 and self.train + self.val < 1):
            raise ConfigError(
                f"train ({self.train}) and val ({self.val}) must be in (0, 1) with sum < 1",
                key="train",
            )


@dataclass(kw_only=True)
class GraphSplitConfig:
    """Graph split: ``protocol`` random (stratified ``train``/``val``/rest) | kfold
    (``folds`` folds, ``fold_indices`` to run some, ``val`` of the training folds held out)."""

    protocol: Literal["random", "kfold"] = "random"
    train: float = 0.8
    val: float = 0.1
    folds: int = 10
    fold_indices: list[int] | None = None

    def __post_init__(self):
        if not (0 < self.train < 1 and 0 < self.val < 1):
            raise ConfigError(f"train and val must be in (0, 1), got {self.train}, {self.val}")
        if self.protocol == "random" and self.train + self.val >= 1:
            raise ConfigError(f"train + val must be < 1, got {self.train + self.val}", key="val")
        if self.folds < 2:
            raise ConfigError(f"must be >= 2, got {self.folds}", key="folds")
        bad = [i for i in self.fold_indices or [] if not 0 <= i < self.folds]
        if bad:
            raise ConfigError(f"indices {bad} outside 0..{self.folds - 1}", key="fold_indices")


@dataclass(kw_only=True)
class ModelConfig:
    """Network from :mod:`graphsmooth.nn.models`: ``name``, ``hidden``, ``layers``, ``dropout``,
    ``heads`` (``None`` = the model's defaults: LCP/BORF settings for the baselines), extra
    ``options`` passed to the factory, optional table ``label``."""

    name: str = "gcn"
    hidden: int | None = None
    layers: int | None = None
    dropout: float | None = None
    heads: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    def kwargs(self) -> dict:
        out = {"hidden": self.hidden, "layers": self.layers, "dropout": self.dropout}
        if self.heads is not None:
            out["heads"] = self.heads
        return {**out, **self.options}


@dataclass(kw_only=True)
class OptimConfig:
    """Adam: ``lr`` (default 1e-3, LCP/BORF) and ``weight_decay`` (default 0)."""

    lr: float = 1e-3
    weight_decay: float = 0.0


@dataclass(kw_only=True)
class TrainingConfig:
    """``max_epochs`` (default 1000), ``patience`` on validation accuracy (default 100),
    ``batch_size`` for graph tasks (default 64), ``eval_batch_size`` (default 256)."""

    max_epochs: int = 1000
    patience: int = 100
    batch_size: int = 64
    eval_batch_size: int = 256

    def __post_init__(self):
        for name in ("max_epochs", "patience", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"must be >= 1, got {getattr(self, name)}", key=name)


TransformList = list[str | dict[str, dict[str, Any] | None]]


@dataclass(kw_only=True)
class NodeClassificationConfig(RunConfig):
    """Schema of ``task: node_classification`` (plus the run fields of :class:`RunConfig`)."""

    dataset: str | DatasetConfig
    split: NodeSplitConfig = field(default_factory=NodeSplitConfig)
    transforms: TransformList = field(default_factory=list)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)


@dataclass(kw_only=True)
class GraphClassificationConfig(RunConfig):
    """Schema of ``task: graph_classification``."""

    dataset: str | DatasetConfig
    split: GraphSplitConfig = field(default_factory=GraphSplitConfig)
    transforms: TransformList = field(default_factory=list)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)


# --------------------------------------------------------------------------- helpers
def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; other strings as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def seed_everything(seed: int, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) for one trial; return a fresh
    ``torch.Generator`` seeded with ``seed`` for the trial's own sampling (splits, shuffling).
    Third-party layers initialise from torch's global generator, hence the global seeding."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - third-party code may use the legacy RNG
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return torch.Generator().manual_seed(seed)


def _dataset_spec(ds) -> dict:
    if isinstance(ds, str):
        return {"name": ds, "params": {}}
    return {"name": ds.name, "params": dict(ds.params)}


def _dataset_label(ds) -> str:
    return ds if isinstance(ds, str) else (ds.label or ds.name)


def _load_graphs(spec: dict, kind: str) -> tuple[list, int]:
    """(graphs, num_classes) of a dataset spec, untransformed."""
    name, params = spec["name"], dict(spec["params"])
    if name.lower() in SYNTHETIC:
        from graphsmooth.data import synthetic

        data = getattr(synthetic, SYNTHETIC[name.lower()])(**params)
        return [data], int(data.y.max()) + 1
    from graphsmooth.data import load_dataset

    ds = load_dataset(name, **params)
    graphs = [ds[i] for i in range(len(ds))] if kind == "graph" else [ds[0]]
    return graphs, int(ds.num_classes)


_MEMO: dict[str, tuple[list, int]] = {}


def prepared_graphs(config, kind: str) -> tuple[list, int]:
    """Graphs of a sweep point after its transforms (disk-cached; memoised per process)."""
    from graphsmooth.bench.transforms import apply_transforms, normalize_specs, transform_cache_key

    spec = _dataset_spec(config.dataset)
    specs = normalize_specs(config.transforms)
    key = transform_cache_key(spec, specs) if specs else repr(spec)
    if key not in _MEMO:
        graphs, num_classes = _load_graphs(spec, kind)
        graphs = apply_transforms(graphs, specs, dataset_spec=spec)
        if len(_MEMO) >= 4:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = (graphs, num_classes)
    return _MEMO[key]


def _validate_common(config, kind: str) -> None:
    from graphsmooth.bench.transforms import build_transform, normalize_specs
    from graphsmooth.nn.models import build_model, get_model_entry

    spec = _dataset_spec(config.dataset)
    if spec["name"].lower() not in SYNTHETIC:
        from graphsmooth.data import dataset_info

        try:
            info = dataset_info(spec["name"])
        except ValueError as exc:
            raise ConfigError(str(exc), key="dataset") from None
        if info.kind != kind:
            raise ConfigError(
                f"{info.name} is a {info.kind}-classification dataset, not a {kind} one",
                key="dataset",
            )
    try:
        get_model_entry(config.model.name)
        build_model(
            config.model.name, task=kind, in_channels=4, out_channels=2, **config.model.kwargs()
        )
    except ValueError as exc:
        raise ConfigError(str(exc), key="model") from None
    try:
        for name, kwargs in normalize_specs(config.transforms):
            build_transform(name, kwargs)
    except ValueError as exc:
        raise ConfigError(str(exc), key="transforms") from None


def _method_label(config) -> str:
    from graphsmooth.bench.transforms import normalize_specs

    base = config.model.label or config.model.name
    names = [n for n, _ in normalize_specs(config.transforms)]
    return "+".join([base, *names])


def _as_masks(result, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Accept (train, val, test) masks or index tensors, or an object with ``*_mask``."""
    if hasattr(result, "train_mask"):
        result = (result.train_mask, result.val_mask, result.test_mask)
    out = []
    for m in result:
        m = torch.as_tensor(m)
        if m.dtype != torch.bool:
            mask = torch.zeros(num_nodes, dtype=torch.bool)
            mask[m.long()] = True
            m = mask
        out.append(m)
    return tuple(out)


def node_split(split: NodeSplitConfig, data, trial: dict):
    """Train/val/test boolean masks of one trial."""
    from graphsmooth.data import splits

    n = data.num_nodes
    if split.protocol == "public":
        return _as_masks(splits.public_split(data), n)
    if split.protocol == "geom_gcn":
        return _as_masks(splits.geom_gcn_split(data, trial["split"]), n)
    stratify = data.y if split.stratify else None
    return _as_masks(
        splits.random_node_split(
            n, train=split.train, val=split.val, seed=trial["seed"], stratify=stratify
        ),
        n,
    )


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.Adam:
    """Adam over ``model.param_groups(lr, weight_decay)`` when the model defines it (a list of
    ``torch.optim`` parameter groups, e.g. another learning rate or weight decay for some
    layers), else over all parameters with the config's ``lr`` and ``weight_decay``."""
    groups = getattr(model, "param_groups", None)
    if callable(groups):
        return torch.optim.Adam(groups(lr, weight_decay), lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def _accuracy(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


def train_node_classifier(
    model: torch.nn.Module,
    data,
    masks,
    *,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    max_epochs: int = 1000,
    patience: int = 100,
) -> dict[str, float]:
    r"""Full-batch training with early stopping on validation accuracy.

    Args:
        model: called as ``model(x, edge_index)`` -> logits ``[N, C]``.
        data: PyG ``Data`` (on the model's device) with ``x``, ``edge_index``, ``y``.
        masks: (train, val, test) boolean masks.
        lr (float): Adam learning rate. (default: 1e-3)
        weight_decay (float): Adam weight decay. (default: 0)
        max_epochs (int): epoch limit. (default: 1000)
        patience (int): epochs without a strictly better validation accuracy before stopping.
            (default: 100)

    Returns:
        ``test_acc`` and ``val_acc`` at the best validation epoch, ``train_acc`` there,
        ``best_epoch``, ``epochs`` run and ``epoch_time_s`` (mean seconds per epoch, train +
        evaluation).
    """
    train, val, test = masks
    opt = make_optimizer(model, lr, weight_decay)
    y = data.y.view(-1)
    best = {"val_acc": -1.0, "test_acc": 0.0, "train_acc": 0.0, "best_epoch": -1}
    bad, epoch = 0, 0
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        model.train()
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        loss = torch.nn.functional.cross_entropy(out[train], y[train])
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            out = model(data.x, data.edge_index)
        val_acc = _accuracy(out, y, val)
        if val_acc > best["val_acc"]:
            best = {
                "val_acc": val_acc,
                "test_acc": _accuracy(out, y, test),
                "train_acc": _accuracy(out, y, train),
                "best_epoch": epoch,
            }
            bad = 0
        else:
            bad += 1
            if bad >= patience:
                break
    elapsed = time.perf_counter() - start
    return {**best, "epochs": epoch, "epoch_time_s": elapsed / max(epoch, 1)}


def _graph_accuracy(model, loader, device) -> float:
    correct, total = 0, 0
    model.eval()
    with torch.no_grad():
        for batch in loader:
            batch = batch.to(device)
            pred = model(batch.x, batch.edge_index, batch.batch).argmax(-1)
            correct += int((pred == batch.y.view(-1)).sum())
            total += batch.num_graphs
    return correct / max(total, 1)


def train_graph_classifier(
    model: torch.nn.Module,
    graphs: list,
    split_idx,
    *,
    device: torch.device,
    generator: torch.Generator,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    max_epochs: int = 1000,
    patience: int = 100,
    batch_size: int = 64,
    eval_batch_size: int = 256,
) -> dict[str, float]:
    """Mini-batch training over graphs with early stopping on validation accuracy.

    Args:
        model: called as ``model(x, edge_index, batch)`` -> logits ``[num_graphs, C]``.
        graphs (list of Data): all graphs.
        split_idx: (train, val, test) index tensors into ``graphs``.
        device: where batches go.
        generator: shuffles the training loader (reproducibility).
        Others as :func:`train_node_classifier`; ``batch_size`` (default 64) for training,
        ``eval_batch_size`` (default 256) for evaluation.
    """
    from torch_geometric.loader import DataLoader

    train_idx, val_idx, test_idx = (torch.as_tensor(i).long().tolist() for i in split_idx)
    train_loader = DataLoader(
        [graphs[i] for i in train_idx], batch_size=batch_size, shuffle=True, generator=generator
    )
    val_loader = DataLoader([graphs[i] for i in val_idx], batch_size=eval_batch_size)
    test_loader = DataLoader([graphs[i] for i in test_idx], batch_size=eval_batch_size)
    opt = make_optimizer(model, lr, weight_decay)
    best = {"val_acc": -1.0, "test_acc": 0.0, "best_epoch": -1}
    bad, epoch = 0, 0
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        model.train()
        for batch in train_loader:
            batch = batch.to(device)
            opt.zero_grad()
            out = model(batch.x, batch.edge_index, batch.batch)
            loss = torch.nn.functional.cross_entropy(out, batch.y.view(-1))
            loss.backward()
            opt.step()
        val_acc = _graph_accuracy(model, val_loader, device)
        if val_acc > best["val_acc"]:
            best = {
                "val_acc": val_acc,
                "test_acc": _graph_accuracy(model, test_loader, device),
                "best_epoch": epoch,
            }
            bad = 0
        else:
            bad += 1
            if bad >= patience:
                break
    elapsed = time.perf_counter() - start
    return {**best, "epochs": epoch, "epoch_time_s": elapsed / max(epoch, 1)}


def with_extras(metrics: dict, model: torch.nn.Module) -> dict:
    """``metrics`` plus, under ``"extras"``, what the trained model reports about itself.

    A model may define ``trial_extras() -> dict`` (JSON-serialisable; e.g. the learned omega
    of the omega networks, :meth:`graphsmooth.nn.OmegaNet.trial_extras`). It is called once,
    after training, on the final weights. The runner stores the dict in the trial's record
    (``results.jsonl``, key ``"extras"``), next to the metrics, not among them."""
    fn = getattr(model, "trial_extras", None)
    extras = fn() if callable(fn) else None
    return {**metrics, "extras": extras} if extras else metrics


def _features(data) -> torch.Tensor:
    if data.x is None:
        return torch.ones(data.num_nodes, 1)
    return data.x.to(torch.float)


# --------------------------------------------------------------------------- tasks
class _ClassificationTask(Task):
    kind = "node"
    metrics = ("test_acc", "val_acc")

    def validate(self, config) -> None:
        _validate_common(config, self.kind)

    def prepare(self, config) -> None:
        prepared_graphs(config, self.kind)

    def labels(self, config) -> tuple[str, str]:
        return _method_label(config), _dataset_label(config.dataset)


@register_task("node_classification")
class NodeClassificationTask(_ClassificationTask):
    """Node classification on one graph (see the module docstring)."""

    Config = NodeClassificationConfig
    kind = "node"

    def trials(self, config) -> list[dict]:
        if config.split.protocol == "geom_gcn":
            indices = config.split.indices if config.split.indices is not None else range(10)
            return [{"split": int(i), "seed": s} for i in indices for s in config.seed_list]
        return [{"seed": s} for s in config.seed_list]

    def run_trial(self, config, trial: dict) -> dict[str, float]:
        device = resolve_device(config.device)
        graphs, num_classes = prepared_graphs(config, "node")
        data = graphs[0]
        masks = node_split(config.split, data, trial)
        seed_everything(trial["seed"], config.deterministic)
        x = _features(data)
        model = _build(config, "node", x.size(1), num_classes).to(device)
        data = data.clone()
        data.x = x
        data = data.to(device)
        masks = tuple(m.to(device) for m in masks)
        metrics = train_node_classifier(
            model,
            data,
            masks,
            lr=config.optim.lr,
            weight_decay=config.optim.weight_decay,
            max_epochs=config.training.max_epochs,
            patience=config.training.patience,
        )
        return with_extras(metrics, model)


@register_task("graph_classification")
class GraphClassificationTask(_ClassificationTask):
    """Graph classification over a dataset of graphs (see the module docstring)."""

    Config = GraphClassificationConfig
    kind = "graph"

    def trials(self, config) -> list[dict]:
        if config.split.protocol == "kfold":
            folds = config.split.fold_indices
            folds = range(config.split.folds) if folds is None else folds
            return [{"fold": int(f), "seed": s} for f in folds for s in config.seed_list]
        return [{"seed": s} for s in config.seed_list]

    def run_trial(self, config, trial: dict) -> dict[str, float]:
        from graphsmooth.data import splits

        device = resolve_device(config.device)
        graphs, num_classes = prepared_graphs(config, "graph")
        labels = torch.cat([g.y.view(-1)[:1] for g in graphs])
        sp = config.split
        if sp.protocol == "kfold":
            idx = splits.graph_kfold(
                labels, k=sp.folds, fold=trial["fold"], seed=trial["seed"], val_fraction=sp.val
            )
        else:
            idx = splits.stratified_graph_split(
                labels, train=sp.train, val=sp.val, seed=trial["seed"]
            )
        generator = seed_everything(trial["seed"], config.deterministic)
        if graphs[0].x is None or graphs[0].x.dtype != torch.float:
            graphs = [g.clone() for g in graphs]
            for g in graphs:
                g.x = _features(g)
        model = _build(config, "graph", graphs[0].x.size(1), num_classes).to(device)
        metrics = train_graph_classifier(
            model,
            graphs,
            idx,
            device=device,
            generator=generator,
            lr=config.optim.lr,
            weight_decay=config.optim.weight_decay,
            max_epochs=config.training.max_epochs,
            patience=config.training.patience,
            batch_size=config.training.batch_size,
            eval_batch_size=config.training.eval_batch_size,
        )
        return with_extras(metrics, model)


def _build(config, kind: str, in_channels: int, num_classes: int):
    from graphsmooth.nn.models import build_model

    return build_model(
        config.model.name,
        task=kind,
        in_channels=in_channels,
        out_channels=num_classes,
        **config.model.kwargs(),
    )
