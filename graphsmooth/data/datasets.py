r"""Benchmark datasets by name, loaded with PyG's own dataset classes, offline when possible.

:func:`load_dataset` maps a case-insensitive name to the PyG class that reads it
(:class:`~torch_geometric.datasets.Planetoid`, :class:`~torch_geometric.datasets.WebKB`,
:class:`~torch_geometric.datasets.WikipediaNetwork` with ``geom_gcn_preprocess=True``,
:class:`~torch_geometric.datasets.Actor`, :class:`~torch_geometric.datasets.TUDataset`).
Raw files are looked up under the data root (see :mod:`graphsmooth.data.paths`), linked into a
working root in the writable cache and processed there once; later calls load the processed
file. The registry :data:`DATASETS` records, for each dataset, the class, the kind of task and
the counts expected from the shared data (used by the docs, the CLI and the tests).

Pickles: the Planetoid raw files are Python pickles, read by PyG. graphsmooth only ever opens the
known raw file names of the datasets in :data:`DATASETS`, from the data root the user chose.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch

from graphsmooth.data.paths import (
    cache_dir,
    file_lock,
    link_files,
    pyg_root,
    resolve_data_root,
    short_hash,
)

__all__ = [
    "DATASETS",
    "DatasetAvailability",
    "DatasetInfo",
    "available_datasets",
    "dataset_info",
    "find_raw_dir",
    "load_dataset",
]

_PLANETOID_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    r"""What graphsmooth knows about one dataset.

    Attributes:
        name (str): canonical name (as PyG spells it).
        pyg_class (str): name of the class in :mod:`torch_geometric.datasets`.
        kind (str): ``"node"`` (one graph, node classification) or ``"graph"`` (graph
            classification).
        raw_subdir (str): folder of the raw files relative to a PyG root.
        raw_files (tuple[str, ...]): raw files that must exist for the dataset to count as found.
        num_graphs (int): number of graphs.
        num_nodes (int): total number of nodes (over all graphs).
        num_edges (int): total number of directed edges (columns of ``edge_index``).
        num_features (int): node features as loaded by PyG (0: none stored).
        num_classes (int): number of classes.
        split (str or None): standard split stored with the data: ``"public"`` (Planetoid masks
            ``[N]``), ``"geom_gcn"`` (10 masks ``[N, 10]``) or ``None`` (graph datasets:
            use :func:`~graphsmooth.data.splits.graph_kfold`).
        note (str): anything a user must know (e.g. approximate copy, no node features).
    """

    name: str
    pyg_class: str
    kind: str
    raw_subdir: str
    raw_files: tuple[str, ...]
    num_graphs: int
    num_nodes: int
    num_edges: int
    num_features: int
    num_classes: int
    split: str | None
    note: str = ""

    @property
    def cls(self) -> type:
        """The PyG dataset class (imported on first use)."""
        import torch_geometric.datasets as pyg_datasets

        return getattr(pyg_datasets, self.pyg_class)


def _planetoid(name: str, n: int, e: int, f: int, c: int, note: str = "") -> DatasetInfo:
    files = tuple(f"ind.{name.lower()}.{s}" for s in _PLANETOID_SUFFIXES)
    return DatasetInfo(
        name, "Planetoid", "node", f"{name}/raw", files, 1, n, e, f, c, "public", note
    )


def _geom_gcn(name: str, cls: str, subdir: str, prefix: str, n: int, e: int, f: int) -> DatasetInfo:
    files = ("out1_node_feature_label.txt", "out1_graph_edges.txt") + tuple(
        f"{prefix}_split_0.6_0.2_{i}.npz" for i in range(10)
    )
    return DatasetInfo(name, cls, "node", subdir, files, 1, n, e, f, 5, "geom_gcn")


def _tu(name: str, g: int, n: int, e: int, f: int, c: int, note: str = "") -> DatasetInfo:
    files = (f"{name}_A.txt", f"{name}_graph_indicator.txt", f"{name}_graph_labels.txt")
    return DatasetInfo(name, "TUDataset", "graph", f"{name}/raw", files, g, n, e, f, c, None, note)


#: Known datasets, keyed by canonical name. Counts are those of the shared data
#: (``$GRAPHSMOOTH_DATA/README.md``) as loaded by torch_geometric 2.8.
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        _planetoid("Cora", 2708, 10556, 1433, 7),
        _planetoid("CiteSeer", 3327, 9104, 3703, 6),
        _planetoid(
            "PubMed",
            19717,
            88648,
            500,
            3,
            note="the shared data's pyg/PubMed lacks ind.pubmed.allx; pyg_approx/PubMed "
            "(features rebuilt to 6 significant digits) is used then, with a UserWarning",
        ),
        _geom_gcn("Texas", "WebKB", "texas/raw", "texas", 183, 325, 1703),
        _geom_gcn("Cornell", "WebKB", "cornell/raw", "cornell", 183, 298, 1703),
        _geom_gcn("Wisconsin", "WebKB", "wisconsin/raw", "wisconsin", 251, 515, 1703),
        _geom_gcn(
            "Chameleon",
            "WikipediaNetwork",
            "chameleon/geom_gcn/raw",
            "chameleon",
            2277,
            36101,
            2325,
        ),
        _geom_gcn(
            "Squirrel", "WikipediaNetwork", "squirrel/geom_gcn/raw", "squirrel", 5201, 217073, 2089
        ),
        _geom_gcn("Actor", "Actor", "Actor/raw", "film", 7600, 30019, 932),
        _tu("MUTAG", 188, 3371, 7442, 7, 2),
        _tu("ENZYMES", 600, 19580, 74564, 3, 6),
        _tu("PROTEINS", 1113, 43471, 162088, 3, 2),
        _tu(
            "IMDB-BINARY",
            1000,
            19773,
            193062,
            0,
            2,
            note="no node features: load_dataset adds one-hot degrees (node_features='degree', "
            "136 features) unless node_features='constant'",
        ),
        _tu("NCI1", 4110, 122747, 265506, 37, 2),
        _tu("PTC_MR", 344, 4915, 10108, 18, 2),
    ]
}

_ALIASES = {"film": "Actor"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_\s]", "", name).lower()


_LOOKUP = {_normalise(k): k for k in DATASETS} | {_normalise(k): v for k, v in _ALIASES.items()}


def dataset_info(name: str) -> DatasetInfo:
    r"""Registry entry of a dataset.

    Args:
        name (str): dataset name, case-insensitive; ``-`` and ``_`` are ignored
            (``"imdb_binary"`` finds ``IMDB-BINARY``).

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if not isinstance(name, str):
        raise ValueError(f"dataset name must be a string, got {type(name).__name__}")
    key = _LOOKUP.get(_normalise(name))
    if key is None:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return DATASETS[key]


def _complete(raw: Path, info: DatasetInfo) -> bool:
    return raw.is_dir() and all((raw / f).is_file() for f in info.raw_files)


def find_raw_dir(name: str, root: str | os.PathLike | None = None) -> tuple[Path | None, bool]:
    r"""Locate the raw files of a dataset under a data root.

    Args:
        name (str): dataset name (see :func:`dataset_info`).
        root (str or Path, optional): data root (see :func:`~graphsmooth.data.paths.data_root`).
            (default: ``None``)

    Returns:
        ``(raw_dir, approximate)``: the folder holding all required raw files (``None`` when
        not found) and whether it is the approximate PubMed copy (``pyg_approx``).
    """
    info = dataset_info(name)
    base, _ = resolve_data_root(root)
    raw = pyg_root(base) / info.raw_subdir
    if _complete(raw, info):
        return raw, False
    if info.name == "PubMed":
        approx = base / "pyg_approx" / info.raw_subdir
        if _complete(approx, info):
            return approx, True
    return None, False


class DatasetAvailability(NamedTuple):
    """One row of :func:`available_datasets`."""

    name: str
    found: bool
    path: Path | None


def available_datasets(root: str | os.PathLike | None = None) -> list[DatasetAvailability]:
    r"""Which known datasets have their raw files under the data root.

    Args:
        root (str or Path, optional): data root. (default: ``None``)

    Returns:
        one :class:`DatasetAvailability` ``(name, found, path)`` per entry of :data:`DATASETS`,
        in registry order; ``path`` is the raw folder (``None`` when not found).
    """
    rows = []
    for name in DATASETS:
        raw, _ = find_raw_dir(name, root)
        rows.append(DatasetAvailability(name, raw is not None, raw))
    return rows


def _callable_key(obj: Any) -> str:
    """Stable text identifying a (pre-)transform, for cache folder names.

    PyG's ``repr`` of a transform names its hyperparameters; plain functions and lambdas all
    print alike, so their module, qualified name and byte code are used instead.
    """
    if obj is None:
        return "None"
    if isinstance(obj, types.FunctionType | types.MethodType):
        fn = obj.__func__ if isinstance(obj, types.MethodType) else obj
        code = fn.__code__
        return f"{fn.__module__}.{fn.__qualname__}:{code.co_code.hex()}:{code.co_consts!r}"
    cls = type(obj)
    name = f"{cls.__module__}.{cls.__qualname__}"
    children = getattr(obj, "transforms", None)  # Compose and friends
    if isinstance(children, list | tuple):
        return f"{name}[{','.join(_callable_key(c) for c in children)}]"
    text = repr(obj)
    if _default_repr(cls) and hasattr(obj, "__dict__"):
        # ``Name()`` hides the hyperparameters: add the attributes
        text += repr(sorted(vars(obj).items()))
    return name + ":" + re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def _default_repr(cls: type) -> bool:
    """Whether ``cls`` prints without its parameters (``object``'s or PyG's base ``repr``)."""
    try:
        from torch_geometric.transforms import BaseTransform
    except ImportError:  # pragma: no cover
        return cls.__repr__ is object.__repr__
    return cls.__repr__ in (object.__repr__, BaseTransform.__repr__)


def _processing_key(
    pre_transform: Callable | None, pre_filter: Callable | None, cache_key: str | None
) -> str:
    if cache_key is not None:
        if not re.fullmatch(r"[A-Za-z0-9._+=-]+", cache_key):
            raise ValueError(
                f"cache_key must use letters, digits and ._+=- only (it names a folder), "
                f"got {cache_key!r}"
            )
        return cache_key
    if pre_transform is None and pre_filter is None:
        return "default"
    return "pre-" + short_hash(_callable_key(pre_transform) + "|" + _callable_key(pre_filter))


def _raw_variant(info: DatasetInfo, kwargs: dict[str, Any]) -> str | None:
    """Name of a PyG option that switches to raw files outside :data:`DATASETS` (or None)."""
    if info.pyg_class == "Planetoid" and kwargs.get("split") == "geom-gcn":
        return "split='geom-gcn'"
    if info.pyg_class == "TUDataset" and kwargs.get("cleaned"):
        return "cleaned=True"
    if info.pyg_class == "WikipediaNetwork" and kwargs.get("geom_gcn_preprocess") is False:
        return "geom_gcn_preprocess=False"
    return None


def _construct(info: DatasetInfo, work: Path, **kwargs: Any) -> Any:
    cls = info.cls
    if info.pyg_class == "Actor":
        return cls(str(work / "Actor"), **kwargs)
    if info.pyg_class == "WikipediaNetwork":
        kwargs.setdefault("geom_gcn_preprocess", True)
    return cls(str(work), info.name, **kwargs)


def _max_degree(dataset: Any) -> int:
    """Largest node degree over all graphs of an in-memory dataset (vectorised)."""
    data = getattr(dataset, "_data", None)
    slices = getattr(dataset, "slices", None)
    if data is None or slices is None or "edge_index" not in slices:
        return max(int(torch.bincount(g.edge_index[0]).max()) for g in dataset)
    bounds = slices["edge_index"]
    graph = torch.repeat_interleave(torch.arange(bounds.numel() - 1), bounds.diff())
    src = data.edge_index[0]
    if src.numel() == 0:
        return 0
    key = graph * (int(src.max()) + 1) + src
    return int(torch.unique(key, return_counts=True)[1].max())


def _feature_transform(info: DatasetInfo, dataset: Any, node_features: str | None) -> Any:
    if node_features is None:
        if info.kind == "graph" and info.num_features == 0:
            node_features = "degree"
        else:
            return None
    if info.kind != "graph":
        raise ValueError(
            f"node_features is only for graph datasets; {info.name} is a node dataset "
            f"with its own features"
        )
    import torch_geometric.transforms as T

    if node_features == "degree":
        return T.OneHotDegree(_max_degree(dataset), cat=False)
    if node_features == "constant":
        return T.Constant(1.0, cat=False)
    raise ValueError(f"node_features must be None, 'degree' or 'constant', got {node_features!r}")


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    transform: Callable | None = None,
    pre_transform: Callable | None = None,
    pre_filter: Callable | None = None,
    cache_key: str | None = None,
    node_features: str | None = None,
    download: bool | None = None,
    cache: str | os.PathLike | None = None,
    **kwargs: Any,
) -> Any:
    r"""Load a benchmark dataset by name as the PyG dataset object.

    Node datasets (Cora, CiteSeer, PubMed, Texas, Cornell, Wisconsin, Chameleon, Squirrel,
    Actor) hold one graph with its standard split masks (see :mod:`graphsmooth.data.splits`);
    graph datasets (MUTAG, ENZYMES, PROTEINS, IMDB-BINARY, NCI1, PTC_MR) hold many graphs.

    Steps: find the raw folder under the data root (:func:`find_raw_dir`); link its files into
    ``<cache>/pyg/<Name>/<hash of the raw folder>/<processing key>/`` and let the PyG class
    process there (once; an exclusive file lock serialises concurrent processes). The
    processing key is ``"default"`` without ``pre_transform``/``pre_filter``, else a hash of
    their ``repr`` (byte code for plain functions), or ``cache_key`` when given — so different
    pre-transforms never share a ``processed/`` folder.

    When the raw files are not found, PyG downloads them (``download=True``) into the PyG
    root of the data root when it is writable, else into ``<cache>/downloads``. By default
    (``download=None``) this happens only when no data root was configured (neither ``root``
    nor ``$GRAPHSMOOTH_DATA``): a configured root that lacks a dataset is an error, so tests
    and CI never download.

    Args:
        name (str): dataset name, case-insensitive (see :data:`DATASETS`).
        root (str or Path, optional): data root; else ``$GRAPHSMOOTH_DATA``, else PyG's cache.
            (default: ``None``)
        transform (callable, optional): PyG transform applied on access. (default: ``None``)
        pre_transform (callable, optional): PyG transform applied once before saving the
            processed data. (default: ``None``)
        pre_filter (callable, optional): PyG filter applied before saving (graph datasets).
            (default: ``None``)
        cache_key (str, optional): name of the processed variant; overrides the automatic key.
            Use it for pre-transforms whose ``repr`` does not show their parameters.
            (default: ``None``)
        node_features (str, optional): graph datasets only. ``"degree"`` replaces ``x`` by the
            one-hot node degree (``OneHotDegree`` with the dataset's maximum degree),
            ``"constant"`` by a single feature equal to 1. ``None`` keeps stored features and
            uses ``"degree"`` for datasets without any (IMDB-BINARY). Applied before
            ``transform``. (default: ``None``)
        download (bool, optional): allow PyG to download missing raw files; ``None``: only
            when no data root is configured. (default: ``None``)
        cache (str or Path, optional): writable cache folder; else
            :func:`~graphsmooth.data.paths.cache_dir`. (default: ``None``)
        **kwargs: passed to the PyG class (e.g. ``split="full"`` for Planetoid,
            ``use_node_attr=True`` for TUDataset, ``force_reload=True``).

    Returns:
        the PyG :class:`~torch_geometric.data.InMemoryDataset`.

    Raises:
        ValueError: unknown name or bad option.
        FileNotFoundError: raw files missing and downloading not allowed.

    Warns:
        UserWarning: PubMed is loaded from the approximate copy ``pyg_approx/PubMed``.
    """
    info = dataset_info(name)
    base, origin = resolve_data_root(root)
    raw, approximate = find_raw_dir(info.name, base)
    cache_base = Path(os.path.expanduser(os.fspath(cache))) if cache is not None else cache_dir()
    if download is None:
        download = origin == "default"
    variant = _raw_variant(info, kwargs)
    if variant is not None and not download:
        raise ValueError(
            f"{info.name} with {variant} reads other raw files than the standard ones "
            f"graphsmooth links (they would be downloaded); pass download=True to allow that"
        )
    if raw is None:
        searched = pyg_root(base) / info.raw_subdir
        if not download:
            raise FileNotFoundError(
                f"raw files of {info.name} not found under the data root {base} "
                f"(looked in {searched}, needs {', '.join(info.raw_files)}; data root from "
                f"{origin}). Point root= or $GRAPHSMOOTH_DATA at a folder holding them, or "
                f"pass download=True to let PyG download them."
            )
        target = pyg_root(base)
        if not (target.is_dir() and os.access(target, os.W_OK)):
            target = cache_base / "downloads"
        target.mkdir(parents=True, exist_ok=True)
        with file_lock(target / f".{info.name}.lock"):
            _construct(info, target)  # PyG's normal download and plain processing
        raw = target / info.raw_subdir
        approximate = False
    if approximate:
        warnings.warn(
            f"PubMed: the complete original raw files were not found; loading the approximate "
            f"copy {raw} (ind.pubmed.allx rebuilt from features printed with 6 significant "
            f"digits; see docs/data.md). Numbers match the original up to ~5e-7.",
            UserWarning,
            stacklevel=2,
        )
    key = _processing_key(pre_transform, pre_filter, cache_key)
    work = cache_base / "pyg" / info.name / short_hash(str(raw.resolve())) / key
    with file_lock(work / ".lock"):
        link_files(raw, work / info.raw_subdir)
        if pre_filter is not None:
            kwargs["pre_filter"] = pre_filter
        dataset = _construct(info, work, pre_transform=pre_transform, **kwargs)
    feature_tf = _feature_transform(info, dataset, node_features)
    if feature_tf is not None or transform is not None:
        import torch_geometric.transforms as T

        parts = [t for t in (feature_tf, transform) if t is not None]
        dataset.transform = parts[0] if len(parts) == 1 else T.Compose(parts)
    return dataset
