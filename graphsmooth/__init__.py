"""graphsmooth: graph and sequential smoothing on PyTorch Geometric.

Subpackages (import what you need; nothing heavy is imported here):

- :mod:`graphsmooth.graph` — the shared graph layer (canonical undirected graphs, CSR,
  neighbourhoods, Laplacians, kNN graphs, conversions).
- :mod:`graphsmooth.data` — datasets, splits and synthetic generators.
- :mod:`graphsmooth.curvature` — Ollivier-Ricci curvature and Local Curvature Profiles.
- :mod:`graphsmooth.rewiring` — Batch Ollivier-Ricci Flow (BORF).
- :mod:`graphsmooth.nn` — omega-GNN layers, TimeGNN, model registry.
- :mod:`graphsmooth.recovery` — time-varying graph signal recovery.
- :mod:`graphsmooth.hmm` — factorial HMMs, Graph Filter and Graph Smoother.
- :mod:`graphsmooth.smc` — particle filters, PaRIS, Parisian particle Gibbs.
- :mod:`graphsmooth.bench` — YAML configs and the resumable benchmark runner.
"""

__version__ = "0.1.0"
