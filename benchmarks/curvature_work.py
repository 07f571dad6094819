"""How much transport work exact ORC faces on a graph, under two formulations.

For each undirected edge (u, v): ``pairs`` = deg(u) deg(v) (every (source, sink) pair is tested,
what ``graphsmooth.curvature`` does) and ``aux`` = sum of deg(x) over x in N(u) and N(v) (one
auxiliary closure node per intermediate vertex instead of the cost-2 pairs; see
docs/curvature.md, session 3). Edges whose smaller side has at most 5 points are solved by
profile enumeration and always count as ``pairs``. Prints the totals and the best per-edge mix.

Usage::

    GRAPHSMOOTH_DATA=/path/to/shared/data python benchmarks/curvature_work.py Chameleon BA200000
"""

from __future__ import annotations

import argparse

import torch

from graphsmooth.graph import simple_undirected, to_csr


def load(name: str):
    if name.upper().startswith("BA") and name[2:].isdigit():
        from graphsmooth.data.synthetic import barabasi_albert

        d = barabasi_albert(int(name[2:]), 5, seed=0)
    else:
        from graphsmooth.data.datasets import load_dataset

        d = load_dataset(name)[0]
    return d.edge_index, d.num_nodes


def work(edge_index: torch.Tensor, n: int) -> dict[str, int]:
    ei, _, n = simple_undirected(edge_index, n, on_directed="symmetrize")
    csr = to_csr(ei, n, canonical=False)
    deg = csr.deg
    m = csr.row < csr.col
    u, v = csr.row[m], csr.col[m]
    nbr_deg = torch.zeros(n, dtype=torch.long).index_add_(0, csr.row, deg[csr.col])
    pairs = deg[u] * deg[v]
    aux = nbr_deg[u] + nbr_deg[v]
    small = torch.minimum(deg[u], deg[v]) <= 5
    best = torch.where(small, pairs, torch.minimum(pairs, aux))
    return {
        "edges": int(u.numel()),
        "pairs": int(pairs.sum()),
        "aux": int(aux.sum()),
        "best_mix": int(best.sum()),
        "sum_deg_sq": int((deg * deg).sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graphs", nargs="+", help="dataset names or BA<N> (m = 5, seed 0)")
    args = ap.parse_args()
    for name in args.graphs:
        w = work(*load(name))
        print(name, " ".join(f"{k}={v:,}" for k, v in w.items()))


if __name__ == "__main__":
    main()
