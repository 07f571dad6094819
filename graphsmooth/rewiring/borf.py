r"""Batch Ollivier-Ricci Flow (BORF): curvature-guided rewiring in batches.

Nguyen, Hieu, Nguyen, Nguyen, Ho, Osher, Nguyen, `"Revisiting Over-smoothing and Over-squashing
Using Ollivier-Ricci Curvature" <https://arxiv.org/abs/2211.15779>`_ (ICML 2023).

Each batch computes the Ollivier-Ricci curvature (ORC, see
:func:`graphsmooth.curvature.ollivier_ricci`) of every undirected edge of the current graph,

.. math::

    \kappa(u, v) = 1 - W_1(m_u, m_v), \qquad
    m_x = \alpha\,\delta_x + \frac{1 - \alpha}{\deg x} \sum_{y \sim x} \delta_y,

then, with :math:`\pi^{uv}` the optimal transport plan of :math:`W_1(m_u, m_v)`,

* for each of the ``add`` (:math:`h`) most negatively curved edges :math:`(u, v)` it adds

  .. math::

      (p^*, q^*) = \operatorname*{arg\,max}_{(p, q)} \pi^{uv}(p, q)\, d(p, q)

  when :math:`p^* \ne q^*` and :math:`(p^*, q^*)` is not an edge yet (over-squashing: negative
  curvature marks bottlenecks; the new edge shortcuts the costliest transport);
* it removes the ``remove`` (:math:`k`) most positively curved edges (over-smoothing).

The curvature is computed once per batch (no re-computation between the additions of a batch, as in
the authors' loop). Only the edges that can be selected are evaluated: with the Jost-Liu bounds
:math:`\ell_e \le \kappa_e \le \upsilon_e`, an edge whose lower bound exceeds the :math:`h`-th
smallest known-or-upper value cannot be among the :math:`h` most negative (likewise for the most
positive), so rounds evaluate the remaining candidates, cheapest bound first, until none is left
(``full_curvature=True`` evaluates every edge; the rewiring is the same). On Chameleon about 5% of
the transport work of the full curvature remains. Between batches the curvatures (and bounds)
of the edges that cannot have changed are kept (``incremental=True``): :math:`\kappa(x, y)`
depends on :math:`N(x)`, :math:`N(y)` and the hop distances (capped at 3) between :math:`N[x]`
and :math:`N[y]`. Adding or removing :math:`(a, b)`
changes :math:`N(a)`, :math:`N(b)` and only distances :math:`d(p, q)` whose shortest path of
length :math:`\le 2` runs through :math:`(a, b)`: one of :math:`p, q` is :math:`a` (resp.
:math:`b`) and the other is in :math:`N[b]` (resp. :math:`N[a]`). So :math:`(x, y)` can change only
if it touches :math:`a` or :math:`b`, or :math:`x \in N(a)` and :math:`d(y, b) \le 2` (or the same
with the roles swapped), neighbourhoods taken in the union of the old and new graphs. Only those
edges are evaluated again, when the ranking needs them: ``ollivier_ricci(..., edges=targets)``
evaluates a subset of the edges of the whole graph at the cost of that subset. The transport plans of the most negative edges are
computed the same way, for those edges only.

Design choices (the paper and the authors' code are silent or buggy here; see ``docs/borf.md``):

* The graph is simple and undirected and each undirected edge counts once. (The authors' code
  runs on a *directed* networkx graph, so each edge is ranked twice, :math:`h` and :math:`k` are in
  effect halved and the result can become asymmetric; their ``_C[-batch_remove:]`` also removes
  *every* edge when ``batch_remove = 0``. Nothing here reproduces either.)
* Ranking: curvatures are rounded to :math:`10^{-9}` and ties are broken by the edge
  :math:`(u, v)`, :math:`u < v`, in lexicographic order (most negative: ascending curvature, then
  ascending :math:`(u, v)`; most positive: descending curvature, then ascending :math:`(u, v)`).
* The argmax runs over the whole plan (as in the authors' code): when the largest
  :math:`\pi d` sits on an existing edge (:math:`d = 1`) nothing is added for that edge. Ties
  (within :math:`10^{-12}`) go to the smallest :math:`(p, q)` with :math:`p` on the side of
  :math:`u < v`. Several negative edges proposing the same new edge add it once.
* Additions and removals of a batch are both chosen from the curvature at the start of the batch;
  when :math:`h + k` exceeds the number of edges an edge can be both a source of an addition and
  removed.
* Edge attributes: surviving columns keep their attributes; new edges get ``fill_value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphsmooth.graph import CSR, expand_neighbors, hop_distances, simple_undirected, to_csr

__all__ = ["BORF_DEFAULTS", "BORFBatch", "BORFResult", "borf", "borf_defaults"]

#: The authors' per-dataset settings ``(iterations n, add h, remove k)`` (BORF paper, issue 5).
BORF_DEFAULTS: dict[str, tuple[int, int, int]] = {
    "cora": (3, 20, 10),
    "citeseer": (3, 20, 10),
    "texas": (3, 30, 10),
    "cornell": (2, 20, 30),
    "wisconsin": (2, 30, 20),
    "chameleon": (3, 20, 20),
    "enzymes": (1, 3, 2),
    "imdb-binary": (1, 3, 0),
    "mutag": (1, 20, 3),
    "proteins": (3, 4, 1),
}

_ROUND = 1e9  # curvature ranking resolution (1e-9)
_PLAN_TIE = 1e-12  # pi * d values closer than this are ties


def borf_defaults(name: str) -> dict[str, int]:
    """The authors' ``iterations`` / ``add`` / ``remove`` for a dataset name (case-insensitive).

    Raises:
        ValueError: for a dataset without published settings, listing the known names.
    """
    key = name.lower().replace("_", "-")
    if key == "imdbbinary":
        key = "imdb-binary"
    if key not in BORF_DEFAULTS:
        raise ValueError(
            f"no BORF defaults for dataset {name!r}; known: {', '.join(sorted(BORF_DEFAULTS))}"
        )
    n, h, k = BORF_DEFAULTS[key]
    return {"iterations": n, "add": h, "remove": k}


@dataclass
class BORFBatch:
    """What one BORF batch did. All edges are undirected pairs ``(u, v)`` with ``u < v``.

    Attributes:
        pairs (torch.Tensor): ``long [2, E]`` the edges at the start of the batch (sorted).
        curvature (torch.Tensor): ``float64 [E]`` their ORC at the start of the batch; ``nan``
            for the edges the ranking did not need (unless ``full_curvature=True``).
        negative (torch.Tensor): ``long [2, h']`` the most negatively curved edges (ranked).
        negative_curvature (torch.Tensor): ``float64 [h']`` their curvature.
        proposed (torch.Tensor): ``long [2, h']`` the argmax :math:`(p, q)` of
            :math:`\\pi d` for each negative edge (``p`` on the ``u`` side; may be invalid).
        proposed_value (torch.Tensor): ``float64 [h']`` the value :math:`\\pi(p, q) d(p, q)`.
        added (torch.Tensor): ``long [2, a]`` edges added (``a <= h``), sorted.
        removed (torch.Tensor): ``long [2, r]`` edges removed (``r <= k``), ranked.
        removed_curvature (torch.Tensor): ``float64 [r]`` their curvature.
    """

    pairs: Tensor
    curvature: Tensor
    negative: Tensor
    negative_curvature: Tensor
    proposed: Tensor
    proposed_value: Tensor
    added: Tensor
    removed: Tensor
    removed_curvature: Tensor


@dataclass
class BORFResult:
    """Result of :func:`borf`.

    Attributes:
        edge_index (torch.Tensor): ``long [2, 2E']`` rewired graph, simple and undirected (both
            directions, sorted by ``(row, col)``).
        num_nodes (int): number of nodes (unchanged).
        edge_attr (torch.Tensor, optional): attributes aligned with ``edge_index``: surviving
            columns keep theirs, new edges get ``fill_value``.
        batches (list[BORFBatch]): one record per batch.
        pairs (torch.Tensor): ``long [2, E']`` rewired undirected edges ``u < v``.
        curvature (torch.Tensor, optional): ``float64 [E']`` ORC of the rewired graph
            (``return_curvature=True``).
        origin (torch.Tensor): ``long [E']`` for each pair, its index among the undirected edges
            of the input graph (``-1`` for added edges).
        alpha (float): the laziness the curvatures were computed with.
    """

    edge_index: Tensor
    num_nodes: int
    edge_attr: Tensor | None
    batches: list[BORFBatch] = field(default_factory=list)
    pairs: Tensor | None = None
    curvature: Tensor | None = None
    origin: Tensor | None = None
    alpha: float | None = None

    @property
    def added(self) -> Tensor:
        """``long [2, A]`` all edges added over the batches (an edge added then removed included)."""
        if not self.batches:
            return torch.empty(2, 0, dtype=torch.long)
        return torch.cat([b.added for b in self.batches], dim=1)

    @property
    def removed(self) -> Tensor:
        """``long [2, R]`` all edges removed over the batches."""
        if not self.batches:
            return torch.empty(2, 0, dtype=torch.long)
        return torch.cat([b.removed for b in self.batches], dim=1)

    @property
    def curvature_before(self) -> Tensor | None:
        """``float64 [E]`` ORC of the input graph (pairs in ``batches[0].pairs``); the edges the
        first batch did not need (``nan`` in ``batches[0].curvature``) are evaluated on first
        access and stored there."""
        if not self.batches:
            return self.curvature
        first = self.batches[0]
        missing = torch.isnan(first.curvature).nonzero().flatten()
        if missing.numel():
            g = _Graph(first.pairs, self.num_nodes)
            first.curvature[missing] = _local_curvature(
                g, missing, 0.0 if self.alpha is None else self.alpha, False
            )[0]
        return first.curvature


# --------------------------------------------------------------------------- curvature backend


def _ollivier_ricci_backend(
    edge_index: Tensor, num_nodes: int, alpha: float, return_plans: bool, edges: Tensor | None
) -> Any:
    """Exact ORC (and plans) of ``edges`` (all when ``None``) of a simple undirected graph;
    one seam for tests (a backend may return more edges than asked)."""
    from graphsmooth.curvature import ollivier_ricci

    return ollivier_ricci(
        edge_index,
        num_nodes=num_nodes,
        alpha=alpha,
        method="exact",
        return_plans=return_plans,
        edges=edges,
    )


@dataclass
class _Graph:
    """The current undirected graph: sorted pairs ``u < v``, their keys and a CSR."""

    pairs: Tensor
    num_nodes: int
    keys: Tensor = field(init=False)
    csr: CSR = field(init=False)
    _edge_index: Tensor | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        n = max(self.num_nodes, 1)
        self.keys = self.pairs[0] * n + self.pairs[1]
        both = torch.cat([self.pairs, self.pairs.flip(0)], dim=1)
        self.csr = to_csr(both, self.num_nodes, canonical=False)

    @property
    def num_edges(self) -> int:
        return int(self.pairs.size(1))

    def edge_index(self) -> Tensor:
        # one tensor per graph: the curvature backend reuses its structures for the same object
        if self._edge_index is None:
            self._edge_index = self.csr.edge_index
        return self._edge_index


def _expand(g: _Graph, owner: Tensor, nodes: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Every neighbour ``w`` of each ``nodes[i]``: ``(owner[i], nodes[i], w)`` triples."""
    seg, nbr = expand_neighbors(g.csr, nodes)
    return owner[seg], nodes[seg], nbr


def _affected_edges(old: _Graph, new: _Graph, changed: Tensor) -> Tensor:
    r"""Mask over ``new.pairs`` of the edges whose curvature can differ from ``old``.

    Changing :math:`(a, b)` changes :math:`N(a)`, :math:`N(b)` and only distances
    :math:`d(p, q)` (capped at 3) with one of :math:`p, q` in :math:`\{a, b\}` and the other in
    :math:`N[b]`, resp. :math:`N[a]` (a path of length :math:`\le 2` through the edge). So
    :math:`(x, y)` can change only if it touches :math:`a` or :math:`b`, or
    :math:`x \in N(a)` and :math:`d(y, b) \le 2` (or the same with :math:`a, b` or
    :math:`x, y` swapped); neighbourhoods and distances are taken in the union of the old and
    the new graph, which over-approximates both.
    """
    dev = new.pairs.device
    n = max(new.num_nodes, 1)
    union = _Graph(_unique_pairs(torch.cat([old.pairs, new.pairs], dim=1), n), new.num_nodes)
    touched = torch.zeros(new.num_nodes, dtype=torch.bool, device=dev)
    touched[changed.reshape(-1)] = True
    mask = touched[new.pairs[0]] | touched[new.pairs[1]]
    if changed.numel() == 0:
        return mask
    a = torch.cat([changed[0], changed[1]])  # both orientations of each changed edge
    b = torch.cat([changed[1], changed[0]])
    c = torch.arange(a.numel(), device=dev)
    cx, _, xs = _expand(union, c, a)  # x in N(a)
    cy, xx, ys = _expand(union, cx, xs)  # y in N(x)
    src, node, _ = hop_distances(union.csr, b, 2)  # d(b, node) <= 2
    near = torch.isin(cy * n + ys, c[src] * n + node)
    lo, hi = torch.minimum(xx[near], ys[near]), torch.maximum(xx[near], ys[near])
    pos = torch.searchsorted(new.keys, lo * n + hi).clamp_(max=max(new.num_edges - 1, 0))
    hit = new.keys[pos] == lo * n + hi
    mask[pos[hit]] = True
    return mask


def _unique_pairs(pairs: Tensor, num_nodes: int) -> Tensor:
    n = max(num_nodes, 1)
    keys = torch.unique(pairs[0] * n + pairs[1])
    return torch.stack([keys // n, keys % n])


@dataclass
class _Plans:
    """Optimal plans restricted to target edges: ``target`` index, ``src``, ``dst`` (global)."""

    target: Tensor
    src: Tensor
    dst: Tensor
    mass: Tensor
    dist: Tensor


def _local_curvature(
    g: _Graph, targets: Tensor, alpha: float, with_plans: bool
) -> tuple[Tensor, _Plans | None]:
    """Exact ORC of the edges ``g.pairs[:, targets]`` (and their plans): only those edges are
    evaluated (``ollivier_ricci(..., edges=)``), so the cost follows the targets, not the graph."""
    dev = g.pairs.device
    if targets.numel() == 0:
        empty = torch.empty(0, dtype=torch.long, device=dev)
        plans = _Plans(empty, empty, empty, empty.double(), empty) if with_plans else None
        return torch.empty(0, dtype=torch.float64, device=dev), plans
    edges = None if targets.numel() == g.num_edges else g.pairs[:, targets]
    res = _ollivier_ricci_backend(g.edge_index(), g.num_nodes, alpha, with_plans, edges)
    rp = res.pairs.to(dev).long()
    n = max(g.num_nodes, 1)
    rkeys = rp[0] * n + rp[1]
    rorder = torch.argsort(rkeys)
    rkeys_sorted = rkeys[rorder]
    tkeys = g.keys[targets]
    pos = torch.searchsorted(rkeys_sorted, tkeys).clamp_(max=max(rkeys.numel() - 1, 0))
    if rkeys.numel() == 0 or not bool((rkeys_sorted[pos] == tkeys).all()):
        raise RuntimeError("curvature backend did not return every requested edge")
    idx = rorder[pos]  # index into res.pairs of each target
    kappa = res.pair_curvature.to(dev).double()[idx]
    if bool(torch.isnan(kappa).any()):
        raise RuntimeError("curvature backend did not evaluate every requested edge")
    plans = None
    if with_plans:
        pl = res.plans
        owner = torch.full((rkeys.numel(),), -1, dtype=torch.long, device=dev)
        owner[idx] = torch.arange(targets.numel(), device=dev)
        t = owner[pl.pair.to(dev).long()]
        keep = t >= 0
        plans = _Plans(
            target=t[keep],
            src=pl.src.to(dev).long()[keep],
            dst=pl.dst.to(dev).long()[keep],
            mass=pl.mass.to(dev).double()[keep],
            dist=pl.dist.to(dev).double()[keep],
        )
    return kappa, plans


def _argmax_transport(plans: _Plans, num_targets: int, num_nodes: int) -> tuple[Tensor, Tensor]:
    """Per target: the plan entry maximising ``mass * dist``, ties to the smallest ``(p, q)``.

    Returns:
        (pq, value): ``long [2, T]`` chosen ``(p, q)`` and ``float64 [T]`` its ``mass * dist``.
    """
    dev = plans.src.device
    val = plans.mass * plans.dist
    best = torch.full((num_targets,), float("-inf"), dtype=torch.float64, device=dev)
    best = best.scatter_reduce(0, plans.target, val, reduce="amax", include_self=True)
    near = val >= best[plans.target] - _PLAN_TIE
    n = max(num_nodes, 1)
    key = plans.src * n + plans.dst
    big = torch.iinfo(torch.long).max
    chosen = torch.full((num_targets,), big, dtype=torch.long, device=dev)
    chosen = chosen.scatter_reduce(
        0, plans.target[near], key[near], reduce="amin", include_self=True
    )
    if bool((chosen == big).any()):
        raise RuntimeError("curvature backend returned an empty transport plan")
    return torch.stack([chosen // n, chosen % n]), best


def _rank(graph_id: Tensor, kq: Tensor, count: int, num_graphs: int) -> Tensor:
    """Indices of the ``count`` first edges of each graph in the order ``(kq, index)``."""
    if count <= 0 or kq.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=kq.device)
    order = torch.argsort(kq, stable=True)  # pairs are sorted by (u, v): index order breaks ties
    order = order[torch.argsort(graph_id[order], stable=True)]
    sizes = torch.bincount(graph_id, minlength=num_graphs)
    starts = torch.cumsum(sizes, 0) - sizes
    rank = torch.arange(order.numel(), device=kq.device) - starts[graph_id[order]]
    return order[rank < count]


def _attr_lookup(in_index: Tensor, out_index: Tensor, num_nodes: int) -> Tensor:
    """For each output column ``(a, b)``: the first input column ``(a, b)``, else ``(b, a)``,
    else ``-1``."""
    n = max(num_nodes, 1)
    in_keys = in_index[0] * n + in_index[1]
    order = torch.argsort(in_keys, stable=True)
    sk = in_keys[order]
    first = torch.ones_like(sk, dtype=torch.bool)
    first[1:] = sk[1:] != sk[:-1]
    sk, order = sk[first], order[first]
    out = torch.full((out_index.size(1),), -1, dtype=torch.long, device=out_index.device)
    if sk.numel() == 0:
        return out
    for q in (out_index[0] * n + out_index[1], out_index[1] * n + out_index[0]):
        pos = torch.searchsorted(sk, q).clamp_(max=sk.numel() - 1)
        hit = (sk[pos] == q) & (out < 0)
        out[hit] = order[pos[hit]]
    return out


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"borf: {name} must be a non-negative int, got {value!r}")
    return value


def borf(
    edge_index: Tensor,
    num_nodes: int | None = None,
    iterations: int = 3,
    add: int = 20,
    remove: int = 10,
    *,
    edge_attr: Tensor | None = None,
    fill_value: float | Tensor = 0.0,
    alpha: float = 0.0,
    batch: Tensor | None = None,
    incremental: bool = True,
    full_curvature: bool = False,
    return_curvature: bool = True,
    verbose: bool = False,
) -> BORFResult:
    r"""Batch Ollivier-Ricci Flow rewiring (Nguyen et al., ICML 2023).

    For ``iterations`` batches: compute the ORC :math:`\kappa` of every undirected edge; for each
    of the ``add`` most negative edges :math:`(u, v)` add
    :math:`\arg\max_{p, q} \pi^{uv}(p, q)\, d(p, q)` (when :math:`p \ne q` and the edge is new);
    remove the ``remove`` most positive edges. See the module docstring for the maths,
    tie-breaking and the incremental recomputation.

    Args:
        edge_index (torch.Tensor): ``[2, E]`` graph; symmetrised (with a warning if directed),
            self loops and duplicates dropped.
        num_nodes (int, optional): number of nodes. (default: ``None`` = ``max + 1``)
        iterations (int): number of batches :math:`n`. (default: ``3``)
        add (int): edges :math:`h` considered for addition per batch (per graph with ``batch``).
            (default: ``20``)
        remove (int): edges :math:`k` removed per batch (per graph with ``batch``).
            (default: ``10``)
        edge_attr (torch.Tensor, optional): ``[E, ...]`` attributes aligned with the columns of
            ``edge_index``; output column ``(a, b)`` takes the attribute of the first input
            column ``(a, b)``, else of ``(b, a)``. (default: ``None``)
        fill_value (float or torch.Tensor): attribute of new edges, broadcast to one attribute
            row. (default: ``0.0``)
        alpha (float): laziness of the measures :math:`m_x`, in ``[0, 1)``; the BORF paper uses
            0. (default: ``0.0``)
        batch (torch.Tensor, optional): ``long [N]`` graph id of each node for a disjoint union
            of graphs (a PyG ``Batch``): each graph gets its own ``add`` / ``remove`` budget, as
            when rewiring the graphs one by one, in one vectorised run. (default: ``None``)
        incremental (bool): recompute only the curvatures that can change between batches
            (exact; same result as full recomputation). (default: ``True``)
        full_curvature (bool): evaluate the exact ORC of every edge in every batch. By default
            only the edges that can rank among the ``add`` most negative or the ``remove`` most
            positive are evaluated (pruned with the Jost-Liu bounds; see the module docstring):
            the rewiring is identical, but ``BORFBatch.curvature`` holds ``nan`` for the edges
            left out. (default: ``False``)
        return_curvature (bool): also compute the ORC of the rewired graph. (default: ``True``)
        verbose (bool): show a progress bar over batches. (default: ``False``)

    Returns:
        BORFResult: rewired ``edge_index`` (simple, undirected), ``edge_attr``, per-batch records.

    Raises:
        ValueError: on negative counts, ``alpha`` outside ``[0, 1)``, or ``edge_attr`` /
            ``batch`` of the wrong size.
    """
    iterations = _check_count("iterations", iterations)
    add = _check_count("add", add)
    remove = _check_count("remove", remove)
    if not 0.0 <= float(alpha) < 1.0:
        raise ValueError(f"borf: alpha must be in [0, 1), got {alpha!r}")
    if edge_attr is not None and (
        not isinstance(edge_attr, Tensor) or edge_attr.size(0) != edge_index.size(1)
    ):
        raise ValueError(
            f"borf: edge_attr must be a tensor with {edge_index.size(1)} rows (one per column of "
            f"edge_index), got {tuple(edge_attr.shape) if isinstance(edge_attr, Tensor) else edge_attr!r}"
        )
    ei, _, n = simple_undirected(edge_index, num_nodes, on_directed="warn")
    dev = ei.device
    if batch is not None:
        batch = torch.as_tensor(batch, dtype=torch.long, device=dev)
        if batch.dim() != 1 or batch.numel() != n:
            raise ValueError(f"borf: batch must have shape [{n}] (one graph id per node)")
        if n and int(batch.min()) < 0:
            raise ValueError("borf: batch contains a negative graph id")
        num_graphs = int(batch.max()) + 1 if n else 0
    else:
        batch = torch.zeros(n, dtype=torch.long, device=dev)
        num_graphs = 1

    g = _Graph(ei[:, ei[0] < ei[1]].contiguous(), n)
    origin = torch.arange(g.num_edges, device=dev)
    records: list[BORFBatch] = []
    kappa: Tensor | None = None
    bounds = torch.full((2, g.num_edges), float("nan"), dtype=torch.float64, device=dev)
    if iterations > 0 and g.num_edges > 0:
        kappa = torch.full((g.num_edges,), float("nan"), dtype=torch.float64, device=dev)
        if full_curvature:
            kappa, _ = _local_curvature(g, torch.arange(g.num_edges, device=dev), alpha, False)
    for _ in tqdm(range(iterations), desc="BORF", disable=not verbose):
        if g.num_edges == 0 or kappa is None:
            break
        gid = batch[g.pairs[0]]
        hi, lo = _fill_ranked(g, kappa, bounds, gid, num_graphs, add, remove, alpha)
        neg = _rank(gid, torch.round(hi * _ROUND).long(), add, num_graphs)
        pos = _rank(gid, -torch.round(lo * _ROUND).long(), remove, num_graphs)
        _, plans = _local_curvature(g, neg, alpha, True)
        assert plans is not None
        proposed, value = _argmax_transport(plans, neg.numel(), n)
        valid = (proposed[0] != proposed[1]) & ~g.csr.has_edge(proposed[0], proposed[1])
        cand = proposed[:, valid]
        cand = torch.stack([cand.min(0).values, cand.max(0).values])
        new_keys = torch.unique(cand[0] * max(n, 1) + cand[1])
        added = torch.stack([new_keys // max(n, 1), new_keys % max(n, 1)])
        keep = torch.ones(g.num_edges, dtype=torch.bool, device=dev)
        keep[pos] = False
        records.append(
            BORFBatch(
                pairs=g.pairs,
                curvature=kappa,
                negative=g.pairs[:, neg],
                negative_curvature=kappa[neg],
                proposed=proposed,
                proposed_value=value,
                added=added,
                removed=g.pairs[:, pos],
                removed_curvature=kappa[pos],
            )
        )
        keys = torch.cat([g.keys[keep], new_keys])
        order = torch.argsort(keys)
        new_pairs = torch.cat([g.pairs[:, keep], added], dim=1)[:, order]
        origin = torch.cat(
            [origin[keep], torch.full((added.size(1),), -1, dtype=torch.long, device=dev)]
        )[order]
        old = g
        old_kappa = kappa
        g = _Graph(new_pairs, n)
        last = len(records) == iterations
        if last and not return_curvature:
            kappa = None
            break
        kappa, bounds = _update_curvature(
            old,
            old_kappa,
            g,
            added,
            g_removed=records[-1].removed,
            alpha=alpha,
            incremental=incremental,
            full=full_curvature,
            old_bounds=bounds,
        )
    if return_curvature and g.num_edges > 0:
        if kappa is None:
            kappa = torch.full((g.num_edges,), float("nan"), dtype=torch.float64, device=dev)
        missing = torch.isnan(kappa).nonzero().flatten()
        if missing.numel():
            kappa[missing] = _local_curvature(g, missing, alpha, False)[0]
    if g.num_edges == 0:
        kappa = torch.empty(0, dtype=torch.float64, device=dev) if return_curvature else None

    out_index = g.edge_index()
    out_attr = None
    if edge_attr is not None:
        src = _attr_lookup(edge_index.long(), out_index, n)
        fill = torch.as_tensor(fill_value, dtype=edge_attr.dtype, device=edge_attr.device)
        out_attr = fill.expand((out_index.size(1),) + tuple(edge_attr.shape[1:])).clone()
        hit = src >= 0
        out_attr[hit] = edge_attr[src[hit]]
    return BORFResult(
        edge_index=out_index,
        num_nodes=n,
        edge_attr=out_attr,
        batches=records,
        pairs=g.pairs,
        curvature=kappa if return_curvature else None,
        origin=origin,
        alpha=float(alpha),
    )


def _update_curvature(
    old: _Graph,
    old_kappa: Tensor,
    new: _Graph,
    added: Tensor,
    g_removed: Tensor,
    alpha: float,
    incremental: bool,
    full: bool = True,
    old_bounds: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """ORC of ``new`` (``nan`` = not evaluated) and its Jost-Liu bounds ``[2, E']`` (``nan`` =
    not computed): copy the values of the edges whose curvature cannot have changed from
    ``old`` (their degrees and triangle counts cannot have changed either); with ``full``,
    evaluate the others' curvature now (else it stays ``nan`` until the ranking asks for it,
    :func:`_fill_ranked`)."""
    dev = new.pairs.device
    E = new.num_edges
    kappa = torch.full((E,), float("nan"), dtype=torch.float64, device=dev)
    bounds = torch.full((2, E), float("nan"), dtype=torch.float64, device=dev)
    if E == 0:
        return kappa, bounds
    every = torch.arange(E, device=dev)
    if not incremental:
        if full:
            kappa = _local_curvature(new, every, alpha, False)[0]
        return kappa, bounds
    affected = _affected_edges(old, new, torch.cat([added, g_removed], dim=1))
    stay = ~affected
    if bool(stay.any()):
        pos = torch.searchsorted(old.keys, new.keys[stay])
        kappa[stay] = old_kappa[pos]
        if old_bounds is not None:
            bounds[:, stay] = old_bounds[:, pos]
    target = every[affected]
    if full and target.numel():
        kappa[target] = _local_curvature(new, target, alpha, False)[0]
    return kappa, bounds


_PRUNE_EPS = 1e-7  # slack between the float bounds and the exact values
_LAZY_MIN_WORK = 2_000_000  # below this many transport variables, evaluate everything at once


def _kth(group: Tensor, values: Tensor, k: int, num_groups: int) -> Tensor:
    """Per group, the ``k``-th smallest of ``values`` (``+inf`` where a group has fewer)."""
    out = torch.full((num_groups,), float("inf"), dtype=values.dtype, device=values.device)
    if k <= 0 or values.numel() == 0:
        return out
    idx = _rank(group, values, k, num_groups)  # the k smallest of each group
    out.scatter_reduce_(0, group[idx], values[idx], reduce="amax", include_self=False)
    enough = torch.bincount(group, minlength=num_groups) >= k
    return torch.where(enough, out, torch.full_like(out, float("inf")))


def _fill_ranked(
    g: _Graph,
    kappa: Tensor,
    bounds: Tensor,
    gid: Tensor,
    num_graphs: int,
    add: int,
    remove: int,
    alpha: float,
) -> tuple[Tensor, Tensor]:
    r"""Evaluate (in place, in ``kappa``; ``nan`` = unknown) the exact ORC of every edge that can
    rank among the ``add`` most negative or the ``remove`` most positive of its graph.

    With the Jost-Liu bounds :math:`\ell_e \le \kappa_e \le \upsilon_e`
    (:func:`~graphsmooth.curvature.bounds.pair_bounds`), and :math:`\hat\upsilon_e`,
    :math:`\hat\ell_e` equal to :math:`\kappa_e` where it is known and to the bounds elsewhere,
    the :math:`h`-th smallest :math:`\hat\upsilon` of a graph, :math:`\tau_-`, is at least its
    :math:`h`-th smallest curvature, so each of its :math:`h` most negative edges has
    :math:`\ell_e \le \kappa_e \le \tau_-`. Rounds evaluate unknown edges with
    :math:`\ell_e \le \tau_-` (smallest bound first, in chunks of growing work) and update
    :math:`\tau_-` until none is left; likewise for the most positive with
    :math:`\upsilon_e \ge \tau_+`. Then every edge that can be selected is known exactly and
    every unknown edge lies strictly behind the selection, so ranking ``hi`` (``kappa`` with
    :math:`\upsilon` for the unknown) and ``lo`` (with :math:`\ell`) selects exactly what the
    full curvature would. ``bounds`` (``[2, E]``, ``nan`` = not computed yet) is filled in
    place where needed. Returns ``(hi, lo)``.
    """
    from graphsmooth.curvature.bounds import pair_bounds

    unknown = torch.isnan(kappa)
    if not bool(unknown.any()):
        return kappa, kappa
    deg = g.csr.deg
    work = deg[g.pairs[0]] * deg[g.pairs[1]]
    if int(work[unknown].sum()) <= _LAZY_MIN_WORK:  # cheap: everything at once
        idx = unknown.nonzero().flatten()
        kappa[idx] = _local_curvature(g, idx, alpha, False)[0]
        return kappa, kappa
    todo = torch.isnan(bounds[0]).nonzero().flatten()
    if todo.numel():
        lo_b, up_b = pair_bounds(g.csr, g.pairs[0, todo], g.pairs[1, todo], alpha)
        bounds[0, todo], bounds[1, todo] = lo_b, up_b
    lower, upper = bounds[0], bounds[1]
    budget = max(_LAZY_MIN_WORK, 256)
    while True:
        unknown = torch.isnan(kappa)
        hi = torch.where(unknown, upper, kappa)
        lo = torch.where(unknown, lower, kappa)
        t_neg = _kth(gid, hi, add, num_graphs)[gid] + _PRUNE_EPS
        t_pos = -_kth(gid, -lo, remove, num_graphs)[gid] - _PRUNE_EPS
        neg = unknown & (lower <= t_neg) if add > 0 else torch.zeros_like(unknown)
        pos = unknown & (upper >= t_pos) if remove > 0 else torch.zeros_like(unknown)
        if not bool((neg | pos).any()):
            return hi, lo
        picks = []
        for mask, key in ((neg, lower), (pos, -upper)):
            idx = mask.nonzero().flatten()
            if idx.numel():
                idx = idx[torch.argsort(key[idx], stable=True)]
                cum = torch.cumsum(work[idx], 0)
                picks.append(idx[: max(1, int(torch.searchsorted(cum, budget)))])
        idx = torch.unique(torch.cat(picks))
        kappa[idx] = _local_curvature(g, idx, alpha, False)[0]
        budget *= 2
