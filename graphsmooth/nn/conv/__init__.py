"""Graph convolution layers of graphsmooth.

- :class:`OmegaGCNConv`, :class:`OmegaGATConv`: omega-GNN propagation (Eliasof, Ruthotto &
  Treister, ICML 2023), with the functions :func:`gcn_operator`, :func:`attention_graph`,
  :func:`omega_mix`, :func:`omega_attention` and :func:`dirichlet_energy`.
"""

from graphsmooth.nn.conv.omega import (
    OMEGA_MODES,
    OmegaGATConv,
    OmegaGCNConv,
    attention_graph,
    dirichlet_energy,
    gcn_operator,
    omega_attention,
    omega_mix,
)

__all__ = [
    "OMEGA_MODES",
    "OmegaGATConv",
    "OmegaGCNConv",
    "attention_graph",
    "dirichlet_energy",
    "gcn_operator",
    "omega_attention",
    "omega_mix",
]
