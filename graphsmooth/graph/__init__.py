"""The shared graph layer: pure torch on ``edge_index`` (no PyG ``Data`` needed).

Every other module of graphsmooth gets graph structure from here: canonical simple undirected
graphs, CSR adjacency and edge lookup, common neighbours (triangles), bounded BFS, Laplacians,
kNN graphs and conversions to networkx / scipy.
"""

from graphsmooth.graph.convert import from_networkx, from_scipy, to_networkx, to_scipy
from graphsmooth.graph.csr import (
    CSR,
    common_neighbor_counts,
    common_neighbors,
    degree,
    expand_neighbors,
    to_csr,
)
from graphsmooth.graph.neighbourhood import hop_distances, k_hop_ball, pair_distances
from graphsmooth.graph.spectral import dirichlet_energy, knn_graph, laplacian
from graphsmooth.graph.structure import (
    check_edge_index,
    is_undirected,
    simple_undirected,
    undirected_pairs,
)

__all__ = [
    "CSR",
    "check_edge_index",
    "common_neighbor_counts",
    "common_neighbors",
    "degree",
    "dirichlet_energy",
    "expand_neighbors",
    "from_networkx",
    "from_scipy",
    "hop_distances",
    "is_undirected",
    "k_hop_ball",
    "knn_graph",
    "laplacian",
    "pair_distances",
    "simple_undirected",
    "to_csr",
    "to_networkx",
    "to_scipy",
    "undirected_pairs",
]
