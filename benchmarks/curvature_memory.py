"""Peak memory and wall time of the exact curvature against graph size (one graph per process).

Barabasi-Albert graph with ``n`` nodes and m = 5 (seed 0), ``ollivier_ricci(workers=2)``; prints
one JSON line: edges, wall seconds, resident memory before the call, the parent's peak and the
largest worker's peak (MiB, including the ~430 MiB of importing torch + PyG)::

    for n in 25000 50000 100000 200000 400000; do
        PYTHONPATH=. python benchmarks/curvature_memory.py $n >> memory.jsonl
    done
"""

import json
import resource
import sys
import time

import torch

from graphsmooth.curvature import ollivier_ricci
from graphsmooth.data.synthetic import barabasi_albert

n = int(sys.argv[1])
torch.set_num_threads(1)
d = barabasi_albert(n, 5, seed=0)
E = d.edge_index.size(1) // 2
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
res = ollivier_ricci(d.edge_index, n, workers=2)
wall = time.perf_counter() - t
parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
row = {
    "n": n,
    "edges": E,
    "wall_s": round(wall, 2),
    "rss_before_mib": round(base),
    "parent_peak_mib": round(parent),
    "largest_worker_peak_mib": round(child),
    "mean_kappa": float(res.pair_curvature.mean()),
}
print(json.dumps(row))
