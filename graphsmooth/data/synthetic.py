r"""Synthetic graphs that need no files.

* :func:`contextual_sbm` — a contextual stochastic block model: a stochastic block model
  whose edge homophily is a knob, with Gaussian node features centred on class means. It
  interpolates between homophilous and heterophilous node classification.
* :func:`ring_of_cliques`, :func:`barbell`, :func:`binary_tree` — graphs with bottlenecks,
  the standard test beds for over-squashing and curvature-based rewiring.
* :func:`barabasi_albert` — scale-free graphs by preferential attachment, vectorised so that
  benchmarks can build graphs of 10^5–10^6 nodes in about a second.
* :func:`edge_homophily` — the fraction of edges joining same-label nodes.

Every generator returns a :class:`torch_geometric.data.Data` whose ``edge_index`` is the
canonical simple undirected form of :func:`graphsmooth.graph.simple_undirected` (both
directions, sorted, no self loops or duplicates). Random generators take a ``seed`` and use
their own generator: the same seed gives the same graph.

References:
    Deshpande et al., *Contextual Stochastic Block Models*, NeurIPS 2018.
    Zhu et al., *Beyond Homophily in Graph Neural Networks*, NeurIPS 2020 (edge homophily).
    Topping et al., *Understanding over-squashing and bottlenecks on graphs via curvature*,
    ICLR 2022.
    Barabási and Albert, *Emergence of Scaling in Random Networks*, Science 1999;
    Batagelj and Brandes, *Efficient generation of large random networks*, Phys. Rev. E 2005.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphsmooth.data.splits import random_node_split
from graphsmooth.graph import simple_undirected

__all__ = [
    "barabasi_albert",
    "barbell",
    "binary_tree",
    "contextual_sbm",
    "edge_homophily",
    "ring_of_cliques",
]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _canonical(pairs: Tensor, num_nodes: int) -> Tensor:
    edge_index, _, _ = simple_undirected(pairs.long(), num_nodes)
    return edge_index


def edge_homophily(edge_index: Tensor, y: Tensor) -> float:
    r"""Edge homophily: the fraction of edges whose end points share a label.

    .. math::
        h = \frac{|\{(u, v) \in E : y_u = y_v\}|}{|E|}

    Each column of ``edge_index`` counts once, so an undirected graph stored with both
    directions gives the same value as one stored with one direction per edge.

    Args:
        edge_index (Tensor): ``[2, E]`` edges.
        y (Tensor): ``[N]`` node labels.

    Returns:
        ``h`` as a float (``nan`` for a graph without edges).
    """
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    y = y.view(-1)
    if edge_index.numel() and int(edge_index.max()) >= y.numel():
        raise ValueError(
            f"edge_index refers to node {int(edge_index.max())} but y has {y.numel()} labels"
        )
    if edge_index.shape[1] == 0:
        return float("nan")
    return float((y[edge_index[0]] == y[edge_index[1]]).double().mean())


def _sample_pairs(
    order: Tensor,
    starts: Tensor,
    sizes: Tensor,
    cls: Tensor,
    pos: Tensor,
    count: int,
    same: bool,
    gen: torch.Generator,
) -> Tensor:
    r"""``count`` uniformly random ordered pairs, same-class (``same``) or cross-class.

    ``u`` is drawn with probability proportional to its number of admissible partners
    (``n_c - 1`` or ``N - n_c``), then ``v`` uniformly among them: each admissible ordered
    pair has the same probability.
    """
    n = order.numel()
    partners = (sizes[cls] - 1) if same else (n - sizes[cls])
    u = torch.multinomial(partners.double(), count, replacement=True, generator=gen)
    c = cls[u]
    r = (torch.rand(count, generator=gen, dtype=torch.float64) * partners[u]).long()
    r = torch.minimum(r, partners[u] - 1)
    if same:
        r = r + (r >= pos[u] - starts[c]).long()  # skip u itself within its class block
        v = order[starts[c] + r]
    else:
        r = r + (r >= starts[c]).long() * sizes[c]  # skip the block of u's class
        v = order[r]
    return torch.stack([u, v])


def _unique_pairs(
    sample, target: int, num_nodes: int, gen: torch.Generator, max_rounds: int = 50
) -> Tensor:
    """Draw undirected pairs with ``sample(count)`` until ``target`` distinct ones exist."""
    keys = torch.zeros(0, dtype=torch.long)
    for _ in range(max_rounds):
        missing = target - keys.numel()
        if missing <= 0:
            break
        pairs = sample(int(missing * 1.1) + 16)
        lo, hi = pairs.min(0).values, pairs.max(0).values
        keys = torch.unique(torch.cat([keys, lo * num_nodes + hi]))
    else:
        raise RuntimeError(f"could not draw {target} distinct pairs in {max_rounds} rounds")
    keys = keys[torch.randperm(keys.numel(), generator=gen)[:target]]
    return torch.stack([keys // num_nodes, keys % num_nodes])


def contextual_sbm(
    num_nodes: int = 1000,
    num_classes: int = 2,
    avg_degree: float = 10,
    homophily: float = 0.8,
    num_features: int = 32,
    feature_signal: float = 1.0,
    seed: int = 0,
) -> Data:
    r"""Contextual stochastic block model with an edge-homophily knob.

    Nodes get balanced labels :math:`y_i \in \{0, \dots, C-1\}` (class sizes differ by at most
    one, in random order). The graph has :math:`M = \operatorname{round}(N d / 2)` undirected
    edges, of which :math:`M_{in} = \operatorname{round}(h M)` join nodes of the same class and
    :math:`M - M_{in}` nodes of different classes; each kind is a uniformly random set of
    distinct admissible pairs (a :math:`G(n, M)`-style block model conditioned on the edge
    counts). Hence every node's expected fraction of same-class neighbours, and the edge
    homophily of the graph, equal :math:`h` up to rounding, and the mean degree is :math:`d`.
    Features are Gaussian around class means,

    .. math::
        x_i = \mu_{y_i} + \varepsilon_i, \qquad \varepsilon_i \sim \mathcal{N}(0, I_F),
        \qquad \mu_c = s \, \frac{g_c}{\lVert g_c \rVert}, \quad g_c \sim \mathcal{N}(0, I_F),

    so ``feature_signal`` :math:`s` is the distance of each class mean from the origin
    (``0``: features carry no label information). Masks: stratified 60/20/20 random split
    (:func:`~graphsmooth.data.splits.random_node_split` with the same seed).

    Args:
        num_nodes (int): number of nodes :math:`N`. (default: ``1000``)
        num_classes (int): number of classes :math:`C \ge 2`. (default: ``2``)
        avg_degree (float): mean degree :math:`d`. (default: ``10``)
        homophily (float): target edge homophily :math:`h \in [0, 1]`. (default: ``0.8``)
        num_features (int): feature dimension :math:`F`. (default: ``32``)
        feature_signal (float): norm :math:`s` of the class means. (default: ``1.0``)
        seed (int): random seed. (default: ``0``)

    Returns:
        :class:`~torch_geometric.data.Data` with ``x [N, F]``, ``y [N]``, ``edge_index``
        (both directions), ``train_mask``, ``val_mask``, ``test_mask``.
    """
    n = _check_int("num_nodes", num_nodes, 2)
    c = _check_int("num_classes", num_classes, 2)
    f = _check_int("num_features", num_features, 1)
    if c > n:
        raise ValueError(f"num_classes ({c}) must not exceed num_nodes ({n})")
    if not 0.0 <= float(homophily) <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily!r}")
    if float(avg_degree) < 0:
        raise ValueError(f"avg_degree must be non-negative, got {avg_degree!r}")
    if float(feature_signal) < 0:
        raise ValueError(f"feature_signal must be non-negative, got {feature_signal!r}")
    gen = torch.Generator().manual_seed(int(seed))

    y = (torch.arange(n) % c)[torch.randperm(n, generator=gen)]
    sizes = torch.bincount(y, minlength=c)
    order = torch.argsort(y, stable=True)
    starts = torch.cumsum(sizes, 0) - sizes
    pos = torch.empty(n, dtype=torch.long)
    pos[order] = torch.arange(n)

    m = round(n * float(avg_degree) / 2)
    m_in = round(float(homophily) * m)
    m_out = m - m_in
    max_in = int((sizes * (sizes - 1) // 2).sum())
    max_out = n * (n - 1) // 2 - max_in
    if m_in > max_in or m_out > max_out:
        raise ValueError(
            f"avg_degree={avg_degree} with homophily={homophily} needs {m_in} intra-class and "
            f"{m_out} inter-class edges, but at most {max_in} and {max_out} exist"
        )
    parts = []
    for count, same in ((m_in, True), (m_out, False)):
        if count > 0:
            sample = lambda k, same=same: _sample_pairs(order, starts, sizes, y, pos, k, same, gen)
            parts.append(_unique_pairs(sample, count, n, gen))
    pairs = torch.cat(parts, 1) if parts else torch.zeros(2, 0, dtype=torch.long)
    edge_index = _canonical(pairs, n)

    means = torch.randn(c, f, generator=gen)
    means = float(feature_signal) * means / means.norm(dim=1, keepdim=True).clamp_min(1e-12)
    x = means[y] + torch.randn(n, f, generator=gen)
    split = random_node_split(n, 0.6, 0.2, seed=int(seed), stratify=y)
    return Data(
        x=x,
        y=y,
        edge_index=edge_index,
        train_mask=split.train_mask,
        val_mask=split.val_mask,
        test_mask=split.test_mask,
        num_nodes=n,
    )


def _structure(pairs: Tensor, num_nodes: int, y: Tensor) -> Data:
    return Data(
        x=torch.ones(num_nodes, 1),
        y=y,
        edge_index=_canonical(pairs, num_nodes),
        num_nodes=num_nodes,
    )


def _clique_pairs(num_cliques: int, size: int, offset: int = 0) -> Tensor:
    iu = torch.triu_indices(size, size, offset=1)
    base = offset + torch.arange(num_cliques).repeat_interleave(iu.shape[1]) * size
    return iu.repeat(1, num_cliques) + base


def ring_of_cliques(num_cliques: int, clique_size: int) -> Data:
    r"""Cliques joined in a ring by single bridge edges.

    Clique :math:`i` holds nodes :math:`i k, \dots, i k + k - 1`; its last node is joined to
    the first node of clique :math:`(i + 1) \bmod K` (for :math:`K = 1` there is no bridge).
    The graph is isomorphic to :func:`networkx.ring_of_cliques` (which uses the second node of
    each clique); the bridges are the bottlenecks (most negative curvature). Number of
    undirected edges: :math:`K \binom{k}{2} + K` for :math:`K \ge 2, k \ge 2`.

    Args:
        num_cliques (int): number of cliques :math:`K \ge 1`.
        clique_size (int): nodes per clique :math:`k \ge 1`.

    Returns:
        :class:`~torch_geometric.data.Data` with ``x = 1 [N, 1]``, ``y`` = clique index and
        ``edge_index``.
    """
    num_c = _check_int("num_cliques", num_cliques, 1)
    k = _check_int("clique_size", clique_size, 1)
    n = num_c * k
    start = torch.arange(num_c) * k
    bridges = torch.stack([start + k - 1, (start + k) % n])
    bridges = bridges[:, : num_c if num_c > 1 else 0]
    pairs = torch.cat([_clique_pairs(num_c, k), bridges], 1)
    return _structure(pairs, n, torch.arange(num_c).repeat_interleave(k))


def barbell(clique_size: int, path_length: int = 0) -> Data:
    r"""Two cliques joined by a path (numbering of :func:`networkx.barbell_graph`).

    Nodes :math:`0, \dots, k-1` form the left clique, :math:`k, \dots, k+p-1` the path and
    :math:`k+p, \dots, 2k+p-1` the right clique; the edges :math:`(k-1, k)`,
    :math:`(k+i, k+i+1)` and :math:`(k+p-1, k+p)` join them.

    Args:
        clique_size (int): nodes per clique :math:`k \ge 2`.
        path_length (int): nodes on the path :math:`p \ge 0`. (default: ``0``)

    Returns:
        :class:`~torch_geometric.data.Data` with ``x = 1 [N, 1]``, ``y`` (0 left clique,
        1 right clique, 2 path) and ``edge_index``.
    """
    k = _check_int("clique_size", clique_size, 2)
    p = _check_int("path_length", path_length, 0)
    n = 2 * k + p
    chain = torch.arange(k - 1, k + p + 1)
    pairs = torch.cat(
        [
            _clique_pairs(1, k),
            _clique_pairs(1, k, offset=k + p),
            torch.stack([chain[:-1], chain[1:]]),
        ],
        1,
    )
    y = torch.cat([torch.zeros(k), torch.full((p,), 2), torch.ones(k)]).long()
    return _structure(pairs, n, y)


def binary_tree(depth: int) -> Data:
    r"""Complete binary tree of a given depth (numbering of :func:`networkx.balanced_tree`).

    Node :math:`i > 0` has parent :math:`\lfloor (i - 1) / 2 \rfloor`; there are
    :math:`2^{D+1} - 1` nodes. Trees are the extreme case of over-squashing: the number of
    nodes within :math:`r` hops grows exponentially in :math:`r`.

    Args:
        depth (int): depth :math:`D \ge 0` (``0``: a single node).

    Returns:
        :class:`~torch_geometric.data.Data` with ``x = 1 [N, 1]``, ``y`` = depth of each node
        and ``edge_index``.
    """
    d = _check_int("depth", depth, 0)
    n = 2 ** (d + 1) - 1
    child = torch.arange(1, n)
    pairs = torch.stack([(child - 1) // 2, child])
    level = torch.floor(torch.log2(torch.arange(1, n + 1, dtype=torch.float64))).long()
    return _structure(pairs, n, level)


def barabasi_albert(num_nodes: int, m: int, seed: int = 0, max_rounds: int = 100) -> Data:
    r"""Barabási–Albert preferential-attachment graph, vectorised.

    Same model as :func:`networkx.barabasi_albert_graph`: start from a star on :math:`m + 1`
    nodes; each new node :math:`t` attaches to :math:`m` distinct earlier nodes, each chosen
    with probability proportional to its current degree.

    Implementation (no Python loop over nodes): the list :math:`L` of edge end points is
    the "repeated nodes" list of Batagelj and Brandes, in which node :math:`v` appears
    :math:`\deg(v)` times. Node :math:`t`'s :math:`j`-th target is :math:`L[r]` with
    :math:`r` uniform over the entries written before node :math:`t`, i.e. a degree-biased
    draw. Since targets are themselves entries of :math:`L`, all positions are resolved at
    once by pointer jumping (:math:`O(\log)` vectorised passes). Draws that repeat an
    earlier target of the same node are redrawn, and everything re-resolved, until all
    targets of each node are distinct (rejection, as networkx does; the order of rejections
    differs, so the distribution matches networkx's to within this detail).

    Args:
        num_nodes (int): number of nodes :math:`N > m`.
        m (int): edges added per new node, :math:`m \ge 1`.
        seed (int): random seed. (default: ``0``)
        max_rounds (int): cap on redraw rounds. (default: ``100``)

    Returns:
        :class:`~torch_geometric.data.Data` with ``x = 1 [N, 1]``, ``y = 0`` and
        ``edge_index`` holding :math:`m + m (N - m - 1)` undirected edges.
    """
    m = _check_int("m", m, 1)
    n = _check_int("num_nodes", num_nodes, m + 1)
    rng = np.random.default_rng(int(seed))
    new = n - m - 1  # nodes added after the initial star
    total = 2 * m * (new + 1)  # entries of L
    # L = [0, 1, 0, 2, ..., 0, m | t, ?, t, ?, ... for each new node t]
    src = np.empty(total, dtype=np.int64)  # pointer: resolved positions point to themselves
    value = np.empty(total, dtype=np.int64)
    src[: 2 * m] = np.arange(2 * m)
    value[0 : 2 * m : 2] = 0
    value[1 : 2 * m : 2] = np.arange(1, m + 1)
    t = np.repeat(np.arange(m + 1, n, dtype=np.int64), m)  # new node of each new edge
    block_start = 2 * m * (t - m)  # entries written before node t
    even = 2 * m + 2 * np.arange(new * m, dtype=np.int64)
    src[even] = even
    value[even] = t
    odd = even + 1
    resolved = np.zeros(total, dtype=bool)  # positions whose value is known
    resolved[: 2 * m] = True
    resolved[even] = True

    # round 0: draw every target and resolve all chains by pointer jumping
    src[odd] = (rng.random(new * m) * block_start).astype(np.int64)
    ptr = src.copy()
    _jump(ptr, odd, resolved)
    value[odd] = value[ptr[odd]]
    # children of each position in the (original) copy forest, as a sorted index
    parent_order = np.argsort(src[odd])
    parent_sorted = src[odd][parent_order]
    rows = np.arange(new)
    redrawn = np.zeros(0, dtype=np.int64)  # new-edge indices redrawn so far
    for _ in range(max_rounds):
        pending = _repeated_targets(value[odd].reshape(new, m), rows, m)
        if pending.size == 0:
            break
        src[odd[pending]] = (rng.random(pending.size) * block_start[pending]).astype(np.int64)
        # re-resolve only the redrawn entries and the entries that copy them (transitively);
        # edges redrawn earlier are seeds too, since the index lists them under old parents
        redrawn = np.union1d(redrawn, pending)
        affected = _descendants(redrawn, parent_order, parent_sorted, odd, new * m)
        pos = odd[affected]
        ptr[pos] = src[pos]
        _jump(ptr, pos, resolved)
        value[pos] = value[ptr[pos]]
        rows = np.unique(affected // m)
    else:
        raise RuntimeError(f"barabasi_albert: duplicate targets remain after {max_rounds} rounds")
    pairs = torch.from_numpy(value.reshape(-1, 2).T.copy())
    return _structure(pairs, n, torch.zeros(n, dtype=torch.long))


def _jump(ptr: np.ndarray, positions: np.ndarray, resolved: np.ndarray) -> None:
    """Pointer jumping in place until ``ptr[positions]`` all point to resolved entries."""
    active = positions[~resolved[ptr[positions]]]
    while active.size:
        ptr[active] = ptr[ptr[active]]
        active = active[~resolved[ptr[active]]]


def _repeated_targets(target: np.ndarray, rows: np.ndarray, m: int) -> np.ndarray:
    """Flat indices of the later copies of repeated targets within the given rows."""
    block = target[rows]
    srt = np.sort(block, axis=1)
    has = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
    rows, block = rows[has], block[has]
    order = np.argsort(block, axis=1, kind="stable")
    srt = np.take_along_axis(block, order, axis=1)
    later = np.zeros_like(block, dtype=bool)
    later[:, 1:] = srt[:, 1:] == srt[:, :-1]
    repeat = np.zeros_like(block, dtype=bool)
    np.put_along_axis(repeat, order, later, axis=1)
    r_idx, c_idx = np.nonzero(repeat)
    return rows[r_idx] * m + c_idx


def _descendants(
    seeds: np.ndarray, order: np.ndarray, parent_sorted: np.ndarray, odd: np.ndarray, size: int
) -> np.ndarray:
    """Seeds and every new edge whose target is copied, transitively, from a seed's entry."""
    mark = np.zeros(size, dtype=bool)
    mark[seeds] = True
    frontier = seeds
    while frontier.size:
        parents = odd[frontier]
        lo = np.searchsorted(parent_sorted, parents, "left")
        counts = np.searchsorted(parent_sorted, parents, "right") - lo
        total = int(counts.sum())
        if total == 0:
            break
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        children = order[np.repeat(lo, counts) + offsets]
        children = np.unique(children[~mark[children]])
        mark[children] = True
        frontier = children
    return np.nonzero(mark)[0]
