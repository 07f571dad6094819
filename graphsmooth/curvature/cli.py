"""``graphsmooth curvature``: Ollivier-Ricci curvature statistics of a dataset or edge list."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

__all__ = ["curvature_summary", "read_edge_list", "register", "run_curvature"]


def read_edge_list(path: str) -> tuple[torch.Tensor, int]:
    """Read a whitespace/comma separated edge list ``u v`` per line (``#`` comments)."""
    rows = []
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.split("#", 1)[0].replace(",", " ").strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) < 2:
                raise ValueError(f"{path}:{lineno}: expected two node ids, got {line!r}")
            try:
                rows.append((int(parts[0]), int(parts[1])))
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: node ids must be integers: {line!r}") from exc
    if not rows:
        raise ValueError(f"{path}: no edges found")
    ei = torch.tensor(rows, dtype=torch.long).T
    if int(ei.min()) < 0:
        raise ValueError(f"{path}: negative node id")
    ei = torch.cat([ei, ei.flip(0)], 1)  # an edge list names each undirected edge once
    return ei, int(ei.max()) + 1


def curvature_summary(values: torch.Tensor) -> dict[str, float]:
    """Count, mean, std, min, quartiles, max and share of negative values."""
    v = values[~torch.isnan(values)].cpu().numpy()
    if v.size == 0:
        return {"edges": 0}
    q = np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0])
    return {
        "edges": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(q[0]),
        "q25": float(q[1]),
        "median": float(q[2]),
        "q75": float(q[3]),
        "max": float(q[4]),
        "negative_share": float((v < 0).mean()),
    }


def run_curvature(args: argparse.Namespace) -> int:
    from graphsmooth.curvature.ollivier import ollivier_ricci

    if (args.dataset is None) == (args.edge_list is None):
        print("give exactly one of DATASET or --edge-list FILE", file=sys.stderr)
        return 2
    if args.edge_list is not None:
        edge_index, n = read_edge_list(args.edge_list)
        name = args.edge_list
    else:
        from graphsmooth.data import load_dataset

        ds = load_dataset(args.dataset, root=args.root)
        if len(ds) == 1:
            data = ds[0]
            edge_index, n = data.edge_index, data.num_nodes
        else:  # graph dataset: the disjoint union of all graphs (curvature is local)
            from torch_geometric.data import Batch

            b = Batch.from_data_list([ds[i] for i in range(len(ds))])
            edge_index, n = b.edge_index, b.num_nodes
        name = args.dataset
    t0 = time.perf_counter()
    res = ollivier_ricci(
        edge_index,
        n,
        alpha=args.alpha,
        method=args.method,
        workers=args.workers,
        verbose=args.verbose,
    )
    seconds = time.perf_counter() - t0
    stats = {"graph": name, "nodes": n, "alpha": args.alpha, "method": args.method}
    stats.update(curvature_summary(res.pair_curvature))
    stats["seconds"] = round(seconds, 4)
    if args.json:
        print(json.dumps(stats))
    else:
        for k, v in stats.items():
            print(f"{k:>15}: {v:.6g}" if isinstance(v, float) else f"{k:>15}: {v}")
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        vals = res.pair_curvature[~torch.isnan(res.pair_curvature)].cpu().numpy()
        ax.hist(vals, bins=args.bins, color="tab:blue")
        ax.set_xlabel(f"Ollivier-Ricci curvature (alpha={args.alpha}, {args.method})")
        ax.set_ylabel("edges")
        ax.set_title(name)
        fig.tight_layout()
        fig.savefig(args.out, dpi=120)
        plt.close(fig)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "curvature",
        help="Ollivier-Ricci curvature statistics (and histogram) of a dataset or edge list",
        description="Ollivier-Ricci curvature of every edge; prints summary statistics.",
    )
    p.add_argument("dataset", nargs="?", help="dataset name (graphsmooth.data.load_dataset)")
    p.add_argument("--edge-list", help="edge list file: 'u v' per line, each edge once")
    p.add_argument("--root", help="data root (default: $GRAPHSMOOTH_DATA)")
    p.add_argument("--alpha", type=float, default=0.0, help="idleness in [0, 1) (default 0)")
    p.add_argument(
        "--method", default="exact", choices=["exact", "bounds", "sinkhorn"], help="(default exact)"
    )
    p.add_argument("--out", help="write a histogram PNG here")
    p.add_argument("--bins", type=int, default=50, help="histogram bins (default 50)")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.add_argument(
        "--workers",
        type=int,
        default=-1,
        help="processes for the exact method on large graphs (-1: every core; default -1)",
    )
    p.add_argument("--verbose", action="store_true", help="progress bar")
    p.set_defaults(func=run_curvature)
