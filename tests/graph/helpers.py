import networkx as nx
import torch


def nx_to_edge_index(G: nx.Graph) -> tuple[torch.Tensor, int]:
    n = G.number_of_nodes()
    e = [(a, b) for a, b in G.edges() if a != b]
    e = e + [(b, a) for a, b in e]
    ei = torch.tensor(e, dtype=torch.long).reshape(-1, 2).T.contiguous()
    return ei, n


def random_graphs(seed: int = 0, count: int = 12):
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(count):
        n = int(torch.randint(1, 40, (1,), generator=gen))
        p = float(torch.rand(1, generator=gen)) * 0.3
        graphs.append(nx.gnp_random_graph(n, p, seed=seed * 1000 + i))
    graphs += [
        nx.star_graph(6),
        nx.path_graph(7),
        nx.complete_graph(3),
        nx.disjoint_union(nx.cycle_graph(5), nx.path_graph(3)),
        nx.empty_graph(4),
    ]
    G = nx.path_graph(3)
    G.add_node(3)  # isolated
    graphs.append(G)
    return graphs
