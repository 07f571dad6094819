r"""Transforms by name for benchmark configs, applied once per dataset and cached on disk.

A config lists transforms in order, each either a name or a one-key mapping of a name to its
keyword arguments::

    transforms: [borf, lcp]                                   # BORF rewiring, then LCP
    transforms: [{borf: {iterations: 3, add: 20, remove: 10}}, lcp]
    transforms: [[], [rwpe], [lappe]]                          # a sweep over three choices

Registered names (factories are imported lazily, so a missing optional module only matters
when its transform is used):

========================  =========================================================  ==========
name                      factory                                                    output
========================  =========================================================  ==========
``lcp``                   :class:`graphsmooth.curvature.LocalCurvatureProfile`        its own
``borf``                  :class:`graphsmooth.rewiring.BORF`                          rewired
``rwpe``                  PyG ``AddRandomWalkPE(walk_length=16)``                     ``x``
``lappe``                 PyG ``AddLaplacianEigenvectorPE(k=8)`` (padded, see below)  ``x``
``normalize_features``    PyG ``NormalizeFeatures()``                                 ``x``
``simple_undirected``     :class:`SimpleUndirected` (symmetrise, no self loops)       edges
========================  =========================================================  ==========

Positional encodings are **concatenated to** ``x`` so the baselines see them as features
(``[x, pe]``). Laplacian PE of a graph with fewer than ``k + 1`` nodes has fewer than ``k``
non-trivial eigenvectors (PyG raises there): :class:`PaddedLaplacianPE` uses those and
zero-fills the missing columns, so every graph of a dataset gets the same width. Its eigenvector signs are random in PyG; the cache applies transforms under a fixed
seed, so the cached signs are reproducible.

Caching: the transformed data are stored under ``cache_dir()/bench_transforms/<key>.pt`` where
``key`` hashes the dataset spec, the transform names with their full keyword arguments and the
version of the package providing each transform (graphsmooth or torch_geometric) plus the
transform class's ``cache_version`` attribute when it has one. A sweep therefore never
recomputes curvature or rewiring it already has, and changing a parameter or upgrading the
package invalidates the entry.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "TRANSFORMS",
    "PaddedLaplacianPE",
    "SimpleUndirected",
    "TransformEntry",
    "apply_transforms",
    "build_transform",
    "normalize_specs",
    "register_transform",
    "transform_cache_key",
]


@dataclass(frozen=True)
class TransformEntry:
    """A registered transform.

    Attributes:
        name (str): config name.
        target (str): ``"module:attribute"`` of the factory (imported lazily).
        defaults (dict): keyword arguments used unless the config overrides them.
        package (str): the package whose version enters the cache key.
        concat_attr (str, optional): attribute the transform writes that is concatenated to
            ``x`` afterwards (and removed), padded with zeros to ``pad_to`` columns.
        pad_to (str, optional): keyword argument holding the expected column count.
    """

    name: str
    target: str
    defaults: dict = field(default_factory=dict)
    package: str = "graphsmooth"
    concat_attr: str | None = None
    pad_to: str | None = None

    def factory(self) -> Callable:
        module, attr = self.target.split(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"transform {self.name!r} needs {self.target.replace(':', '.')}, which is not "
                f"available ({exc})"
            ) from exc
        obj = getattr(mod, attr, None)
        if obj is None:
            raise ValueError(
                f"transform {self.name!r} needs {self.target.replace(':', '.')}, which is not "
                f"defined (yet) in {module}"
            )
        return obj

    def version(self) -> str:
        mod = importlib.import_module(self.package)
        return str(getattr(mod, "__version__", "unknown"))


#: name -> :class:`TransformEntry`
TRANSFORMS: dict[str, TransformEntry] = {}


def register_transform(
    name: str,
    target: str,
    *,
    defaults: dict | None = None,
    package: str = "graphsmooth",
    concat_attr: str | None = None,
    pad_to: str | None = None,
) -> None:
    """Register a transform factory under ``name`` (see :class:`TransformEntry`)."""
    TRANSFORMS[name] = TransformEntry(
        name, target, dict(defaults or {}), package, concat_attr, pad_to
    )


register_transform("lcp", "graphsmooth.curvature:LocalCurvatureProfile")
register_transform("borf", "graphsmooth.rewiring:BORF")
register_transform(
    "rwpe",
    "torch_geometric.transforms:AddRandomWalkPE",
    defaults={"walk_length": 16, "attr_name": "random_walk_pe"},
    package="torch_geometric",
    concat_attr="random_walk_pe",
    pad_to="walk_length",
)


class PaddedLaplacianPE:
    r"""PyG's :class:`~torch_geometric.transforms.AddLaplacianEigenvectorPE` that also accepts
    graphs with at most ``k`` nodes: there it uses the ``num_nodes - 1`` non-trivial
    eigenvectors of :math:`I - D^{-1/2} A D^{-1/2}` and zero-pads to ``k`` columns (PyG raises).

    Args:
        k (int): number of eigenvectors. (default: 8)
        attr_name (str): attribute written. (default: ``"laplacian_eigenvector_pe"``)
        is_undirected (bool): use the symmetric eigensolver. (default: ``True``)
    """

    cache_version = "1"

    def __init__(
        self, k: int = 8, attr_name: str = "laplacian_eigenvector_pe", is_undirected: bool = True
    ):
        if k < 1:
            raise ValueError(f"PaddedLaplacianPE: k must be >= 1, got {k}")
        self.k, self.attr_name, self.is_undirected = int(k), attr_name, bool(is_undirected)

    def __call__(self, data):
        from torch_geometric.transforms import AddLaplacianEigenvectorPE

        n = int(data.num_nodes)
        k = min(self.k, n - 1)
        if k >= 1:
            data = AddLaplacianEigenvectorPE(
                k, attr_name=self.attr_name, is_undirected=self.is_undirected
            )(data)
            pe = data[self.attr_name]
        else:
            pe = torch.zeros(n, 0)
        if pe.size(1) < self.k:
            pe = torch.cat([pe, pe.new_zeros(n, self.k - pe.size(1))], dim=1)
        data[self.attr_name] = pe
        return data

    def __repr__(self) -> str:
        return f"PaddedLaplacianPE(k={self.k})"


register_transform(
    "lappe",
    "graphsmooth.bench.transforms:PaddedLaplacianPE",
    defaults={"k": 8, "attr_name": "laplacian_eigenvector_pe", "is_undirected": True},
    package="torch_geometric",
    concat_attr="laplacian_eigenvector_pe",
    pad_to="k",
)
register_transform(
    "normalize_features", "torch_geometric.transforms:NormalizeFeatures", package="torch_geometric"
)


class SimpleUndirected:
    r"""The graph that curvature and BORF work on (:func:`graphsmooth.graph.simple_undirected`):
    every edge in both directions, no self loops, no duplicates. As a transform of its own it
    is the control for BORF on directed data (the geom-gcn graphs): BORF returns the
    symmetrised graph *and* its rewiring, so ``[simple_undirected]`` against ``[borf]``
    separates the two. Edge-level attributes follow their edges (a pair's two directions and
    its duplicates are merged with ``max``).
    """

    cache_version = "1"

    def __call__(self, data):
        from torch_geometric.utils import to_undirected

        keys = [k for k in data.keys() if k != "edge_index" and data.is_edge_attr(k)]
        keep = data.edge_index[0] != data.edge_index[1]
        ei = data.edge_index[:, keep]
        attrs = [data[k][keep] for k in keys]
        ei, attrs = to_undirected(ei, attrs, num_nodes=data.num_nodes, reduce="max")
        data = data.clone()
        data.edge_index = ei
        for k, v in zip(keys, attrs, strict=True):
            data[k] = v
        return data

    def __repr__(self) -> str:
        return "SimpleUndirected()"


register_transform("simple_undirected", "graphsmooth.bench.transforms:SimpleUndirected")


def normalize_specs(specs) -> list[tuple[str, dict]]:
    """``[name | {name: kwargs}]`` -> ``[(name, full kwargs incl. defaults)]``; checks names.

    Raises:
        ValueError: unknown name (with a suggestion) or malformed entry.
    """
    import difflib

    out = []
    for spec in specs or []:
        if isinstance(spec, str):
            name, kwargs = spec, {}
        elif isinstance(spec, dict) and len(spec) == 1:
            ((name, kwargs),) = spec.items()
            kwargs = dict(kwargs or {})
        else:
            raise ValueError(
                f"a transform is a name or a one-key mapping {{name: {{kwargs}}}}, got {spec!r}"
            )
        if name not in TRANSFORMS:
            close = difflib.get_close_matches(name, list(TRANSFORMS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown transform {name!r}{hint}; known transforms: {', '.join(sorted(TRANSFORMS))}"
            )
        out.append((name, {**TRANSFORMS[name].defaults, **kwargs}))
    return out


def build_transform(name: str, kwargs: dict) -> Callable:
    """Instantiate transform ``name`` with ``kwargs`` (merged with its defaults by the caller).

    Raises:
        ValueError: module missing or a keyword the factory does not accept.
    """
    factory = TRANSFORMS[name].factory()
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        params = {}
    if params and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise ValueError(
                f"transform {name!r} got unknown option(s) {unknown}; accepted: "
                f"{', '.join(p for p in params if p != 'self')}"
            )
    return factory(**kwargs)


def transform_cache_key(dataset_spec: Any, specs: list[tuple[str, dict]]) -> str:
    """Hash of (dataset spec, transform names + kwargs + package versions + cache_version)."""
    parts = []
    for name, kwargs in specs:
        entry = TRANSFORMS[name]
        cls = entry.factory()
        parts.append(
            {
                "name": name,
                "kwargs": kwargs,
                "package": entry.package,
                "version": entry.version(),
                "cache_version": str(getattr(cls, "cache_version", "")),
            }
        )
    payload = json.dumps(
        {"dataset": dataset_spec, "transforms": parts}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _concat(data, entry: TransformEntry, kwargs: dict):
    attr = entry.concat_attr
    if attr is None or attr not in data:
        return data
    pe = data[attr].to(torch.float)
    width = int(kwargs[entry.pad_to]) if entry.pad_to else pe.size(1)
    if pe.size(1) < width:
        pe = torch.cat([pe, pe.new_zeros(pe.size(0), width - pe.size(1))], dim=1)
    x = data.x
    data.x = pe if x is None else torch.cat([x.to(torch.float), pe], dim=1)
    del data[attr]
    return data


def _apply_all(graphs: list, transforms) -> list:
    """Apply the transforms stage by stage; a transform with ``transform_list`` (LCP, BORF)
    handles all graphs of a dataset in one vectorised call (tested equal to one by one)."""
    out = [g.clone() for g in graphs]
    for entry, kwargs, tf in transforms:
        if len(out) > 1 and hasattr(tf, "transform_list"):
            out = tf.transform_list(out)
        else:
            out = [tf(g) for g in out]
        out = [_concat(g, entry, kwargs) for g in out]
    return out


def apply_transforms(
    graphs: list,
    specs: list[tuple[str, dict]],
    *,
    dataset_spec: Any,
    cache: str | os.PathLike | None = None,
    use_cache: bool = True,
    seed: int = 0,
) -> list:
    """Apply ``specs`` to every graph of ``graphs`` (a list of PyG ``Data``), with disk caching.

    Args:
        graphs (list of Data): one graph for node tasks, all graphs for graph tasks.
        specs: output of :func:`normalize_specs`.
        dataset_spec: JSON-able identity of the untransformed data (name + load options).
        cache (str or Path, optional): cache folder. (default: ``cache_dir()/bench_transforms``)
        use_cache (bool): read/write the disk cache. (default: ``True``)
        seed (int): torch seed set while transforming (random PE signs). (default: 0)

    Returns:
        the transformed graphs (new objects; the inputs are not modified).
    """
    if not specs:
        return graphs
    from graphsmooth.data.paths import cache_dir, file_lock

    key = transform_cache_key(dataset_spec, specs)
    folder = Path(cache) if cache is not None else cache_dir() / "bench_transforms"
    path = folder / f"{key}.pt"
    if use_cache and path.is_file():
        return torch.load(path, weights_only=False)
    transforms = [(TRANSFORMS[n], kw, build_transform(n, kw)) for n, kw in specs]

    def compute():
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            with torch.no_grad():
                return _apply_all(graphs, transforms)
        finally:
            torch.random.set_rng_state(state)

    if not use_cache:
        return compute()
    with file_lock(folder / f".{key}.lock"):
        if path.is_file():  # computed by another process meanwhile
            return torch.load(path, weights_only=False)
        out = compute()
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(out, tmp)
        os.replace(tmp, path)
    return out
