r"""Exact batched Wasserstein-1 between neighbourhood measures on an unweighted graph.

The transport problem of an edge :math:`(u, v)` lives on :math:`N[u] \cup N[v]`, where all hop
distances are 0, 1, 2 or 3. After Kantorovich-Rubinstein cancellation of the mass common to
both measures, the sources :math:`s` (mass :math:`a_s`) and sinks :math:`t` (mass :math:`b_t`)
are disjoint and every cost :math:`c_{st}` lies in :math:`\{1, 2, 3\}`.

**Maximum closure formulation.** The LP dual
:math:`\max \sum_s a_s \varphi_s - \sum_t b_t \psi_t` s.t. :math:`\varphi_s - \psi_t \le c_{st}`
has an integer optimum (the constraint matrix is totally unimodular) with
:math:`\varphi_s \in \{1, 2, 3\}` and :math:`\psi_t \in \{0, 1, 2\}` (take
:math:`\varphi = \psi^c`, shift :math:`\min \psi = 0`, clip :math:`\psi` at 2). Writing
:math:`\varphi_s = 1 + x^2_s + x^3_s` and :math:`\psi_t = y^1_t + y^2_t` with binary thresholds,
the constraints become implications

.. math::
    c_{st} = 1:\; x^2_s \Rightarrow y^1_t,\; x^3_s \Rightarrow y^2_t, \qquad
    c_{st} = 2:\; x^3_s \Rightarrow y^1_t, \qquad c_{st} = 3:\; \text{none},

plus :math:`x^3_s \Rightarrow x^2_s` and :math:`y^2_t \Rightarrow y^1_t`. The dual is therefore a
maximum-weight closure problem (weights :math:`+a_s` on each :math:`x`, :math:`-b_t` on each
:math:`y`), i.e. one minimum cut (Picard 1976), and

.. math::
    W_1 = 3M - F, \qquad M = \sum_s a_s,

with :math:`F` the maximum flow of the closure network. Pairs at distance 3 contribute no arc.
The networks of all edges are disjoint, so one call of a compiled max-flow routine
(:func:`scipy.sparse.csgraph.maximum_flow`, Dinic) on their union solves every edge at once, and
per-edge flows are read off the arcs leaving the super source. Masses are scaled to integers
(:math:`q \deg u \deg v` with :math:`\alpha = p / q`), so the result is exact.

**Plans.** The minimum cut gives optimal integer potentials; a second max-flow on the tight
arcs (:math:`\varphi_s - \psi_t = c_{st}`) gives an optimal coupling (complementary slackness).

**Bit rows.** With the compiled kernels (Numba), no pair is listed: each edge's problem is built
and solved inside one compiled call over bit rows of the distance table, on the closure network
without its chain arcs (same maximum closure; see
:func:`graphsmooth.curvature._kernels.bitset_max_flow`). That is what makes graphs with dense
and close neighbourhoods (Squirrel: :math:`2.8 \times 10^{10}` pairs) cheap.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import breadth_first_order, maximum_flow
from torch import Tensor

from graphsmooth.curvature import _kernels
from graphsmooth.graph import CSR, common_neighbors, expand_neighbors
from graphsmooth.graph.csr import fast_argsort, stable_argsort, unique_inverse
from graphsmooth.graph.csr import take as _take

__all__ = [
    "DistanceTable",
    "Problems",
    "alpha_fraction",
    "build_problems",
    "distance_table",
    "exact_w1",
    "pair_costs",
    "twin_classes",
    "worth_merging",
]

_INT32_MAX = 2**31 - 1
_INF = 2**30  # "infinite" arc capacity; every problem's total flow stays below it
_MIN_LOOKUP = 1 << 20  # pair tests gathered per lookup call (rounds of the close-pair search)
_MERGE_RATIO = 6.0  # compiled flow: merge equal points only where pairs > this x points (A/B)
_FLOW_KERNEL = True  # with `compiled`: the compiled per-problem max-flow (False: SciPy's; A/B)
_COMPILED_TABLE_PAIRS = 400_000_000  # sparse table built by the compiled kernel: <= 2 GB
_BITMAP_FREE_BYTES = 128 * 2**20  # 2-bit maps up to this size whatever the sparse table's
_BIT_FLOW = True  # with `compiled`: every edge by the bit-row kernel (False: listed pairs; A/B)


def alpha_fraction(alpha: float, max_scale: int) -> tuple[int, int]:
    r"""Write ``alpha`` as ``p / q`` so that integer masses stay below ``max_scale``.

    Raises:
        ValueError: if no fraction with a small enough denominator equals ``alpha`` to 1e-12.
    """
    qmax = max(1, min(10**6, max_scale))
    frac = Fraction(alpha).limit_denominator(qmax)
    if abs(float(frac) - alpha) > 1e-12:
        raise ValueError(
            f"alpha={alpha!r} is not a fraction p/q with q <= {qmax}; the exact solver scales "
            "masses to integers (round alpha, e.g. to 3 decimals)"
        )
    return frac.numerator, frac.denominator


class Problems:
    """The reduced transport problems of a set of edges (after cancellation of common mass).

    Attributes (all CPU ``long`` tensors): ``src_edge``, ``src_node``, ``src_mass`` for sources,
    ``snk_edge``, ``snk_node``, ``snk_mass`` for sinks (grouped by edge, in edge order);
    ``scale [E]`` the integer scale of each edge's masses (``mass / scale`` is the probability);
    ``common_edge``, ``common_node``, ``common_mass``: the cancelled mass (distance 0).
    """

    def __init__(self, **kw: Tensor) -> None:
        self.__dict__.update(kw)


def build_problems(
    csr: CSR, u: Tensor, v: Tensor, p: int, q: int, twins: Tensor | None = None
) -> Problems:
    r"""Integer-scaled, cancelled transport problems for the edges ``(u[e], v[e])``.

    With :math:`L_e = q \deg u \deg v`, the measure :math:`m_u` puts :math:`(q - p) \deg v` units
    on each neighbour of ``u`` and :math:`p \deg u \deg v` on ``u`` itself (likewise for ``v``).
    The support of edge ``e`` is :math:`N(u)` followed by :math:`N(v) \setminus N(u)`.

    With ``twins`` (:func:`twin_classes`), the points of an edge that are false twins of each
    other become one point carrying their summed mass, named by the class representative; points
    in the class of ``u`` or ``v`` are kept as they are. Not for plans (node identities are lost).
    """
    E = u.numel()
    dev = csr.col.device
    deg = csr.deg
    du, dv = _take(deg, u), _take(deg, v)
    wa = (q - p) * dv  # units on each neighbour of u (from m_u)
    wb = (q - p) * du  # units on each neighbour of v (from m_v)
    wl = p * du * dv  # units of laziness on u (m_u) and on v (m_v)
    scale = q * du * dv
    ar = torch.arange(E, device=dev)

    # part 1: N(u) of every edge; part 2: N(v)
    seg1, node1 = expand_neighbors(csr, u)
    seg2, node2 = expand_neighbors(csr, v)
    off1 = torch.cumsum(du, 0) - du
    off2 = torch.cumsum(dv, 0) - dv
    # common neighbours, located inside both parts
    ci, cw = common_neighbors(csr, u, v)
    pos1 = _take(off1, ci) + csr.edge_ids(_take(u, ci), cw) - _take(csr.rowptr, _take(u, ci))
    pos2 = _take(off2, ci) + csr.edge_ids(_take(v, ci), cw) - _take(csr.rowptr, _take(v, ci))
    is_common1 = torch.zeros(node1.numel(), dtype=torch.bool, device=dev)
    is_common1[pos1] = True
    keep2 = torch.ones(node2.numel(), dtype=torch.bool, device=dev)
    keep2[pos2] = False
    # net mass (m_u - m_v) in units
    r1 = _take(wa, seg1).clone()
    r1 -= torch.where(is_common1, _take(wb, seg1), torch.zeros_like(r1))
    v_in_u = off1 + csr.edge_ids(u, v) - _take(csr.rowptr, u)  # position of v inside N(u)
    r1[v_in_u] -= wl
    r2 = -_take(wb, seg2)
    u_in_v = off2 + csr.edge_ids(v, u) - _take(csr.rowptr, v)
    r2[u_in_v] += wl
    seg2, node2, r2 = seg2[keep2], node2[keep2], r2[keep2]
    # cancelled mass min(m_u, m_v) > 0: commons, plus u and v when alpha > 0
    cm_c = torch.minimum(_take(wa, ci), _take(wb, ci))
    common_edge = [ci]
    common_node = [cw]
    common_mass = [cm_c]
    if p > 0:
        common_edge += [ar, ar]
        common_node += [u, v]
        common_mass += [torch.minimum(wl, wb), torch.minimum(wl, wa)]
    common_edge = torch.cat(common_edge)
    common_node = torch.cat(common_node)
    common_mass = torch.cat(common_mass)
    nz = common_mass > 0
    order = stable_argsort(common_edge[nz])

    # interleave the two parts edge by edge (N(u) first) without sorting: both are grouped by
    # edge already, so every item's place is its edge's offset plus its rank in the part
    cnt2 = torch.bincount(seg2, minlength=E)
    start = torch.cumsum(du + cnt2, 0) - (du + cnt2)
    pos1 = _take(start, seg1) + torch.arange(seg1.numel(), device=dev) - _take(off1, seg1)
    first2 = torch.cumsum(cnt2, 0) - cnt2
    pos2 = (
        _take(start, seg2)
        + _take(du, seg2)
        + torch.arange(seg2.numel(), device=dev)
        - _take(first2, seg2)
    )
    total = seg1.numel() + seg2.numel()
    seg = torch.empty(total, dtype=torch.long, device=dev)
    node = torch.empty_like(seg)
    r = torch.empty_like(seg)
    for dst, a, b in ((seg, seg1, seg2), (node, node1, node2), (r, r1, r2)):
        dst[pos1] = a
        dst[pos2] = b
    if twins is not None and total:
        # false twins x, x' (N(x) = N(x'), so not adjacent) lie on the same side of every edge
        # with the same net mass and the same distance to every other node: one point each
        cls = _take(twins, node)
        special = (cls == _take(_take(twins, u), seg)) | (cls == _take(_take(twins, v), seg))
        key = seg * csr.num_nodes + torch.where(special, node, cls)
        ukey, inv = unique_inverse(key)  # keys grouped by edge: nearly sorted
        r = torch.zeros(ukey.numel(), dtype=r.dtype, device=dev).index_add_(0, inv, r)
        seg, node = ukey // csr.num_nodes, ukey % csr.num_nodes
    src = r > 0
    snk = r < 0
    return Problems(
        src_edge=seg[src],
        src_node=node[src],
        src_mass=r[src],
        snk_edge=seg[snk],
        snk_node=node[snk],
        snk_mass=-r[snk],
        scale=scale,
        common_edge=common_edge[nz][order],
        common_node=common_node[nz][order],
        common_mass=common_mass[nz][order],
    )


def twin_classes(csr: CSR) -> Tensor | None:
    r"""Representative (smallest member) of the false-twin class of every node, or ``None``
    when no two nodes share their open neighbourhood :math:`N(x)`.

    False twins :math:`N(x) = N(x')` are at distance 2 from each other and at the same distance
    from every other node, so in any edge's transport problem they are interchangeable.
    Neighbourhoods are compared through their degree and two independent random 40-bit sums
    (:math:`\sum_{w \in N(x)} R_w`); a false merge needs both sums to collide (probability
    about :math:`2^{-80}` per pair of nodes of equal degree).
    """
    n = csr.num_nodes
    if n < 2:
        return None
    dev = csr.col.device
    gen = torch.Generator().manual_seed(20241128)
    R = torch.randint(0, 2**40, (2, n), generator=gen, dtype=torch.long).to(dev)
    h = torch.zeros(3, n, dtype=torch.long, device=dev)
    h[0] = csr.deg
    h[1].index_add_(0, csr.row, R[0][csr.col])
    h[2].index_add_(0, csr.row, R[1][csr.col])
    # classes of equal columns of h: lexicographic order by three stable sorts (torch.unique
    # with dim=1 compares columns one by one: several times slower)
    order = torch.argsort(h[2], stable=True)
    order = _take(order, torch.argsort(_take(h[1], order), stable=True))
    order = _take(order, stable_argsort(_take(h[0], order)))
    hs = h[:, order]
    new = torch.ones(n, dtype=torch.bool, device=dev)
    new[1:] = (hs[:, 1:] != hs[:, :-1]).any(0)
    if bool(new.all()):
        return None
    # stable sorts: the first member of each class in sorted order is its smallest node
    first = order[new]
    out = torch.empty(n, dtype=torch.long, device=dev)
    out[order] = first[torch.cumsum(new.long(), 0) - 1]
    out[csr.deg == 0] = torch.arange(n, device=dev)[csr.deg == 0]  # isolated: no edges anyway
    return out


_TWIN_MIN_FRACTION = 0.1  # merge twins when their classes hold this share of the edge ends


def worth_merging(csr: CSR, twins: Tensor | None) -> Tensor | None:
    r"""``twins`` where merging them pays, else ``None``.

    Merging costs a sort of every point of every problem; it pays where a good share of the
    points can merge: the nodes in non-trivial twin classes hold at least 10% of the edge ends
    (:math:`\sum \deg`). Measured (one thread, exact curvature of the whole graph, CPU s with /
    without merging): Chameleon (share 0.34) 21.6 / 30.6, PubMed (0.11) 3.25 / 3.30, Texas (0.16)
    equal; Cora (0.04) 0.087 / 0.080, CiteSeer (0.09) 0.064 / 0.061, MUTAG (0.08, all graphs)
    0.69 / 0.61. The values are the same either way.
    """
    if twins is None:
        return None
    size = torch.bincount(twins, minlength=csr.num_nodes)
    in_class = _take(size, twins) > 1
    share = int(csr.deg[in_class].sum()) / max(int(csr.deg.sum()), 1)
    return twins if share >= _TWIN_MIN_FRACTION else None


class DistanceTable:
    r"""Hop distances capped at 3 of any pair of nodes, by table lookup, built once per graph.

    All three kinds come from the adjacency matrix :math:`A` and the compiled sparse product
    :math:`A^2` (the pairs within 2 hops), never from an all-pairs shortest-path computation:

    * ``kind="dense"``: one byte per ordered pair (graphs up to ~8,000 nodes, 64 MiB at most);
    * ``kind="bitmap"``: two bits per ordered pair, :math:`N^2/4` bytes (up to 65,536 nodes,
      1 GiB at most); a lookup is one gather, a shift and a mask;
    * ``kind="csr"``: a sparse matrix of the pairs at distance 1 or 2 (value 1 or 2, sorted
      columns); a lookup is one binary search *within the row* of ``x`` (SciPy's compiled
      ``csr_sample_values``), a few cache lines instead of a search over all pairs.

    ``batch`` is the smallest number of lookups worth one call: SciPy searches rows only when a
    call has more than ``nnz / 10`` samples (otherwise it scans rows linearly), so smaller calls
    are padded with cheap dummy queries and callers should gather their lookups into calls of at
    least ``batch`` (0: any size is fine).
    """

    def __init__(self, csr: CSR, kind: str) -> None:
        n = max(csr.num_nodes, 1)
        self.kind = kind
        self.n = n
        self.batch = 0
        dev = csr.col.device
        rp, col = csr.rowptr.cpu().numpy(), csr.col.cpu().numpy()
        a = sp.csr_matrix((np.ones(col.size, np.int32), col, rp), shape=(n, n))
        if kind == "csr" and _kernels.have_kernel():
            # compiled: the rows built one by one, holding nothing but the table
            self.indptr, self.indices, self.data = _kernels.two_hop_table(rp, col, n)
            self._finish_csr()
            return
        if kind == "csr":
            # one compiled product gives both distances: with c > max degree, the off-diagonal
            # entries of (A + cI)^2 = A^2 + 2cA + c^2 I are >= 2c exactly on the edges and in
            # [1, 2c) exactly on the pairs at distance 2 (A^2 counts common neighbours)
            c = int(csr.deg.max()) + 1 if col.size else 1
            big = (c + 1) ** 2 + c >= 2**31  # entries up to c^2 + c: int64 above ~46,000
            a = a.astype(np.int64) if big else a
            m = a + sp.identity(n, dtype=a.dtype, format="csr") * c
            d = m @ m
            del m
            d.setdiag(0)
            d.eliminate_zeros()
            d.sort_indices()  # canonical: sorted columns (a product has no duplicates)
            idx = d.indices.dtype
            self.indptr = d.indptr.astype(idx, copy=False)
            self.indices = d.indices
            self.data = (d.data < 2 * c).astype(np.int8) + np.int8(1)  # 1 adjacent, 2 else
            del d
            self._finish_csr()
            return
        a2 = a @ a
        row1 = np.repeat(np.arange(n), np.diff(rp))
        if kind == "dense":
            a2 = a2.tocoo()
            d = np.full((n, n), 3, dtype=np.uint8)
            d[a2.row, a2.col] = 2
            d[row1, col] = 1
            self.dense = torch.from_numpy(d.reshape(-1)).to(dev)
            return
        # the pairs at distance exactly 2: A^2 without the diagonal and without the adjacent
        # pairs (A^2 has them too where there are triangles); compiled sparse ops, no search
        a2.setdiag(0)
        a2 = a2 - a2.multiply(a)  # entries of A^2 are positive: exact cancellation
        a2.eliminate_zeros()
        # bitmap: value 2 for distance 1, 1 for distance 2 in the 2-bit field of key x N + y
        a2 = a2.tocoo()
        k2 = torch.from_numpy(a2.row.astype(np.int64) * n + a2.col).to(dev)
        k1 = torch.from_numpy(row1.astype(np.int64) * n + col).to(dev)
        del a2
        self.bits = torch.zeros((n * n + 31) // 32, dtype=torch.long, device=dev)
        # keys are distinct, so adding values in distinct 2-bit fields of a word is an OR
        for k, val in ((k1, 2), (k2, 1)):
            self.bits.index_add_(0, k >> 5, torch.full_like(k, val) << ((k & 31) << 1))

    def _finish_csr(self) -> None:
        """Lookup batch size and padding query of the sparse table."""
        self.batch = self.indices.size // 10 + 1
        # padding queries: a shortest non-empty row, its first column
        lens = np.diff(self.indptr)
        lens = np.where(lens > 0, lens, np.iinfo(lens.dtype).max)
        r = int(np.argmin(lens)) if self.indices.size else 0
        self._pad = (r, int(self.indices[self.indptr[r]]) if self.indices.size else 0)

    def arrays(self) -> tuple:
        """The table as NumPy arrays, as the compiled kernels take it
        (:func:`graphsmooth.curvature._kernels.close_pairs_kernel`)."""
        if self.kind == "csr":
            return self.indptr, self.indices, self.data
        return ((self.dense if self.kind == "dense" else self.bits).cpu().numpy(),)

    def costs(self, s: Tensor, t: Tensor) -> Tensor:
        if self.kind == "csr":
            return self._sample(s, t)
        return self._raw(s, t).long()

    def _raw(self, s: Tensor, t: Tensor) -> Tensor:
        """Dense and bitmap tables: distances in the table's own type; ``int32`` queries stay
        ``int32`` for the dense table (its keys are below :math:`2^{26}`)."""
        if self.kind == "dense":
            return _take(self.dense, s.mul(self.n).add_(t))
        key = s.long().mul(self.n).add_(t)
        return 3 - ((_take(self.bits, key >> 5) >> ((key & 31) << 1)) & 3)

    def _lookup(self, s: Tensor, t: Tensor) -> np.ndarray:
        """Sparse table: ``int8`` distances of the pairs, 0 where absent (distance 3)."""
        m = s.numel()
        idx = self.indices.dtype
        si = s.cpu().numpy().astype(idx, copy=False)  # int32 queries are not copied
        ti = t.cpu().numpy().astype(idx, copy=False)
        if 0 < m < self.batch:  # below SciPy's threshold for binary searches: pad
            si = np.concatenate([si, np.full(self.batch - m, self._pad[0], idx)])
            ti = np.concatenate([ti, np.full(self.batch - m, self._pad[1], idx)])
        out = np.zeros(si.size, np.int8)
        if m:
            _csr_sample_values(self.n, self.indptr, self.indices, self.data, si, ti, out)
        return out[:m]

    def _sample(self, s: Tensor, t: Tensor) -> Tensor:
        c = torch.from_numpy(self._lookup(s, t)).to(device=s.device, dtype=torch.long)
        return torch.where(c == 0, 3, c)

    def close(self, s: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """``(k, c)``: the positions ``k`` of the pairs ``(s[k], t[k])`` at distance 1 or 2 and
        their distances ``c``. For the sparse table the queries stay in its index type
        (``int32`` queries are not copied) and only the close pairs are widened to ``long``:
        on hub-heavy graphs over 90% of the queries are far."""
        if self.kind != "csr":
            c = self._raw(s, t)
            k = (c < 3).nonzero().flatten()
            return k, _take(c, k).long()
        out = self._lookup(s, t)
        k = np.flatnonzero(out)  # 0 = absent = distance 3
        dev = s.device
        return torch.from_numpy(k).to(dev), torch.from_numpy(out[k].astype(np.int64)).to(dev)


def _csr_sample_values(n, indptr, indices, data, si, ti, out) -> None:
    """``out[k] = D[si[k], ti[k]]`` (0 where absent) for a canonical CSR matrix ``D``.

    SciPy's compiled routine behind ``D[rows, cols]``, called directly: the public indexing
    path validates and converts its arguments (about 60% more time); it is the fallback."""
    try:
        from scipy.sparse import _sparsetools

        _sparsetools.csr_sample_values(n, n, indptr, indices, data, si.size, si, ti, out)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - other SciPy versions
        d = sp.csr_matrix((data, indices, indptr), shape=(n, n))
        out[:] = np.asarray(d[si, ti]).ravel()


def pair_costs(csr: CSR, s: Tensor, t: Tensor, table: DistanceTable | None = None) -> Tensor:
    r"""Hop distance capped at 3 of pairs of distinct nodes known to be at most 3 apart.

    With a :class:`DistanceTable`, one lookup per pair; without, adjacency by
    :meth:`CSR.has_edge` and distance 2 by :func:`~graphsmooth.graph.common_neighbors`.
    """
    if table is not None:
        return table.costs(s, t)
    c = torch.full_like(s, 3)
    adj = csr.has_edge(s, t)
    c[adj] = 1
    rest = (~adj).nonzero().flatten()
    if rest.numel():
        seg, _ = common_neighbors(csr, s[rest], t[rest])
        c[rest[torch.unique(seg)]] = 2
    return c


def distance_table(csr: CSR, budget_pairs: int) -> DistanceTable | None:
    """The cheapest :class:`DistanceTable` for this graph, or ``None`` (per-pair tests)."""
    n = csr.num_nodes
    if n * n <= 64 * 2**20:  # up to ~8,000 nodes: one byte per ordered pair (and A^2 holds
        return DistanceTable(csr, "dense")  # at most n^2 entries while it is built)
    ball = int((csr.deg * csr.deg).sum())  # bound on the number of 2-hop pairs
    small = ball <= max(8 * budget_pairs, 80_000_000)  # SciPy builds: a few GiB at most
    compiled = _kernels.have_kernel()
    if small and n * n // 4 <= 2**30:  # up to 65,536 nodes: two bits per ordered pair
        # with the compiled kernels, a 2-bit map far larger than the sparse table (5 bytes per
        # pair) is not worth its memory (one thread, s / peak MiB, 2-bit map vs sparse:
        # PubMed 1.25 / 602 vs 1.30 / 504, BA(20,000) 2.75 / 767 vs 3.38 / 540, BA(50,000)
        # 9.11 / 1,679 vs 8.89 / 630)
        if not compiled or n * n // 4 <= max(_BITMAP_FREE_BYTES, 20 * ball):
            return DistanceTable(csr, "bitmap")
    if small or (ball <= _COMPILED_TABLE_PAIRS and compiled):
        return DistanceTable(csr, "csr")  # compiled: 5 bytes per pair, nothing else held
    return None  # per-pair tests


def _segment_product(cnt_a: Tensor, start_b: Tensor, cnt_b: Tensor, edge_a: Tensor):
    """All (i, j) with i a source and j a sink of the same edge: returns (i, j)."""
    rep = cnt_b[edge_a]
    i = torch.repeat_interleave(torch.arange(edge_a.numel(), device=edge_a.device), rep)
    off = torch.cumsum(rep, 0) - rep
    j = start_b[_take(edge_a, i)] + torch.arange(i.numel(), device=i.device) - _take(off, i)
    return i, j


def _close_pairs(
    csr: CSR,
    pr: Problems,
    cnt_s: Tensor,
    cnt_t: Tensor,
    start_t: Tensor,
    table,
    compiled: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""The (source, sink) pairs of every edge at distance 1 or 2, and their costs.

    Every pair is tested once, but without materialising all of them: with :math:`X_e` the
    smaller side of edge :math:`e` (:math:`k_e` points) and :math:`Y_e` the other, round
    :math:`z = 0, 1, \dots` tests the :math:`z`-th point of :math:`X_e` against all of
    :math:`Y_e` for the edges with :math:`k_e > z`. Edges are ranked by decreasing
    :math:`k_e`, so the points tested in round :math:`z` are a prefix of one list.
    Returns ``(i, j, c)``: source index, sink index, cost in ``{1, 2}``.

    With ``compiled`` (and Numba installed), one compiled loop over a distance table does the
    same (:func:`graphsmooth.curvature._kernels.close_pairs_kernel`).
    """
    dev = cnt_s.device
    E = cnt_s.numel()
    nS = pr.src_edge.numel()
    empty = torch.empty(0, dtype=torch.long, device=dev)
    if E == 0 or nS == 0 or pr.snk_edge.numel() == 0:
        return empty, empty, empty
    start_s = torch.cumsum(cnt_s, 0) - cnt_s
    swap = cnt_s <= cnt_t  # the sources are the smaller side X
    k = torch.where(swap, cnt_s, cnt_t)
    nb = torch.where(swap, cnt_t, cnt_s)
    # points: sources 0..nS-1, then sinks nS..; per edge the start of X and of Y
    x_start = torch.where(swap, start_s, nS + start_t)
    y_start = torch.where(swap, nS + start_t, start_s)
    pt_node = torch.cat([pr.src_node, pr.snk_node])
    if table is not None and compiled and _kernels.have_kernel():
        xs, ys, cs = _kernels.close_pairs_kernel(
            table.kind,
            table.arrays(),
            table.n,
            pt_node.cpu().numpy(),
            x_start.cpu().numpy(),
            k.cpu().numpy(),
            y_start.cpu().numpy(),
            nb.cpu().numpy(),
        )
        xs, ys = torch.from_numpy(xs).to(dev), torch.from_numpy(ys).to(dev)
        cs = torch.from_numpy(cs.astype(np.int64)).to(dev)
        src = torch.where(xs < nS, xs, ys)
        snk = torch.where(xs < nS, ys, xs) - nS
        return src, snk, cs
    if table is not None and (
        (table.kind == "csr" and table.indices.dtype == np.int32) or table.kind == "dense"
    ):
        # int32 queries: the sparse table's index type (queries are not copied); the dense
        # table's keys fit too (fewer bytes per query through the gathers)
        pt_node = pt_node.to(torch.int32)
    rank = stable_argsort(k, descending=True)
    nb_r = _take(nb, rank)
    # Y points of all edges, edges in rank order
    rep = torch.repeat_interleave(torch.arange(E, device=dev), nb_r)
    first = torch.cumsum(nb_r, 0) - nb_r
    y_pt = (
        _take(_take(y_start, rank), rep) + torch.arange(rep.numel(), device=dev) - _take(first, rep)
    )
    y_node = _take(pt_node, y_pt)
    x_start_r = _take(_take(x_start, rank), rep).to(pt_node.dtype)  # X start of each Y's edge
    # active prefix per round: points of the edges with k > z
    k_sorted = _take(k, rank)
    ends = torch.cumsum(nb_r, 0)
    n_active = torch.searchsorted(
        -k_sorted, -torch.arange(int(k_sorted[0]), device=dev), right=False
    )
    lengths = torch.where(n_active > 0, ends[(n_active - 1).clamp(min=0)], 0).tolist()
    out_x, out_y, out_c = [], [], []
    # gather rounds into lookups of at least `batch` queries: a sparse table needs its minimum,
    # the others save the per-call overheads of many small rounds (Cora: 31 rounds)
    batch = table.batch if table is not None and table.batch else _MIN_LOOKUP
    # pending rounds: only the query nodes are materialised; the (x, y) indices of the few
    # close pairs are recovered from their position (round z, offset in the round's prefix)
    pend_qx, pend_qy, pend_z, pend_len = [], [], [], []

    def flush():
        qx, qy = (torch.cat(a) if len(a) > 1 else a[0] for a in (pend_qx, pend_qy))
        if table is not None:
            near, c = table.close(qx, qy)
        else:
            c = pair_costs(csr, qx, qy, table)
            near = (c < 3).nonzero().flatten()
            c = _take(c, near)
        lens = torch.tensor(pend_len, device=dev)
        round_end = torch.cumsum(lens, 0)
        r = torch.searchsorted(round_end, near, right=True)
        pos = near - _take(round_end - lens, r)
        out_x.append(_take(x_start_r, pos).long() + _take(torch.tensor(pend_z, device=dev), r))
        out_y.append(_take(y_pt, pos))
        out_c.append(c)
        for a in (pend_qx, pend_qy, pend_z, pend_len):
            a.clear()

    pending = 0
    for z, P in enumerate(lengths):  # rounds gathered into lookups of at least table.batch
        if P == 0:
            break
        pend_qx.append(_take(pt_node, x_start_r[:P] + z))
        pend_qy.append(y_node[:P])
        pend_z.append(z)
        pend_len.append(P)
        pending += P
        if pending >= batch:
            flush()
            pending = 0
    if pend_qx:
        flush()
    xs, ys, cs = torch.cat(out_x), torch.cat(out_y), torch.cat(out_c)
    src = torch.where(xs < nS, xs, ys)
    snk = torch.where(xs < nS, ys, xs) - nS
    return src, snk, cs


def _max_flow(n_nodes: int, rows, cols, caps):
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    caps = np.concatenate(caps).astype(np.int32)
    g = sp.csr_matrix((caps, (rows, cols)), shape=(n_nodes, n_nodes))
    g.sum_duplicates()
    return g, maximum_flow(g, 0, 1, method="dinic")


def _dual_table(k: int, device) -> Tensor:
    """All potentials in {0, 1, 2}^k (one per row) with minimum 0."""
    grid = torch.cartesian_prod(*[torch.arange(3, device=device)] * k).reshape(-1, k)
    return grid[grid.min(1).values == 0]


@functools.lru_cache(maxsize=32)
def _profile_table(k: int, device) -> tuple[Tensor, Tensor]:
    r"""Dual potentials :math:`\psi \in \{0,1,2\}^k` with :math:`\min \psi = 0` (``[D, k]``) and
    the table ``[3^k, D]`` of :math:`\min_z (\psi_z + c_z)` for every cost profile
    :math:`c \in \{1,2,3\}^k` (profile code :math:`\sum_z (c_z - 1) 3^z`). Cached."""
    psi = _dual_table(k, device)
    prof = torch.cartesian_prod(*[torch.arange(3, device=device)] * k).reshape(-1, k).flip(1) + 1
    table = prof[:, None, 0] + psi[None, :, 0]
    for z in range(1, k):
        table = torch.minimum(table, prof[:, None, z] + psi[None, :, z])
    return psi, table


def solve_small(
    big_slot: Tensor,
    big_code: Tensor,
    big_mass: Tensor,
    small_slot: Tensor,
    small_local: Tensor,
    small_mass: Tensor,
    k: int,
    num: int,
) -> Tensor:
    r"""Exact integer :math:`W_1` of ``num`` problems whose smaller side has ``k`` points, by
    enumerating the integer dual potentials of that side, vectorised over problems:

    .. math::
        W_1 = \max_{\psi \in \{0,1,2\}^k,\ \min \psi = 0}
        \sum_{y} a_y \min_z (\psi_z + c_{yz}) - \sum_z b_z \psi_z

    (:math:`\varphi = \psi^c`; see the module docstring for the range of the potentials).
    A big-side point enters only through its cost profile :math:`(c_{yz})_z`, so the masses are
    first summed per profile and the maximisation is one matrix product
    ``[num, 3^k] @ [3^k, D]``.

    Args:
        big_slot, big_code, big_mass: problem (``0..num-1``), profile code and integer mass of
            every big-side point.
        small_slot, small_local, small_mass: problem, index ``0..k-1`` and integer mass of every
            small-side point.
        k (int): size of the small side; num (int): number of problems.
    """
    dev = big_mass.device
    psi, table = _profile_table(k, dev)
    # float32 is exact while every partial sum is an integer below 2^24: the objective of a
    # problem is at most 3x its big side's mass plus 2x its small side's
    mass = torch.zeros(num, dtype=torch.long, device=dev).index_add_(0, big_slot, big_mass)
    mass.index_add_(0, small_slot, small_mass)
    dt = torch.float32 if num == 0 or 3 * int(mass.max()) < 2**24 else torch.float64
    A = torch.zeros(num, 3**k, dtype=dt, device=dev)
    A.index_put_((big_slot, big_code), big_mass.to(dt), accumulate=True)
    Bm = torch.zeros(num, k, dtype=dt, device=dev)
    Bm[small_slot, small_local] = small_mass.to(dt)
    val = A @ table.to(dt) - Bm @ psi.T.to(dt)
    return val.amax(1).round().long()


def _group_slices(group: Tensor) -> tuple[Tensor, dict[int, tuple[int, int]]]:
    """Stable order of items by ``group`` and the ``[lo, hi)`` range of each group value."""
    order = stable_argsort(group)
    keys, counts = torch.unique_consecutive(group[order], return_counts=True)
    ends = torch.cumsum(counts, 0).tolist()
    starts = [0] + ends[:-1]
    return order, {kk: (lo, hi) for kk, lo, hi in zip(keys.tolist(), starts, ends, strict=True)}


def _solve_small_all(pr, cnt_s, cnt_t, start_t, i, j, c, small, W) -> None:
    """Fill ``W[e]`` for the problems ``small`` with :func:`solve_small`, grouped by ``k``."""
    dev = c.device
    nS, nT = pr.src_edge.numel(), pr.snk_edge.numel()
    start_s = torch.cumsum(cnt_s, 0) - cnt_s
    loc_s = torch.arange(nS, device=dev) - start_s[pr.src_edge]
    loc_t = torch.arange(nT, device=dev) - start_t[pr.snk_edge]
    swap = cnt_s < cnt_t  # the sources are the small side
    k = torch.where(swap, cnt_s, cnt_t)
    # points: sources 0..nS-1, sinks nS..nS+nT-1; profile code of each big-side point
    pe = _take(pr.src_edge, i)
    on = _take(small, pe).nonzero().flatten()  # integer gathers below: one mask scan, not five
    i_on, j_on, c_on = _take(i, on), _take(j, on), _take(c, on)
    sw = _take(swap, _take(pe, on))
    big_pt = torch.where(sw, nS + j_on, i_on)
    z = torch.where(sw, _take(loc_s, i_on), _take(loc_t, j_on))
    pt_edge = torch.cat([pr.src_edge, pr.snk_edge])
    pt_loc = torch.cat([loc_s, loc_t])
    pt_mass = torch.cat([pr.src_mass, pr.snk_mass])
    pt_small = torch.cat([swap[pr.src_edge], ~swap[pr.snk_edge]])
    # profile code sum_z (c_z - 1) 3^z = (3^k - 1) + sum_z (c_z - 3) 3^z: start every big-side
    # point at the all-3 profile and correct it with the pairs at distance 1 or 2 only (the
    # pairs at distance 3, most of them on hub edges, are never listed here)
    # powers of 3 by table lookup (integer torch.pow is several times slower); k, z <= small_k
    kmax = int(k[small].max()) if bool(small.any()) else 0
    pow3 = 3 ** torch.arange(kmax + 1, device=dev)
    pk = pow3[k.clamp(max=kmax)]
    code = torch.where(
        _take(small, pt_edge) & ~pt_small, _take(pk, pt_edge) - 1, torch.zeros_like(pt_edge)
    )
    code.index_add_(0, big_pt, (c_on - 3) * _take(pow3, z))  # a pair at distance 3 adds 0
    group = torch.where(small, k, torch.full_like(k, -1))
    o_e, r_e = _group_slices(group)
    o_p, r_p = _group_slices(_take(group, pt_edge))
    slot = torch.empty_like(k)
    for key, (lo, hi) in r_e.items():
        if key < 0:
            continue
        ids = o_e[lo:hi]
        slot[ids] = torch.arange(ids.numel(), device=dev)
        pts = o_p[r_p[key][0] : r_p[key][1]]
        sm = pt_small[pts]
        bp, spt = pts[~sm], pts[sm]
        W[ids] = solve_small(
            _take(slot, _take(pt_edge, bp)),
            _take(code, bp),
            _take(pt_mass, bp),
            _take(slot, _take(pt_edge, spt)),
            _take(pt_loc, spt),
            _take(pt_mass, spt),
            key,
            ids.numel(),
        )


def _restrict(i, j, c, src_edge, a, snk_edge, b, on):
    """The pairs ``(i, j, c)`` and the points (sources ``src_edge, a``, sinks ``snk_edge, b``)
    of the edges with ``on``, renumbered (same order)."""
    keep_s, keep_t = _take(on, src_edge), _take(on, snk_edge)
    kp = _take(keep_s, i).nonzero().flatten()
    i = _take(torch.cumsum(keep_s.long(), 0) - 1, _take(i, kp))
    j = _take(torch.cumsum(keep_t.long(), 0) - 1, _take(j, kp))
    ks, kt = keep_s.nonzero().flatten(), keep_t.nonzero().flatten()
    return i, j, _take(c, kp), _take(src_edge, ks), _take(a, ks), _take(snk_edge, kt), _take(b, kt)


def _concat_parts(parts):
    """Concatenate ``(i, j, c, src_edge, a, snk_edge, b)`` records of disjoint edge sets."""
    if len(parts) == 1:
        return parts[0]
    out = [[] for _ in range(7)]
    ns = nt = 0
    for i, j, c, se, a, te, b in parts:
        for k, x in enumerate((i + ns, j + nt, c, se, a, te, b)):
            out[k].append(x)
        ns, nt = ns + se.numel(), nt + te.numel()
    return tuple(torch.cat(x) for x in out)


def _merge_twins(i, j, c, src_edge, a, snk_edge, b):
    r"""Merge the sources (sinks) of an edge whose cost rows (columns) are identical.

    Such points are interchangeable in the transport problem (and in its closure network), so
    one node carrying their summed mass gives the same :math:`W_1`. Rows are compared through
    two independent random 40-bit linear hashes of their entries with cost 1 and 2 (cost 3 adds
    nothing); a false merge needs both to collide (probability about :math:`2^{-80}` per pair).
    Returns the reduced ``i, j, c, src_edge, a, snk_edge, b``.
    """
    dev = c.device
    nS, nT = src_edge.numel(), snk_edge.numel()
    gen = torch.Generator().manual_seed(20240521)
    # per hash: a random value for (cost 1, point), another for (cost 2, point), 0 for cost 3
    R = torch.randint(0, 2**40, (2, 3, nS + nT), generator=gen, dtype=torch.long).to(dev)
    R[:, 2] = 0
    R = R.reshape(2, -1)
    slot = (c - 1) * (nS + nT)

    def hashes(idx, other, n):
        h = torch.zeros(2, n, dtype=torch.long, device=dev)
        where = slot + other
        for r in range(2):
            h[r].index_add_(0, idx, _take(R[r], where))
        return h

    hs = hashes(i, nS + j, nS)
    ht = hashes(j, i, nT)

    def groups(edge, h, n_pts):
        # sort by (edge, h0, h1) and cut where a key changes; any member of a class can stand
        # for it (all have the same cost row)
        gid = edge
        if n_pts == 0 or int(gid.max()) < 2**22:
            # one sort of (gid, low 40 bits of h0) packed in 62 bits (h0 is a sum of 40-bit
            # values: its high bits would spill into gid); a tie in the key with different h0
            # or h1 (odds 2^-40) at worst splits a class in two, which is harmless
            order = fast_argsort((gid << 40) | (h[0] & (2**40 - 1)))
        else:
            order = torch.argsort(h[1], stable=True)
            order = _take(order, torch.argsort(_take(h[0], order), stable=True))
            order = _take(order, torch.argsort(_take(gid, order), stable=True))
        ks = torch.stack([_take(gid, order), _take(h[0], order), _take(h[1], order)])
        new = torch.ones(n_pts, dtype=torch.bool, device=dev)
        if n_pts > 1:
            new[1:] = (ks[:, 1:] != ks[:, :-1]).any(0)
        inv = torch.empty_like(order)
        inv[order] = torch.cumsum(new.long(), 0) - 1
        first = order[new]  # the representative of each class
        return inv, first

    gs, first_s = groups(src_edge, hs, nS)
    gt, first_t = groups(snk_edge, ht, nT)
    a2 = torch.zeros(first_s.numel(), dtype=a.dtype, device=dev).index_add_(0, gs, a)
    b2 = torch.zeros(first_t.numel(), dtype=b.dtype, device=dev).index_add_(0, gt, b)
    keep = ((_take(first_s, _take(gs, i)) == i) & (_take(first_t, _take(gt, j)) == j)).nonzero()
    keep = keep.flatten()
    return (
        _take(gs, _take(i, keep)),
        _take(gt, _take(j, keep)),
        _take(c, keep),
        _take(src_edge, first_s),
        a2,
        _take(snk_edge, first_t),
        b2,
    )


_BIT_ROWS_MAX = 1 << 22  # words of one bit matrix of the bit-row kernel (32 MiB)


def bit_rows_fit(du: Tensor, dv: Tensor) -> Tensor:
    """Whether the bit matrices of an edge with these degrees stay within
    :data:`_BIT_ROWS_MAX` words (two adjacent hubs of degree above ~16,000 do not)."""
    lo, hi = torch.minimum(du, dv), torch.maximum(du, dv)
    return (lo + 1) * ((hi + 64) // 64) <= _BIT_ROWS_MAX


def _bit_row_w1(csr, u, v, p, q, table, small_k, twins) -> Tensor:
    r""":math:`W_1` of every edge by :func:`graphsmooth.curvature._kernels.edge_max_flow`
    (edges whose bit matrices would not fit go through the listed-pair path)."""
    deg = csr.deg
    du, dv = _take(deg, u), _take(deg, v)
    fit = bit_rows_fit(du, dv)
    W = _kernels.edge_max_flow(
        table.kind,
        table.arrays(),
        table.n,
        csr.rowptr.cpu().numpy(),
        csr.col.cpu().numpy(),
        u.cpu().numpy(),
        v.cpu().numpy(),
        p,
        q,
        None if twins is None else twins.cpu().numpy(),
        fit.cpu().numpy(),
    )
    w1 = torch.from_numpy(W).to(u.device).to(torch.float64) / (q * du * dv).to(torch.float64)
    if not bool(fit.all()):
        rest = (~fit).nonzero().flatten()
        w1[rest], _ = exact_w1(
            csr,
            u[rest],
            v[rest],
            p,
            q,
            table=table,
            small_k=small_k,
            twins=twins,
            compiled=True,
            bit_rows=False,
        )
    return w1


def exact_w1(
    csr: CSR,
    u: Tensor,
    v: Tensor,
    p: int,
    q: int,
    *,
    return_plans: bool = False,
    table: DistanceTable | None = None,
    small_k: int = 5,
    twins: Tensor | None = None,
    compiled: bool = False,
    bit_rows: bool = True,
) -> tuple[Tensor, dict | None]:
    r"""Exact :math:`W_1(m_u, m_v)` for each edge ``(u[e], v[e])`` (one batch).

    ``compiled``: the compiled kernels when Numba is installed (worth their import on large
    problems; the values are the same). With ``bit_rows`` too (and :data:`_BIT_FLOW`), every
    edge goes to :func:`_bit_row_w1`: problems built and solved inside one compiled call by
    a max-flow over bit rows; otherwise the close pairs are listed and solved as below.

    Returns:
        (w1, plans): ``float64 [E]`` and, with ``return_plans``, a dict of COO tensors
        ``edge, src, dst, mass, dist`` (mass as a probability).
    """
    E = u.numel()
    if bit_rows and not return_plans and compiled and _BIT_FLOW and table is not None:
        if _kernels.have_kernel():
            return _bit_row_w1(csr, u, v, p, q, table, small_k, twins), None
    pr = build_problems(csr, u, v, p, q, None if return_plans else twins)
    dev = u.device
    nS, nT = pr.src_edge.numel(), pr.snk_edge.numel()
    cnt_s = torch.bincount(pr.src_edge, minlength=E)
    cnt_t = torch.bincount(pr.snk_edge, minlength=E)
    start_t = torch.cumsum(cnt_t, 0) - cnt_t
    M = torch.zeros(E, dtype=torch.long, device=dev).index_add_(0, pr.src_edge, pr.src_mass)
    if E and int((3 * M).max()) >= _INF:
        raise ValueError("an edge's transport problem is too large for int32 capacities")

    W = torch.zeros(E, dtype=torch.long, device=dev)  # scale * W1, an integer

    if return_plans:  # plans need every tight pair, cost 3 included
        i, j = _segment_product(cnt_s, start_t, cnt_t, pr.src_edge)
        c = pair_costs(csr, _take(pr.src_node, i), _take(pr.snk_node, j), table)
    else:
        # only pairs at distance 1 or 2 matter below: the profile codes start from "all 3",
        # twin hashes and closure arcs ignore cost 3
        i, j, c = _close_pairs(csr, pr, cnt_s, cnt_t, start_t, table, compiled)

    kmin = torch.minimum(cnt_s, cnt_t)
    small = (kmin <= small_k) & (kmin > 0) if not return_plans else torch.zeros_like(kmin > 0)
    if bool(small.any()):
        _solve_small_all(pr, cnt_s, cnt_t, start_t, i, j, c, small, W)
    flow_edges = ~small & (kmin > 0)

    src_edge, a_t, b_t, snk_edge = pr.src_edge, pr.src_mass, pr.snk_mass, pr.snk_edge
    if not return_plans:
        flow_kernel = compiled and _FLOW_KERNEL and _kernels.have_kernel()
        # merge interchangeable points (same edge, same side, same costs to the other side):
        # for SciPy's max-flow on all flow edges; the compiled per-problem max-flow is faster
        # without merging except where the pairs are dense (hubs of Chameleon; not BA graphs)
        dense = flow_edges
        if flow_kernel:
            n_pairs = torch.bincount(_take(src_edge, i), minlength=E)
            dense = flow_edges & (n_pairs > _MERGE_RATIO * (cnt_s + cnt_t))
        parts = [_merge_twins(*_restrict(i, j, c, src_edge, a_t, snk_edge, b_t, dense))]
        if flow_kernel:
            parts.append(_restrict(i, j, c, src_edge, a_t, snk_edge, b_t, flow_edges & ~dense))
        i, j, c, src_edge, a_t, snk_edge, b_t = _concat_parts(parts)
        nS, nT = src_edge.numel(), snk_edge.numel()
        if flow_kernel:  # one small compiled max-flow per problem
            F = _kernels.closure_max_flow(
                E,
                src_edge.cpu().numpy(),
                a_t.cpu().numpy(),
                snk_edge.cpu().numpy(),
                b_t.cpu().numpy(),
                i.cpu().numpy(),
                j.cpu().numpy(),
                c.cpu().numpy(),
                _INF,
            )
            W = torch.where(flow_edges, 3 * M - torch.from_numpy(F).to(dev), W)
            return W.to(torch.float64) / pr.scale.clamp(min=1).to(torch.float64), None

    # closure network: 0 = S*, 1 = T*, x2_i = 2 + 2i, x3_i = 3 + 2i, y1_j = 2 + 2nS + 2j, y2_j + 1
    src_on = _take(flow_edges, src_edge).cpu().numpy()
    snk_on = _take(flow_edges, snk_edge).cpu().numpy()
    pair_on = flow_edges[_take(src_edge, i)].cpu().numpy()
    ii = i.cpu().numpy()
    jj = j.cpu().numpy()
    cc = c.cpu().numpy()
    a = a_t.cpu().numpy()
    b = b_t.cpu().numpy()
    x2 = 2 + 2 * np.arange(nS)
    x3 = x2 + 1
    y1 = 2 + 2 * nS + 2 * np.arange(nT)
    y2 = y1 + 1
    n_nodes = 2 + 2 * nS + 2 * nT
    one = (cc == 1) & pair_on
    le2 = (cc == 2) & pair_on
    n_s, n_t = int(src_on.sum()), int(snk_on.sum())
    xs2, xs3, yt1, yt2 = x2[src_on], x3[src_on], y1[snk_on], y2[snk_on]
    rows = [np.zeros(n_s, np.int64), np.zeros(n_s, np.int64), xs3, yt2, yt1, yt2]
    cols = [xs2, xs3, xs2, yt1, np.ones(n_t, np.int64), np.ones(n_t, np.int64)]
    caps = [a[src_on], a[src_on], np.full(n_s, _INF), np.full(n_t, _INF), b[snk_on], b[snk_on]]
    rows += [x2[ii[one]], x3[ii[one]], x3[ii[le2]]]
    cols += [y1[jj[one]], y2[jj[one]], y1[jj[le2]]]
    caps += [np.full(int(one.sum()), _INF), np.full(int(one.sum()), _INF)]
    caps += [np.full(int(le2.sum()), _INF)]
    g, res = _max_flow(n_nodes, rows, cols, caps)
    flow = res.flow.tocsr()
    lo, hi = flow.indptr[0], flow.indptr[1]
    fcols = flow.indices[lo:hi]
    fvals = flow.data[lo:hi].astype(np.int64)
    src_of = (fcols - 2) // 2
    F = np.bincount(src_edge.cpu().numpy()[src_of], weights=fvals, minlength=E)
    F = torch.from_numpy(F.astype(np.int64)).to(dev)
    W = torch.where(flow_edges, 3 * M - F, W)
    w1 = W.to(torch.float64) / pr.scale.clamp(min=1).to(torch.float64)
    if not return_plans:
        return w1, None

    # optimal potentials from the minimum cut: nodes reachable from S* in the residual graph
    resid = (g - flow).tocsr()
    resid.data[resid.data < 0] = 0
    resid.eliminate_zeros()
    reach = np.zeros(n_nodes, dtype=bool)
    reach[breadth_first_order(resid, 0, directed=True, return_predecessors=False)] = True
    phi = 1 + reach[x2].astype(np.int64) + reach[x3]
    psi = reach[y1].astype(np.int64) + reach[y2]
    tight = phi[ii] - psi[jj] == cc
    ti, tj = ii[tight], jj[tight]
    # feasible flow on tight arcs: 0 = S*, 1 = T*, source i = 2 + i, sink j = 2 + nS + j
    s_id = 2 + np.arange(nS)
    t_id = 2 + nS + np.arange(nT)
    g2, res2 = _max_flow(
        2 + nS + nT,
        [np.zeros(nS, np.int64), s_id[ti], t_id],
        [s_id, t_id[tj], np.ones(nT, np.int64)],
        [a, np.full(ti.size, _INF), b],
    )
    fl = res2.flow.tocoo()
    sel = (fl.data > 0) & (fl.row >= 2) & (fl.row < 2 + nS) & (fl.col >= 2 + nS)
    fi = fl.row[sel].astype(np.int64) - 2
    fj = fl.col[sel].astype(np.int64) - 2 - nS
    fm = fl.data[sel].astype(np.float64)
    tkeys = ti * max(nT, 1) + tj  # sorted: pairs were enumerated by (source, sink)
    fd = cc[tight][np.searchsorted(tkeys, fi * max(nT, 1) + fj)]
    scale_t = pr.scale.to(torch.float64)
    fi_t = torch.from_numpy(fi).to(dev)
    e_tr = pr.src_edge[fi_t]
    src_n = pr.src_node[fi_t]
    dst_n = pr.snk_node[torch.from_numpy(fj).to(dev)]
    mass_tr = torch.from_numpy(fm).to(dev) / scale_t[e_tr]
    dist_tr = torch.from_numpy(fd).to(dev)
    e_c = pr.common_edge
    plans = {
        "edge": torch.cat([e_c, e_tr]),
        "src": torch.cat([pr.common_node, src_n]),
        "dst": torch.cat([pr.common_node, dst_n]),
        "mass": torch.cat([pr.common_mass.to(torch.float64) / scale_t[e_c], mass_tr]),
        "dist": torch.cat([torch.zeros_like(e_c), dist_tr]),
    }
    order = torch.argsort(plans["edge"], stable=True)
    plans = {k: t[order] for k, t in plans.items()}
    return w1, plans
