r"""Bounded breadth-first search from many sources at once, k-hop balls and pair distances.

All sources expand together, one hop per step: the frontier of every source is expanded with
:func:`~graphsmooth.graph.csr.expand_neighbors` and newly reached ``(source, node)`` keys are kept
(``torch.unique`` / ``torch.isin``). The cost is linear in the total size of the explored balls;
no Python loop runs over nodes or sources.
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphsmooth.graph.csr import CSR, expand_neighbors

__all__ = ["hop_distances", "k_hop_ball", "pair_distances"]


def _check_hops(max_hops: int) -> int:
    if isinstance(max_hops, bool) or not isinstance(max_hops, int) or max_hops < 0:
        raise ValueError(f"max_hops must be a non-negative int, got {max_hops!r}")
    return max_hops


def _check_nodes(csr: CSR, nodes: Tensor, name: str) -> Tensor:
    nodes = torch.as_tensor(nodes, dtype=torch.long, device=csr.col.device).reshape(-1)
    if nodes.numel() and (int(nodes.min()) < 0 or int(nodes.max()) >= csr.num_nodes):
        raise ValueError(f"{name} contains a node index out of range [0, {csr.num_nodes})")
    return nodes


def hop_distances(csr: CSR, sources: Tensor, max_hops: int) -> tuple[Tensor, Tensor, Tensor]:
    r"""Hop distance from each source to every node within ``max_hops`` hops.

    Args:
        csr (CSR): adjacency (see :func:`~graphsmooth.graph.to_csr`).
        sources (torch.Tensor): ``long [S]`` source nodes (repeats allowed).
        max_hops (int): search radius :math:`k`.

    Returns:
        (source_pos, node, dist): COO triples sorted by ``(source_pos, node)`` with
        :math:`d(\text{sources}[s], \text{node}) = \text{dist} \le k`; each source appears with
        itself at distance 0.
    """
    _check_hops(max_hops)
    sources = _check_nodes(csr, sources, "sources")
    n = max(csr.num_nodes, 1)
    s_idx = torch.arange(sources.numel(), device=sources.device)
    vis_keys = s_idx * n + sources
    vis_dist = torch.zeros_like(sources)
    f_src, f_node = s_idx, sources
    seen = vis_keys.sort().values
    keys_all, dist_all = [vis_keys], [vis_dist]
    for hop in range(1, max_hops + 1):
        if f_node.numel() == 0:
            break
        seg, nbr = expand_neighbors(csr, f_node)
        cand = torch.unique(f_src[seg] * n + nbr)
        new = cand[~torch.isin(cand, seen, assume_unique=True)]
        if new.numel() == 0:
            break
        keys_all.append(new)
        dist_all.append(torch.full_like(new, hop))
        seen = torch.cat([seen, new]).sort().values
        f_src, f_node = new // n, new % n
    keys = torch.cat(keys_all)
    dist = torch.cat(dist_all)
    order = torch.argsort(keys)
    keys, dist = keys[order], dist[order]
    return keys // n, keys % n, dist


def k_hop_ball(csr: CSR, sources: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Nodes within ``k`` hops of each source: ``(source_pos, node)`` COO, sorted."""
    s, v, _ = hop_distances(csr, sources, k)
    return s, v


def pair_distances(csr: CSR, u: Tensor, v: Tensor, max_hops: int = 3) -> Tensor:
    r"""Hop distance :math:`d(u_i, v_i)` of each pair, capped: ``max_hops + 1`` when farther.

    Meet-in-the-middle: balls of radius :math:`\lceil k/2 \rceil` around ``u`` and
    :math:`\lfloor k/2 \rfloor` around ``v`` are joined on their common nodes, and
    :math:`d = \min_w d(u, w) + d(w, v)`.
    """
    _check_hops(max_hops)
    u = _check_nodes(csr, u, "u")
    v = _check_nodes(csr, v, "v")
    if u.numel() != v.numel():
        raise ValueError(f"u and v must have the same length, got {u.numel()} and {v.numel()}")
    out = torch.full_like(u, max_hops + 1)
    if u.numel() == 0:
        return out
    r1 = (max_hops + 1) // 2
    r2 = max_hops - r1
    n = max(csr.num_nodes, 1)
    P = u.numel()

    def per_pair_ball(src: Tensor, radius: int) -> tuple[Tensor, Tensor]:
        uniq, inv = torch.unique(src, return_inverse=True)
        s, node, d = hop_distances(csr, uniq, radius)
        counts = torch.bincount(s, minlength=uniq.numel())
        ptr = torch.cumsum(counts, 0) - counts
        c = counts[inv]
        pair = torch.repeat_interleave(torch.arange(P, device=src.device), c)
        off = torch.arange(pair.numel(), device=src.device) - (torch.cumsum(c, 0) - c)[pair]
        idx = ptr[inv][pair] + off
        return pair * n + node[idx], d[idx]

    ka, da = per_pair_ball(u, r1)
    kb, db = per_pair_ball(v, r2)
    # ka is sorted (pairs in order, nodes sorted within each ball); match kb into it
    pos = torch.searchsorted(ka, kb).clamp_(max=ka.numel() - 1)
    hit = ka[pos] == kb
    tot = da[pos[hit]] + db[hit]
    pair = kb[hit] // n
    out.scatter_reduce_(0, pair, tot, reduce="amin", include_self=True)
    return out
