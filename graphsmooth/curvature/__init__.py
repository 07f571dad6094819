"""Ollivier-Ricci curvature (exact, Jost-Liu bounds, Sinkhorn) and Local Curvature Profiles."""

from graphsmooth.curvature.bounds import jost_liu_bounds, pair_bounds
from graphsmooth.curvature.ollivier import OllivierRicciResult, TransportPlans, ollivier_ricci

__all__ = [
    "LocalCurvatureProfile",
    "OllivierRicciResult",
    "TransportPlans",
    "jost_liu_bounds",
    "local_curvature_profile",
    "ollivier_ricci",
    "pair_bounds",
]


def __getattr__(name: str):
    if name in ("LocalCurvatureProfile", "local_curvature_profile"):
        from graphsmooth.curvature import profiles

        return getattr(profiles, name)
    raise AttributeError(f"module 'graphsmooth.curvature' has no attribute {name!r}")
