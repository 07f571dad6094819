import networkx as nx
import pytest
import torch

from graphsmooth.curvature import jost_liu_bounds, ollivier_ricci

from ._ref import to_edge_index


def test_hand_computed_bounds():
    # triangle 0-1-2 with leaf 3 on node 2
    ei = torch.tensor([[0, 1, 1, 2, 2, 0, 2, 3], [1, 0, 2, 1, 0, 2, 3, 2]])
    lo, up = jost_liu_bounds(ei, 4)
    # edge (0,1): d = 2, 2, # = 1 -> upper 1/2, lower -(1-1-1/2)_+ - (...)_+ + 1/2 = 1/2
    assert lo[0].item() == pytest.approx(0.5) and up[0].item() == pytest.approx(0.5)
    # edge (1,2): d = 2, 3, # = 1 -> upper 1/3; base = 1 - 1/2 - 1/3 = 1/6:
    # lower = -(1/6 - 1/2)_+ - (1/6 - 1/3)_+ + 1/3 = 1/3
    assert lo[2].item() == pytest.approx(1 / 3) and up[2].item() == pytest.approx(1 / 3)
    # edge (2,3): d = 3, 1, # = 0 -> upper 0, lower -(1 - 1/3 - 1)_+ * 2 = 0
    assert lo[6].item() == pytest.approx(0.0) and up[6].item() == pytest.approx(0.0)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounds_bracket_exact(alpha, seed):
    G = nx.powerlaw_cluster_graph(80, 3, 0.5, seed=seed)
    G.add_edges_from(nx.gnp_random_graph(80, 0.03, seed=seed).edges())
    ei = to_edge_index(G)
    exact = ollivier_ricci(ei, 80, alpha=alpha).curvature
    res = ollivier_ricci(ei, 80, alpha=alpha, method="bounds")
    assert (res.lower <= exact + 1e-12).all()
    assert (exact <= res.upper + 1e-12).all()
    assert torch.allclose(res.curvature, 0.5 * (res.lower + res.upper))
    # not a degenerate comparison: the bounds differ on some edges
    assert ((res.upper - res.lower) > 0.1).any()


def test_tree_lower_bound_is_tight():
    G = nx.balanced_tree(3, 3)
    ei = to_edge_index(G)
    lo, _ = jost_liu_bounds(ei)
    assert torch.allclose(lo, ollivier_ricci(ei).curvature, atol=1e-14)


def test_self_loop_is_nan_and_bad_alpha():
    lo, up = jost_liu_bounds(torch.tensor([[0, 1, 1], [1, 0, 1]]))
    assert torch.isnan(lo[2]) and torch.isnan(up[2]) and not torch.isnan(lo[:2]).any()
    with pytest.raises(ValueError, match="alpha"):
        jost_liu_bounds(torch.tensor([[0, 1], [1, 0]]), alpha=1.5)
