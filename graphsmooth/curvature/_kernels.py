r"""Optional compiled kernels (Numba) for the close-pair search of the exact solver.

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
"""

from __future__ import annotations

import functools
import os

import numpy as np

__all__ = ["close_pairs_kernel", "have_kernel", "warm_up"]


@functools.lru_cache(maxsize=1)
def _compiled():
    """The compiled kernels by table kind, or ``None`` without Numba or with
    ``GRAPHSMOOTH_NO_NUMBA`` set."""
    if os.environ.get("GRAPHSMOOTH_NO_NUMBA", "") not in ("", "0"):
        return None
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, nogil=True)
    def csr_kernel(indptr, indices, data, pt_node, x_start, k, y_start, nb, e_lo, e_hi, out_x,
                   out_y, out_c, mark):  # fmt: skip
        # mark[node] = 1 + local index of node on the other side (0: not there)
        cap = out_x.size
        w = 0
        e = e_lo
        while e < e_hi:
            ke = k[e]
            ne = nb[e]
            if ke == 0 or ne == 0:
                e += 1
                continue
            if w + ke * ne > cap:  # may not fit: stop before this edge
                break
            ys = y_start[e]
            xs = x_start[e]
            marked = False
            for a in range(ke):
                x = pt_node[xs + a]
                lo = indptr[x]
                hi = indptr[x + 1]
                r = hi - lo
                if r == 0:
                    continue
                # cost of ne binary searches ~ ne * log2(r); of one row scan ~ r
                steps = 1
                rr = r
                while rr > 1:
                    rr >>= 1
                    steps += 1
                if r < ne * steps:
                    if not marked:
                        for b in range(ne):
                            mark[pt_node[ys + b]] = b + 1
                        marked = True
                    for p in range(lo, hi):
                        m = mark[indices[p]]
                        if m != 0:
                            out_x[w] = xs + a
                            out_y[w] = ys + m - 1
                            out_c[w] = data[p]
                            w += 1
                else:
                    for b in range(ne):
                        y = pt_node[ys + b]
                        # lower bound of y in indices[lo:hi]
                        l = lo
                        h = hi
                        while l < h:
                            mid = (l + h) >> 1
                            if indices[mid] < y:
                                l = mid + 1
                            else:
                                h = mid
                        if l < hi and indices[l] == y:
                            out_x[w] = xs + a
                            out_y[w] = ys + b
                            out_c[w] = data[l]
                            w += 1
            if marked:
                for b in range(ne):
                    mark[pt_node[ys + b]] = 0
            e += 1
        return e, w

    @numba.njit(cache=True, nogil=True)
    def flat_kernel(arr, n, packed, pt_node, x_start, k, y_start, nb, e_lo, e_hi, out_x, out_y,
                    out_c):  # fmt: skip
        # key x * n + y; packed=False: arr[key] is the distance capped at 3 (one byte per
        # pair); packed=True: the 2-bit field of key in word key >> 5 (2 adjacent, 1 at
        # distance 2, 0 else)
        cap = out_x.size
        w = 0
        e = e_lo
        while e < e_hi:
            ke = k[e]
            ne = nb[e]
            if w + ke * ne > cap:
                break
            ys = y_start[e]
            xs = x_start[e]
            for a in range(ke):
                row = pt_node[xs + a] * n
                for b in range(ne):
                    key = row + pt_node[ys + b]
                    if packed:
                        c = 3 - ((arr[key >> 5] >> ((key & 31) << 1)) & 3)
                    else:
                        c = arr[key]
                    if c < 3:
                        out_x[w] = xs + a
                        out_y[w] = ys + b
                        out_c[w] = c
                        w += 1
            e += 1
        return e, w

    return {"csr": csr_kernel, "flat": flat_kernel}


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


def warm_up(kind: str, table: tuple, n: int) -> None:
    """Compile the kernel for this table's types now (one empty problem): a parent process
    compiles before forking workers, which then inherit the compiled code."""
    one = np.zeros(1, np.int64)
    close_pairs_kernel(kind, table, n, one, one, one, one, one)
