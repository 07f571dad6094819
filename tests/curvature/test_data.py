"""Checks on the shared benchmark data (need $GRAPHSMOOTH_DATA; they fail when it is missing)."""

import networkx as nx
import numpy as np
import ot
import pytest
import torch

from graphsmooth.curvature import LocalCurvatureProfile, ollivier_ricci
from graphsmooth.data import load_dataset


@pytest.mark.data
def test_cora_exact_against_pot_sample_and_bounds():
    data = load_dataset("Cora")[0]
    res = ollivier_ricci(data.edge_index, data.num_nodes)
    bnd = ollivier_ricci(data.edge_index, data.num_nodes, method="bounds")
    assert (bnd.pair_lower <= res.pair_curvature + 1e-12).all()
    assert (res.pair_curvature <= bnd.pair_upper + 1e-12).all()
    G = nx.Graph(res.pairs.T.tolist())
    pick = torch.randperm(res.pairs.size(1), generator=torch.Generator().manual_seed(0))[:80]
    for e in pick.tolist():
        u, v = res.pairs[:, e].tolist()
        su, sv = sorted(G.neighbors(u)), sorted(G.neighbors(v))
        dist = {p: nx.single_source_shortest_path_length(G, p, cutoff=3) for p in su}
        C = np.array([[dist[p].get(q, 9) for q in sv] for p in su], dtype=float)
        w1 = ot.emd2(np.full(len(su), 1 / len(su)), np.full(len(sv), 1 / len(sv)), C)
        assert res.pair_curvature[e].item() == pytest.approx(1 - w1, abs=1e-12)


@pytest.mark.data
def test_proteins_lcp_batched_equals_per_graph():
    ds = load_dataset("PROTEINS")
    graphs = [ds[i] for i in range(20)]
    T = LocalCurvatureProfile(attr_name="lcp")
    batched = T.transform_list(graphs)
    for g, b in zip(graphs, batched, strict=True):
        assert torch.equal(T(g.clone()).lcp, b.lcp)
        assert b.lcp.shape == (g.num_nodes, 5)
