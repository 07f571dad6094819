r"""``graphsmooth datasets``: list the known datasets, whether they are found locally, and counts.

For each dataset of :data:`~graphsmooth.data.datasets.DATASETS` the command prints whether its
raw files are under the data root, where, and — for found ones — the counts of the loaded data
(graphs, nodes, directed edges, node features, classes). Loading processes a dataset into the
cache the first time (about 20 s for all of them on one core), later runs only read the
processed files. ``--quick`` skips loading and prints the registry's expected counts instead.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

__all__ = ["dataset_counts", "register", "run_datasets"]


def dataset_counts(dataset: Any) -> dict[str, int]:
    """Counts of a loaded PyG dataset: graphs, nodes, edges (directed), features, classes."""
    data = dataset._data if hasattr(dataset, "_data") else dataset[0]
    x = dataset[0].x
    return {
        "graphs": len(dataset),
        "nodes": int(data.num_nodes),
        "edges": int(data.edge_index.shape[1]),
        "features": 0 if x is None else int(x.shape[-1]),
        "classes": int(dataset.num_classes),
    }


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_datasets(args: argparse.Namespace) -> int:
    """Entry point of ``graphsmooth datasets``; returns the exit code."""
    from tqdm.auto import tqdm

    from graphsmooth.data.datasets import DATASETS, find_raw_dir, load_dataset
    from graphsmooth.data.paths import cache_dir, resolve_data_root

    base, origin = resolve_data_root(args.root)
    header = ["dataset", "kind", "found", "graphs", "nodes", "edges", "features", "classes", "path"]
    rows = [header]
    names = list(DATASETS)
    for name in tqdm(names, desc="datasets", disable=args.quick or not sys.stderr.isatty()):
        info = DATASETS[name]
        raw, approximate = find_raw_dir(name, base)
        found = "no" if raw is None else ("approx" if approximate else "yes")
        counts = ["-"] * 5
        if raw is not None:
            if args.quick:
                expected = [info.num_graphs, info.num_nodes, info.num_edges]
                expected += [info.num_features, info.num_classes]
                counts = [f"{v}*" for v in expected]
            else:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", UserWarning)
                        ds = load_dataset(name, base, download=False, cache=args.cache)
                    c = dataset_counts(ds)
                    counts = [str(c[k]) for k in ("graphs", "nodes", "edges", "features")]
                    counts.append(str(c["classes"]))
                except Exception as exc:  # report and continue with the other datasets
                    found = f"error: {type(exc).__name__}"
        rows.append([name, info.kind, found, *counts, "-" if raw is None else str(raw)])
    cache = args.cache if args.cache is not None else cache_dir()
    print(f"data root: {base} (from {origin}); cache: {cache}")
    print(_table(rows))
    if args.quick:
        print("* expected counts from the registry (run without --quick to load and count)")
    if any(r[2] == "approx" for r in rows[1:]):
        print("approx: PubMed from pyg_approx (features rebuilt to 6 significant digits)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``datasets`` command to the ``graphsmooth`` command line."""
    parser = subparsers.add_parser(
        "datasets",
        help="list known datasets, whether found locally, with counts",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument(
        "--root",
        default=None,
        help="data root (default: $GRAPHSMOOTH_DATA, else PyG's cache ~/.cache/pyg)",
    )
    parser.add_argument(
        "--cache",
        default=None,
        help="writable cache for processed data (default: $GRAPHSMOOTH_CACHE, else "
        "~/.cache/graphsmooth)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="do not load datasets; print the registry's expected counts",
    )
    parser.set_defaults(func=run_datasets)
