r"""Optional compiled kernels (Numba) for the close-pair search and the max-flow of the exact solver.

The exact solver needs, for every edge, the (source, sink) pairs at hop distance 1 or 2; on
hub-heavy graphs that is about :math:`\sum_{(u,v)} \deg u \deg v` pair tests (1.1 billion on a
Barabasi-Albert graph with 200,000 nodes), almost all of them at distance 3. Without Numba the
tests are gathers (byte / 2-bit tables) or SciPy row binary searches (sparse table) over query
arrays materialised by torch (:func:`graphsmooth.curvature._exact._close_pairs`). With Numba
(``pip install graphsmooth[fast]``) one compiled loop walks the edges and tests every point
:math:`x` of the smaller side against the other side, without query arrays:

* byte / 2-bit tables: one load per pair from the row of :math:`x` (which stays in cache);
* sparse table: per point, the cheaper of a binary search of every other-side node in the
  sorted row of :math:`x` (:math:`|Y| \log_2 r(x)` steps) or one scan of that row against a
  dense marker of the other side's nodes (:math:`r(x)` steps; the marker is set and cleared
  once per edge). SciPy's per-call :math:`O(\mathrm{nnz})` format check is gone too.

The pairs found are the same as without Numba (possibly in another order; the solver's outputs
do not depend on the order).

The second kernel, :func:`closure_max_flow`, solves the max-closure (minimum cut) networks of
the problems that need a max-flow, each on its own by Dinic's algorithm over a local arc list
(the networks are small and disjoint), instead of one SciPy ``maximum_flow`` on their union:
SciPy first builds the residual graph of the union (reverse arcs, transposes, sorting), which
cost more than the flow itself. On the same merged networks it is 1.3-1.5x faster end to end
(BA(20,000), Chameleon), and it makes merging equal points pay only where the close pairs are
dense (:func:`graphsmooth.curvature._exact.exact_w1`). Flows are integers: the same values.

The third, :func:`edge_max_flow` (session 10), is what the solver runs whenever the compiled
kernels do: it builds each edge's problem from the CSR and solves it by Dinic's algorithm over
bit rows (:func:`bitset_max_flow`), listing no pair at all. The two kernels above remain for
the edges whose bit matrices would be too large; :func:`two_hop_table` builds the sparse
distance table.
"""

from __future__ import annotations

import functools
import os

import numpy as np

__all__ = [
    "bitset_max_flow",
    "close_pairs_kernel",
    "closure_max_flow",
    "edge_max_flow",
    "have_kernel",
    "two_hop_table",
    "warm_up",
]


@functools.lru_cache(maxsize=1)
def _compiled():
    """The compiled kernels by table kind, or ``None`` without Numba or with
    ``GRAPHSMOOTH_NO_NUMBA`` set."""
    if os.environ.get("GRAPHSMOOTH_NO_NUMBA", "") not in ("", "0"):
        return None
    try:
        import numba  # noqa: F401  (the kernels' module imports it at its top)
    except ImportError:
        return None
    from graphsmooth.curvature import _numba_kernels as nk

    return {
        "csr": nk.csr_kernel,
        "flat": nk.flat_kernel,
        "flow": nk.flow_kernel,
        "bits": nk.bitset_flow,
        "edges": nk.edge_flow,
        "two_hop": (nk.two_hop_counts, nk.two_hop_fill),
    }


def have_kernel() -> bool:
    """Whether the compiled close-pair kernel is available (Numba installed and enabled)."""
    return _compiled() is not None


def close_pairs_kernel(
    kind: str,
    table: tuple,
    n: int,
    pt_node: np.ndarray,
    x_start: np.ndarray,
    k: np.ndarray,
    y_start: np.ndarray,
    nb: np.ndarray,
    capacity: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The pairs ``(x, y)`` of points at distance 1 or 2 over all problems, compiled.

    Problem ``e`` pairs the points ``x_start[e] + 0..k[e]-1`` with ``y_start[e] + 0..nb[e]-1``
    (indices into ``pt_node``, the node of every point; for ``kind="csr"`` the nodes of one
    problem's second run must be distinct, as the sources, or the sinks, of one edge are).
    The distance table (see :class:`~graphsmooth.curvature._exact.DistanceTable`) is, by
    ``kind``: ``"csr"``: ``(indptr, indices, data)``, the canonical CSR matrix of the pairs at
    distance 1 or 2 (values 1, 2); ``"dense"``: ``(dense,)``, ``uint8 [n * n]`` distances
    capped at 3; ``"bitmap"``: ``(bits,)``, ``int64`` words of 2-bit fields (2 adjacent,
    1 at distance 2). Returns ``(x, y, c)``: point indices (``int64``) and distances (``int8``).
    ``capacity`` (tests) sizes the output buffers (default: a quarter of the tests); every
    buffer holds at least one problem's tests.
    """
    kerns = _compiled()
    if kerns is None:  # pragma: no cover - callers check have_kernel()
        raise RuntimeError("the compiled kernel needs Numba (pip install graphsmooth[fast])")
    if kind not in ("csr", "dense", "bitmap"):
        raise ValueError(f"kind must be 'csr', 'dense' or 'bitmap', got {kind!r}")
    kern = kerns["csr" if kind == "csr" else "flat"]
    idx = table[1].dtype if kind == "csr" else np.int64
    pt_node = np.ascontiguousarray(pt_node, dtype=idx)
    x_start = np.ascontiguousarray(x_start, dtype=np.int64)
    y_start = np.ascontiguousarray(y_start, dtype=np.int64)
    k = np.ascontiguousarray(k, dtype=np.int64)
    nb = np.ascontiguousarray(nb, dtype=np.int64)
    E = k.size
    tests = k * nb
    extra = (np.zeros(max(n, 1), dtype=np.int32),) if kind == "csr" else ()
    head = table if kind == "csr" else (table[0], np.int64(n), kind == "bitmap")
    # buffers sized for a fraction of the tests (most pairs are far on hub-heavy graphs),
    # grown when an edge's tests may not fit
    total = int(tests.sum())
    cap = capacity if capacity is not None else min(total, max(1 << 16, total // 4))
    cap = max(int(cap), int(tests.max()) if E else 0, 1)
    xs_out, ys_out, cs_out = [], [], []
    e = 0
    while e < E:
        ox = np.empty(cap, np.int64)
        oy = np.empty(cap, np.int64)
        oc = np.empty(cap, np.int8)
        e, w = kern(*head, pt_node, x_start, k, y_start, nb, e, E, ox, oy, oc, *extra)
        trim = w < cap // 2  # do not keep a mostly empty buffer alive behind a view
        xs_out.append(ox[:w].copy() if trim else ox[:w])
        ys_out.append(oy[:w].copy() if trim else oy[:w])
        cs_out.append(oc[:w].copy() if trim else oc[:w])
    if not xs_out:
        z = np.empty(0, np.int64)
        return z, z, np.empty(0, np.int8)
    if len(xs_out) == 1:
        return xs_out[0], ys_out[0], cs_out[0]
    return np.concatenate(xs_out), np.concatenate(ys_out), np.concatenate(cs_out)


def closure_max_flow(
    num: int,
    src_edge: np.ndarray,
    a: np.ndarray,
    snk_edge: np.ndarray,
    b: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    c: np.ndarray,
    inf: int,
) -> np.ndarray:
    r"""Maximum flow of the closure network of every problem ``0..num-1``, compiled.

    The network of problem :math:`e` (see :func:`graphsmooth.curvature._exact.exact_w1`): a
    super source :math:`S^*` with arcs of capacity :math:`a_s` to :math:`x^2_s` and
    :math:`x^3_s` for each source :math:`s` of the problem (``src_edge == e``), arcs of
    capacity :math:`b_t` from :math:`y^1_t, y^2_t` to :math:`T^*` for each sink, and arcs of
    capacity ``inf`` :math:`x^3_s 	o x^2_s`, :math:`y^2_t 	o y^1_t`, and per close pair
    ``(i, j)``: cost 1: :math:`x^2_i 	o y^1_j, x^3_i 	o y^2_j`; cost 2:
    :math:`x^3_i 	o y^1_j`. Each problem is solved on its own by Dinic's algorithm on a local
    arc list, instead of SciPy's Dinic on the union of all networks (which builds the residual
    graph of the union first). Returns
    ``int64 [num]``.
    """
    kerns = _compiled()
    if kerns is None:  # pragma: no cover - callers check have_kernel()
        raise RuntimeError("the compiled kernel needs Numba (pip install graphsmooth[fast])")
    src_edge = np.asarray(src_edge, np.int64)
    snk_edge = np.asarray(snk_edge, np.int64)
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    i = np.asarray(i, np.int64)
    j = np.asarray(j, np.int64)
    # group the points by problem (a stable sort: cheap on a few sorted runs)
    if np.any(src_edge[1:] < src_edge[:-1]):
        order = np.argsort(src_edge, kind="stable")
        src_edge, a = src_edge[order], a[order]
        i = np.argsort(order)[i]
    if np.any(snk_edge[1:] < snk_edge[:-1]):
        order = np.argsort(snk_edge, kind="stable")
        snk_edge, b = snk_edge[order], b[order]
        j = np.argsort(order)[j]
    pe = src_edge[i]
    if np.any(pe[1:] < pe[:-1]):  # group the pairs by problem (stable: cheap when nearly so)
        order = np.argsort(pe, kind="stable")
        i, j, c, pe = i[order], j[order], np.asarray(c)[order], pe[order]
    ptr = np.zeros((3, num + 1), np.int64)
    for row, ed in enumerate((src_edge, snk_edge, pe)):
        np.cumsum(np.bincount(ed, minlength=num), out=ptr[row, 1:])
    out = np.empty(num, np.int64)
    kerns["flow"](
        ptr[0], np.ascontiguousarray(a, np.int64), ptr[1], np.ascontiguousarray(b, np.int64),
        ptr[2], i, j, np.ascontiguousarray(c, np.int64), np.int64(inf), out,
    )  # fmt: skip
    return out


_KIND = {"dense": 0, "bitmap": 1, "csr": 2}


def bitset_max_flow(
    kind: str,
    table: tuple,
    n: int,
    cnt_s: np.ndarray,
    s_node: np.ndarray,
    a: np.ndarray,
    cnt_t: np.ndarray,
    t_node: np.ndarray,
    b: np.ndarray,
    on: np.ndarray,
) -> np.ndarray:
    r"""Maximum flow :math:`F_e` of the closure network of every problem with ``on[e]``, from
    bit rows, compiled; :math:`W_1 = 3M_e - F_e` (see :func:`closure_max_flow`).

    Problem :math:`e` has ``cnt_s[e]`` sources (nodes ``s_node``, integer masses ``a``) and
    ``cnt_t[e]`` sinks, grouped by problem in problem order; ``table`` and ``kind`` as in
    :func:`close_pairs_kernel`. Nothing is listed per pair: for each source one bit row over
    the sinks of its problem holds the sinks adjacent to it (:math:`R^1_s`) and one those
    within two hops (:math:`R^2_s`), read from the distance table, and Dinic's algorithm scans
    64 arcs per word. The network is the closure network with its chain arcs
    :math:`x^3_s \to x^2_s`, :math:`y^2_t \to y^1_t` dropped: a bipartite network of the
    copies :math:`x^2_s, x^3_s` (capacity :math:`a_s` each from the super source) and
    :math:`y^1_t, y^2_t` (capacity :math:`b_t` each to the super sink), with unbounded arcs
    :math:`x^2_s \to y^1_t` (:math:`d = 1`), :math:`x^3_s \to y^1_t` (:math:`d \le 2`) and
    :math:`x^3_s \to y^2_t` (:math:`d = 1`). Dropping the chain arcs does not change the
    maximum closure: a closure holding :math:`x^3_s` but not :math:`x^2_s` keeps its weight
    and stays closed when the two are swapped (every successor of :math:`x^2_s` is one of
    :math:`x^3_s`); an optimal closure holds :math:`y^2_t` only when some :math:`x^3_s` with
    :math:`d(s, t) = 1` needs it, and then :math:`y^1_t` too (:math:`d \le 2`). Same integer
    flows, so the same :math:`W_1` as the listed-pair path; the work per problem is
    :math:`|S||T|` table loads plus Dinic over :math:`|T| / 64` words per row instead of a list
    of up to :math:`|S||T|` arcs, the win on graphs whose neighbourhoods are dense and close
    (Squirrel, all 198,353 edges: 38 s on 2 cores; the listed-pair path had not finished in
    40 minutes). Returns ``int64 [len(on)]`` (0 where ``on`` is false).

    This is the problem-level entry, for problems given as arrays (the tests drive the
    max-flow through it on arbitrary problems); the solver calls :func:`edge_max_flow`, which
    builds each edge's problem inside the kernel and shares this max-flow.
    """
    kerns = _compiled()
    if kerns is None:  # pragma: no cover - callers check have_kernel()
        raise RuntimeError("the compiled kernel needs Numba (pip install graphsmooth[fast])")
    _table_args(kind, table)  # checks kind
    num = len(on)
    cnt_s = np.asarray(cnt_s, np.int64)
    cnt_t = np.asarray(cnt_t, np.int64)
    s_node, a = np.asarray(s_node, np.int64), np.asarray(a, np.int64)
    t_node, b = np.asarray(t_node, np.int64), np.asarray(b, np.int64)
    swap = cnt_s > cnt_t
    if swap.any():
        # W1 is symmetric: the smaller side as the sources (the left nodes, each scanned in
        # every phase), the other as the bit rows' columns
        s_edge = np.repeat(np.arange(num), cnt_s)
        t_edge = np.repeat(np.arange(num), cnt_t)
        to_left = np.concatenate([~swap[s_edge], swap[t_edge]])
        edge = np.concatenate([s_edge, t_edge])
        node = np.concatenate([s_node, t_node])
        mass = np.concatenate([a, b])
        left = np.flatnonzero(to_left)
        left = left[np.argsort(edge[left], kind="stable")]
        right = np.flatnonzero(~to_left)
        right = right[np.argsort(edge[right], kind="stable")]
        s_node, a, t_node, b = node[left], mass[left], node[right], mass[right]
        cnt_s, cnt_t = np.where(swap, cnt_t, cnt_s), np.where(swap, cnt_s, cnt_t)
    s_ptr = np.zeros(num + 1, np.int64)
    t_ptr = np.zeros(num + 1, np.int64)
    np.cumsum(cnt_s, out=s_ptr[1:])
    np.cumsum(cnt_t, out=t_ptr[1:])
    code, arr, indptr, indices, data = _table_args(kind, table)
    mark = np.zeros(max(n, 1) if kind == "csr" else 1, np.int64)
    out = np.zeros(num, np.int64)
    kerns["bits"](
        code, arr, np.int64(n), indptr, indices, data, mark, s_ptr,
        np.ascontiguousarray(s_node, np.int64), np.ascontiguousarray(a, np.int64), t_ptr,
        np.ascontiguousarray(t_node, np.int64), np.ascontiguousarray(b, np.int64),
        np.ascontiguousarray(on, np.bool_), out,
    )  # fmt: skip
    return _checked(out, "bitset_max_flow", "problem")


def two_hop_table(rowptr: np.ndarray, col: np.ndarray, n: int):
    r"""``(indptr, indices, data)``: the canonical CSR matrix of the node pairs at distance 1
    or 2 (``data`` 1 or 2, sorted columns, no diagonal), compiled.

    Two passes over :math:`\sum_x \deg(x)^2` neighbour steps (count the rows, then fill and
    sort them); nothing but the output is held, 5 bytes per pair (``int32`` indices below
    :math:`2^{31}` pairs), where SciPy's product :math:`(A + cI)^2` holds the product and its
    copies (several times that).
    """
    kerns = _compiled()
    if kerns is None:  # pragma: no cover - callers check have_kernel()
        raise RuntimeError("the compiled kernel needs Numba (pip install graphsmooth[fast])")
    count, fill = kerns["two_hop"]
    rowptr = np.ascontiguousarray(rowptr, np.int64)
    col = np.ascontiguousarray(col, np.int64)
    cnt = count(rowptr, col, np.int64(n))
    idx = np.int32 if int(cnt.sum()) < 2**31 and n < 2**31 else np.int64
    indptr = np.zeros(n + 1, idx)
    np.cumsum(cnt, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), idx)
    data = np.empty(indices.size, np.int8)
    fill(rowptr, col, np.int64(n), indptr, indices, data)
    return indptr, indices, data


def _checked(out: np.ndarray, name: str, item: str) -> np.ndarray:
    """``out``, or a ``RuntimeError`` where the kernel marked an item -1: a defect guard (a
    max-flow phase that found a path and augmented nothing would otherwise loop forever)."""
    if (out < 0).any():  # pragma: no cover - never seen; tested by breaking the kernel
        raise RuntimeError(
            f"{name}: no progress on {item} {int(np.argmax(out < 0))} (a bug; please report "
            "it); set graphsmooth.curvature._exact._BIT_FLOW = False to avoid"
        )
    return out


def _table_args(kind: str, table: tuple) -> tuple:
    """``(kind code, arr, indptr, indices, data)`` for the bit-row kernels."""
    if kind not in _KIND:
        raise ValueError(f"kind must be 'csr', 'dense' or 'bitmap', got {kind!r}")
    if kind == "csr":
        return (np.int64(2), np.zeros(1, np.uint8), *table)
    z = np.zeros(1, np.int64)
    return (np.int64(_KIND[kind]), table[0], z, z, np.zeros(1, np.int8))


def edge_max_flow(
    kind: str,
    table: tuple,
    n: int,
    rowptr: np.ndarray,
    col: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    p: int,
    q: int,
    twins: np.ndarray | None,
    on: np.ndarray,
) -> np.ndarray:
    r""":math:`3M_e - F_e = L_e W_1(m_u, m_v)` of every edge ``(u[e], v[e])`` with ``on[e]``, compiled
    end to end (0 elsewhere).

    Each edge's transport problem is built inside the kernel from the CSR ``(rowptr, col)`` of
    the simple graph, exactly as :func:`graphsmooth.curvature._exact.build_problems` builds it
    (masses scaled to integers by :math:`L_e = q \deg u \deg v` for :math:`\alpha = p/q`,
    common mass cancelled, false ``twins`` merged), and solved by the bit-row max-flow of
    :func:`bitset_max_flow` with the smaller side as the sources. No per-edge array leaves the
    kernel, so a call can take any number of edges. The workspace holds
    :math:`(\min(\deg u, \deg v) + 1) \lceil (\max(\deg u, \deg v) + 1) / 64 \rceil`
    words per bit matrix for the largest edge; callers route edges above a bound elsewhere.
    """
    kerns = _compiled()
    if kerns is None:  # pragma: no cover - callers check have_kernel()
        raise RuntimeError("the compiled kernel needs Numba (pip install graphsmooth[fast])")
    code, arr, indptr, indices, data = _table_args(kind, table)
    on = np.ascontiguousarray(on, np.bool_)
    out = np.zeros(on.size, np.int64)
    use_twins = twins is not None
    tw = np.ascontiguousarray(twins, np.int64) if use_twins else np.zeros(1, np.int64)
    kerns["edges"](
        code, arr, np.int64(n), indptr, indices, data, np.ascontiguousarray(rowptr, np.int64),
        np.ascontiguousarray(col, np.int64), np.ascontiguousarray(u, np.int64),
        np.ascontiguousarray(v, np.int64), np.int64(p), np.int64(q), tw, use_twins, on, out,
    )  # fmt: skip
    return _checked(out, "edge_max_flow", "edge")


def warm_up(kind: str, table: tuple, n: int) -> None:
    """Compile the kernels for this table's types now (one empty problem each: the close-pair
    search and the max-flow): a parent process compiles before forking workers, which then
    inherit the compiled code."""
    one = np.zeros(1, np.int64)
    close_pairs_kernel(kind, table, n, one, one, one, one, one)
    closure_max_flow(1, one, one, one, one, one[:0], one[:0], one[:0], 1)
    z = np.zeros(1, np.int64)
    bitset_max_flow(kind, table, n, z, z[:0], z[:0], z, z[:0], z[:0], np.zeros(1, np.bool_))
    edge_max_flow(kind, table, n, z, z, z, z, 0, 1, None, np.zeros(1, np.bool_))
