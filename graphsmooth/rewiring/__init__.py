r"""Graph rewiring: Batch Ollivier-Ricci Flow (BORF).

- :func:`borf` — the rewiring function (vectorised, incremental curvature).
- :class:`BORF` — the PyG transform over it (node- and graph-level datasets).
- :data:`BORF_DEFAULTS` / :func:`borf_defaults` — the authors' per-dataset ``(n, h, k)``.
- :mod:`graphsmooth.rewiring.plot` — curvature histograms and drawings of what was rewired.
"""

from graphsmooth.rewiring.borf import BORF_DEFAULTS, BORFBatch, BORFResult, borf, borf_defaults
from graphsmooth.rewiring.transform import BORF

__all__ = ["BORF", "BORF_DEFAULTS", "BORFBatch", "BORFResult", "borf", "borf_defaults"]
