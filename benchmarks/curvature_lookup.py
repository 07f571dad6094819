"""Distance lookups of the exact ORC on a big graph: sparse CSR table vs sorted keys.

Records the (source, sink) queries that ``exact_w1`` sends to the distance table for a random
sample of edges of BA(N, m=5), then answers the same queries two ways, one thread, CPU time:

* ``csr``: the library's table (:class:`graphsmooth.curvature._exact.DistanceTable`,
  ``kind="csr"``): a binary search within the source's row (SciPy's compiled routine);
* ``keys``: the session-3 design, the sorted keys ``4 (x N + y) + d`` of all pairs at distance
  1 or 2, searched with ``torch.searchsorted``.

    PYTHONPATH=. python benchmarks/curvature_lookup.py --nodes 200000 --edges 30000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
import torch

from graphsmooth.curvature import _exact as ex
from graphsmooth.data.synthetic import barabasi_albert
from graphsmooth.graph import simple_undirected, to_csr, undirected_pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=200_000)
    ap.add_argument("--edges", type=int, default=30_000, help="edges sampled for the queries")
    args = ap.parse_args()
    torch.set_num_threads(1)
    d = barabasi_albert(args.nodes, 5, seed=0)
    ei, _, n = simple_undirected(d.edge_index, d.num_nodes)
    csr = to_csr(ei, n, canonical=False)
    t = time.process_time()
    table = ex.DistanceTable(csr, "csr")
    print(f"csr table: {time.process_time() - t:.2f} CPU s, {table.indices.size:,} entries")
    t = time.process_time()
    dist = sp.csr_matrix((table.data, table.indices, table.indptr), shape=(n, n)).tocoo()
    keys = torch.sort(
        torch.from_numpy(
            (dist.row.astype(np.int64) * n + dist.col) * 4 + dist.data.astype(np.int64)
        )
    ).values
    del dist
    print(f"sorted keys: {time.process_time() - t:.2f} CPU s (from the CSR table)")

    queries = []
    record = ex.DistanceTable.close  # the exact solver's lookups go through close()

    def recorded(self, s, t):
        queries.append((s.clone(), t.clone()))
        return record(self, s, t)

    ex.DistanceTable.close = recorded
    pairs = undirected_pairs(ei)
    pick = torch.randperm(pairs.size(1), generator=torch.Generator().manual_seed(0))[: args.edges]
    p = pairs[:, pick]
    p = p[:, torch.argsort(torch.minimum(csr.deg[p[0]], csr.deg[p[1]]))]
    ex.exact_w1(csr, p[0], p[1], 0, 1, table=table, twins=ex.twin_classes(csr))
    ex.DistanceTable.close = record
    if not queries:
        raise SystemExit("no lookups recorded: the solver no longer calls DistanceTable.close")
    s = torch.cat([q[0] for q in queries]).long()
    t_ = torch.cat([q[1] for q in queries]).long()
    print(f"{s.numel():,} queries from {args.edges:,} edges")

    t = time.process_time()
    c_csr = table.costs(s, t_)  # every query's distance (close() returns the close ones only)
    sec_csr = time.process_time() - t
    t = time.process_time()
    q = (s * n + t_) * 4
    pos = torch.searchsorted(keys, q).clamp_(max=keys.numel() - 1)
    hit = (keys[pos] >> 2) == (q >> 2)
    c_keys = torch.where(hit, keys[pos] & 3, torch.full_like(s, 3))
    sec_keys = time.process_time() - t
    assert torch.equal(c_csr, c_keys), "the two lookups disagree"
    print(
        f"csr table {sec_csr:.2f} CPU s, sorted keys {sec_keys:.2f} CPU s, "
        f"ratio {sec_keys / sec_csr:.1f}x (identical answers)"
    )


if __name__ == "__main__":
    main()
