"""Neural network layers and models.

Names are resolved lazily so that importing :mod:`graphsmooth.nn` stays cheap and each part can
be used on its own:

- :class:`OmegaGCNConv`, :class:`OmegaGATConv` — omega-GNN propagation layers (Eliasof et al. 2023).
- :class:`TimeGNN`, :class:`SobolevLoss` — time-varying signal recovery (Castro-Correa et al. 2023).
- :func:`build_model`, :func:`register_model`, :data:`MODELS` — the model registry used by the runner.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "OmegaGCNConv": "graphsmooth.nn.conv.omega",
    "OmegaGATConv": "graphsmooth.nn.conv.omega",
    "OmegaGCN": "graphsmooth.nn.omega_models",
    "OmegaGAT": "graphsmooth.nn.omega_models",
    "dirichlet_energy": "graphsmooth.graph",
    "TimeGNN": "graphsmooth.nn.timegnn",
    "SobolevLoss": "graphsmooth.nn.losses",
    "sobolev_smoothness": "graphsmooth.nn.losses",
    "build_model": "graphsmooth.nn.models",
    "register_model": "graphsmooth.nn.models",
    "MODELS": "graphsmooth.nn.models",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'graphsmooth.nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
