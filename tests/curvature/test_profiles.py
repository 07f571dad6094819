import math

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

from graphsmooth.curvature import LocalCurvatureProfile, jost_liu_bounds
from graphsmooth.curvature.profiles import local_curvature_profile

from ._ref import to_edge_index

# triangle 0-1-2, leaf 3 on node 2, isolated node 4; curvatures (hand-computed, alpha = 0):
# (0,1) = 1/2, (0,2) = (1,2) = 1/3, (2,3) = 0
EI = torch.tensor([[0, 1, 1, 2, 2, 0, 2, 3], [1, 0, 2, 1, 0, 2, 3, 2]])


def test_lcp_by_hand():
    lcp = local_curvature_profile(EI, 5)
    mean0 = 5 / 12
    expected = torch.tensor(
        [
            [1 / 3, 1 / 2, mean0, 1 / 12, mean0],  # node 0: {1/2, 1/3}, median = mean of both
            [1 / 3, 1 / 2, mean0, 1 / 12, mean0],
            [0.0, 1 / 3, 2 / 9, math.sqrt(2) / 9, 1 / 3],  # node 2: {1/3, 1/3, 0}
            [0.0, 0.0, 0.0, 0.0, 0.0],  # node 3: {0}
            [0.0, 0.0, 0.0, 0.0, 0.0],  # isolated
        ],
        dtype=torch.float64,
    )
    assert torch.allclose(lcp, expected, atol=1e-14)


def test_lcp_matches_numpy_statistics():
    G = nx.powerlaw_cluster_graph(40, 3, 0.3, seed=0)
    ei = to_edge_index(G)
    from graphsmooth.curvature import ollivier_ricci

    res = ollivier_ricci(ei, 40)
    k = {
        tuple(p): c for p, c in zip(res.pairs.T.tolist(), res.pair_curvature.tolist(), strict=True)
    }
    lcp = local_curvature_profile(ei, 40)
    import numpy as np

    for v in range(40):
        vals = np.array([k[(min(v, w), max(v, w))] for w in G.neighbors(v)])
        ref = [vals.min(), vals.max(), vals.mean(), vals.std(), np.median(vals)]
        assert lcp[v].tolist() == pytest.approx(ref, abs=1e-12)


def test_combinatorial_variant():
    lcp = local_curvature_profile(EI, 5, method="combinatorial")
    lo, up = jost_liu_bounds(EI, 5)
    assert lcp.shape == (5, 2)
    for v in range(4):
        inc = EI[0] == v
        assert lcp[v, 0].item() == pytest.approx(lo[inc].min().item(), abs=1e-14)
        assert lcp[v, 1].item() == pytest.approx(up[inc].max().item(), abs=1e-14)
    assert (lcp[4] == 0).all()


def test_transform_attr_and_concat():
    data = Data(x=torch.ones(5, 3), edge_index=EI)
    out = LocalCurvatureProfile()(data.clone())
    assert out.x.shape == (5, 8) and out.x.dtype == torch.float32
    assert torch.allclose(out.x[:, 3:], local_curvature_profile(EI, 5).float())
    out2 = LocalCurvatureProfile(attr_name="lcp", method="combinatorial")(data.clone())
    assert out2.x.shape == (5, 3) and out2.lcp.shape == (5, 2)
    no_x = LocalCurvatureProfile()(Data(edge_index=EI, num_nodes=5))
    assert no_x.x.shape == (5, 5)
    assert repr(LocalCurvatureProfile(method="combinatorial")) == (
        "LocalCurvatureProfile(attr_name=None, method='combinatorial', alpha=0.0)"
    )
    with pytest.raises(ValueError, match="LocalCurvatureProfile"):
        LocalCurvatureProfile(method="ricci")


def test_transform_list_equals_per_graph():
    graphs = []
    for s in range(6):
        G = nx.gnp_random_graph(8 + s, 0.35, seed=s)
        graphs.append(Data(x=torch.randn(G.number_of_nodes(), 2), edge_index=to_edge_index(G)))
    T = LocalCurvatureProfile()
    batched = T.transform_list(graphs)
    for g, b in zip(graphs, batched, strict=True):
        single = T(g.clone())
        assert torch.equal(single.x, b.x)
        assert g.x.shape[1] == 2  # inputs untouched


def test_lcp_with_worker_processes(monkeypatch):
    import graphsmooth.curvature.ollivier as orc_module

    G = nx.barabasi_albert_graph(200, 3, seed=2)
    ei = torch.tensor(list(G.edges())).t()
    ei = torch.cat([ei, ei.flip(0)], 1)
    data = Data(edge_index=ei, num_nodes=200)
    want = LocalCurvatureProfile(attr_name="lcp")(data.clone()).lcp
    monkeypatch.setattr(orc_module, "_PARALLEL_MIN_WORK", 0)  # fork for this small graph
    got = LocalCurvatureProfile(attr_name="lcp", workers=2)(data.clone()).lcp
    assert torch.equal(got, want)
    with pytest.raises(ValueError, match="workers"):
        LocalCurvatureProfile(workers=0)
