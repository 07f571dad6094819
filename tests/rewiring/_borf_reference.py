"""Independent references for the BORF tests: networkx distances + POT ``ot.emd`` per edge.

``pot_backend`` has the interface of :func:`graphsmooth.curvature.ollivier_ricci` that BORF uses
(``pairs``, ``pair_curvature``, ``plans.pair/src/dst/mass/dist``), so the vectorised batch logic can
be checked against :func:`brute_force_borf`, a plain Python loop over a networkx graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import ot
import torch


def _measure(G: nx.Graph, x: int, alpha: float) -> tuple[list[int], np.ndarray]:
    nbrs = sorted(G.neighbors(x))
    if alpha > 0:
        support = sorted([x, *nbrs])
        mass = np.array([alpha if s == x else (1 - alpha) / len(nbrs) for s in support])
    else:
        support = nbrs
        mass = np.full(len(nbrs), 1.0 / len(nbrs))
    return support, mass


def edge_problem(G: nx.Graph, u: int, v: int, alpha: float):
    """Supports, masses, hop-distance cost and the POT optimal plan of edge ``(u, v)``."""
    su, mu = _measure(G, u, alpha)
    sv, mv = _measure(G, v, alpha)
    cost = np.zeros((len(su), len(sv)))
    for i, p in enumerate(su):
        lengths = nx.single_source_shortest_path_length(G, p, cutoff=3)
        for j, q in enumerate(sv):
            cost[i, j] = lengths.get(q, 4)
    plan = ot.emd(mu, mv, cost)
    return su, sv, mu, mv, cost, plan


@dataclass
class _Plans:
    pair: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    mass: torch.Tensor
    dist: torch.Tensor


@dataclass
class _Result:
    pairs: torch.Tensor
    pair_curvature: torch.Tensor
    plans: _Plans | None


def nx_graph(edge_index: torch.Tensor, num_nodes: int) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(num_nodes))
    G.add_edges_from((int(a), int(b)) for a, b in edge_index.t().tolist() if a != b)
    return G


def pot_backend(edge_index, num_nodes, alpha, return_plans, edges=None):
    """Reference ORC with plans (same interface as graphsmooth.curvature.ollivier_ricci); it
    evaluates every edge, whatever ``edges`` asks for."""
    G = nx_graph(edge_index, num_nodes)
    pairs = sorted((min(a, b), max(a, b)) for a, b in G.edges())
    kappa, pp, ps, pd, pm, pdist = [], [], [], [], [], []
    for k, (u, v) in enumerate(pairs):
        su, sv, _, _, cost, plan = edge_problem(G, u, v, alpha)
        kappa.append(1.0 - float((plan * cost).sum()))
        if return_plans:
            i, j = np.nonzero(plan > 0)
            pp += [k] * len(i)
            ps += [su[a] for a in i]
            pd += [sv[b] for b in j]
            pm += plan[i, j].tolist()
            pdist += cost[i, j].tolist()
    plans = None
    if return_plans:
        plans = _Plans(
            torch.tensor(pp, dtype=torch.long),
            torch.tensor(ps, dtype=torch.long),
            torch.tensor(pd, dtype=torch.long),
            torch.tensor(pm, dtype=torch.float64),
            torch.tensor(pdist, dtype=torch.long),
        )
    pairs_t = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t()
    return _Result(pairs_t, torch.tensor(kappa, dtype=torch.float64), plans)


def brute_force_borf(edge_index, num_nodes, iterations, add, remove, alpha=0.0, batch=None):
    """The BORF batch loop written plainly over networkx (the documented tie-breaking)."""
    G = nx_graph(edge_index, num_nodes)
    gid = [0] * num_nodes if batch is None else [int(b) for b in batch]
    history = []
    for _ in range(iterations):
        if G.number_of_edges() == 0:
            break
        pairs = sorted((min(a, b), max(a, b)) for a, b in G.edges())
        kappa = {}
        plans = {}
        for u, v in pairs:
            su, sv, _, _, cost, plan = edge_problem(G, u, v, alpha)
            kappa[(u, v)] = 1.0 - float((plan * cost).sum())
            plans[(u, v)] = (su, sv, plan * cost)
        rq = {e: round(kappa[e] * 1e9) for e in pairs}
        neg, pos = [], []
        for g in sorted(set(gid[u] for u, _ in pairs)):
            ge = [e for e in pairs if gid[e[0]] == g]
            neg += sorted(ge, key=lambda e: (rq[e], e))[:add]
            pos += sorted(ge, key=lambda e: (-rq[e], e))[:remove]
        added = set()
        for u, v in neg:
            su, sv, val = plans[(u, v)]
            best = val.max()
            cands = [
                (su[i], sv[j])
                for i in range(len(su))
                for j in range(len(sv))
                if val[i, j] >= best - 1e-12
            ]
            p, q = min(cands)
            if p != q and not G.has_edge(p, q):
                added.add((min(p, q), max(p, q)))
        G.add_edges_from(added)
        G.remove_edges_from(pos)
        history.append((sorted(added), list(pos)))
    final = sorted((min(a, b), max(a, b)) for a, b in G.edges())
    return final, history
