import networkx as nx
import pytest
import torch

from graphsmooth.graph import hop_distances, k_hop_ball, pair_distances, to_csr
from tests.graph.helpers import nx_to_edge_index, random_graphs


@pytest.mark.parametrize("G", random_graphs(3))
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_hop_distances_match_networkx(G, k):
    ei, n = nx_to_edge_index(G)
    if n == 0:
        return
    csr = to_csr(ei, n)
    sources = torch.arange(n).flip(0)
    s, node, d = hop_distances(csr, sources, k)
    for i, src in enumerate(sources.tolist()):
        ref = nx.single_source_shortest_path_length(G, src, cutoff=k)
        got = dict(zip(node[s == i].tolist(), d[s == i].tolist(), strict=True))
        assert got == ref
    bs, bn = k_hop_ball(csr, sources, k)
    assert torch.equal(bs, s) and torch.equal(bn, node)


@pytest.mark.parametrize("G", random_graphs(4))
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_pair_distances_match_networkx(G, k):
    ei, n = nx_to_edge_index(G)
    if n == 0:
        return
    csr = to_csr(ei, n)
    gen = torch.Generator().manual_seed(0)
    u = torch.randint(0, n, (60,), generator=gen)
    v = torch.randint(0, n, (60,), generator=gen)
    d = pair_distances(csr, u, v, k)
    spl = dict(nx.all_pairs_shortest_path_length(G))
    ref = [min(spl[a].get(b, k + 1), k + 1) for a, b in zip(u.tolist(), v.tolist(), strict=True)]
    assert d.tolist() == ref


def test_bad_inputs():
    csr = to_csr(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match="max_hops"):
        hop_distances(csr, torch.tensor([0]), -1)
    with pytest.raises(ValueError, match="out of range"):
        hop_distances(csr, torch.tensor([5]), 1)
    with pytest.raises(ValueError, match="same length"):
        pair_distances(csr, torch.tensor([0]), torch.tensor([0, 1]))
