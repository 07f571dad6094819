r"""The compiled kernels of the exact curvature solver (Numba; optional).

Imported only by :func:`graphsmooth.curvature._kernels._compiled` when Numba is installed; the
Python entry points, their contracts and the maths are in :mod:`graphsmooth.curvature._kernels`.
The kernels are module-level functions (not closures), so Numba caches their machine code on
disk and they can share helpers: the close-pair search over a table (``csr_kernel``,
``flat_kernel``), the max-flow of listed closure networks (``flow_kernel``), and the max-flow
over bit rows (``bitset_flow`` for problems given as arrays, ``edge_flow`` building each edge's
problem from the CSR; see :func:`graphsmooth.curvature._kernels.bitset_max_flow`).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

__all__ = [
    "bitset_flow",
    "csr_kernel",
    "edge_flow",
    "flat_kernel",
    "flow_kernel",
    "two_hop_counts",
    "two_hop_fill",
]


@numba.njit(cache=True, nogil=True)
def _scan_row(r, m):
    # a sorted row of r entries against m queries: is one scan (~ r steps) cheaper than m
    # binary searches (~ m log2 r steps)?
    steps = 1
    rr = r
    while rr > 1:
        rr >>= 1
        steps += 1
    return r < m * steps


@numba.njit(cache=True, nogil=True)
def _find(indices, lo, hi, y):
    # position of y in the sorted indices[lo:hi], or -1
    end = hi
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < y:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < end and indices[lo] == y else -1


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
            if hi == lo:
                continue
            if _scan_row(hi - lo, ne):
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
                    l = _find(indices, lo, hi, pt_node[ys + b])
                    if l >= 0:
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


@numba.njit(cache=True, nogil=True)
def flow_kernel(s_ptr, a, t_ptr, b, p_ptr, pi, pj, pc, inf, out):
    # per problem e: sources s_ptr[e]..s_ptr[e+1]-1 (mass a), sinks likewise (mass b),
    # close pairs p_ptr[e]..p_ptr[e+1]-1 (global point indices pi, pj; cost pc in {1, 2});
    # out[e] = max-flow of the problem's closure network (Dinic on a local arc list)
    E = s_ptr.size - 1
    max_v = 2
    max_a = 2
    for e in range(E):
        ns = s_ptr[e + 1] - s_ptr[e]
        nt = t_ptr[e + 1] - t_ptr[e]
        max_v = max(max_v, 2 + 2 * ns + 2 * nt)
        max_a = max(max_a, 2 * (3 * ns + 3 * nt + 2 * (p_ptr[e + 1] - p_ptr[e])))
    head = np.empty(max_v, np.int64)
    nxt = np.empty(max_a, np.int64)
    to = np.empty(max_a, np.int64)
    cap = np.empty(max_a, np.int64)
    level = np.empty(max_v, np.int64)
    cur = np.empty(max_v, np.int64)
    queue = np.empty(max_v, np.int64)
    path = np.empty(max_v, np.int64)
    for e in range(E):
        s0 = s_ptr[e]
        t0 = t_ptr[e]
        ns = s_ptr[e + 1] - s0
        nt = t_ptr[e + 1] - t0
        out[e] = 0
        if ns == 0 or nt == 0:
            continue
        nv = 2 + 2 * ns + 2 * nt
        yb = 2 + 2 * ns  # y1 of sink l: yb + 2l, y2: yb + 2l + 1; x2 of source k: 2 + 2k
        head[:nv] = -1
        m = 0
        # arcs in pairs (m forward, m + 1 = m ^ 1 its residual reverse): per source k
        # S* -> x2, S* -> x3 (mass a), x3 -> x2; per sink l y1 -> T*, y2 -> T* (mass b),
        # y2 -> y1; per close pair: cost 1 x2 -> y1 and x3 -> y2, cost 2 x3 -> y1
        n_src, n_snk = 3 * ns, 3 * ns + 3 * nt
        for r in range(n_snk + 2 * (p_ptr[e + 1] - p_ptr[e])):
            c = inf
            if r < n_src:
                w = r % 3
                x2 = 2 + 2 * (r // 3)
                frm, dst = (0, x2 + w) if w < 2 else (x2 + 1, x2)
                if w < 2:
                    c = a[s0 + r // 3]
            elif r < n_snk:
                w = (r - n_src) % 3
                y1 = yb + 2 * ((r - n_src) // 3)
                frm, dst = (y1 + w, 1) if w < 2 else (y1 + 1, y1)
                if w < 2:
                    c = b[t0 + (r - n_src) // 3]
            else:
                q = p_ptr[e] + (r - n_snk) // 2
                w = (r - n_snk) % 2
                if w == 1 and pc[q] == 2:
                    continue
                x2 = 2 + 2 * (pi[q] - s0)
                y1 = yb + 2 * (pj[q] - t0)
                frm = x2 + 1 if (pc[q] == 2 or w == 1) else x2
                dst = y1 + w
            to[m] = dst
            cap[m] = c
            nxt[m] = head[frm]
            head[frm] = m
            to[m + 1] = frm
            cap[m + 1] = 0
            nxt[m + 1] = head[dst]
            head[dst] = m + 1
            m += 2
        flow = 0
        while True:
            # BFS levels from the source over arcs with residual capacity
            level[:nv] = -1
            level[0] = 0
            qh = 0
            qt = 1
            queue[0] = 0
            while qh < qt:
                x = queue[qh]
                qh += 1
                arc = head[x]
                while arc != -1:
                    y = to[arc]
                    if cap[arc] > 0 and level[y] < 0:
                        level[y] = level[x] + 1
                        queue[qt] = y
                        qt += 1
                    arc = nxt[arc]
            if level[1] < 0:
                break
            cur[:nv] = head[:nv]
            # blocking flow: advance along the current arcs, retreat from dead ends
            depth = 0
            x = 0
            while True:
                if x == 1:
                    f = cap[path[0]]
                    for d in range(1, depth):
                        f = min(f, cap[path[d]])
                    for d in range(depth):
                        cap[path[d]] -= f
                        cap[path[d] ^ 1] += f
                    flow += f
                    depth = 0
                    x = 0
                    continue
                arc = cur[x]
                while arc != -1 and (cap[arc] == 0 or level[to[arc]] != level[x] + 1):
                    arc = nxt[arc]
                cur[x] = arc
                if arc == -1:
                    if x == 0:
                        break
                    level[x] = -1  # dead end: never entered again in this phase
                    depth -= 1
                    x = to[path[depth] ^ 1]  # the tail of the arc that led here
                    continue
                path[depth] = arc
                depth += 1
                x = to[arc]
        out[e] = flow


@numba.njit(cache=True, nogil=True)
def _expand(row, unseen, level_mask, W, off, lev, levR, frontR, nr):
    # the right nodes off + j with bit j in row & unseen: mark them seen at level lev, add them
    # to the level's mask and to the frontier frontR[nr:]; returns the new frontier length
    for w in range(W):
        m = row[w] & unseen[w]
        if m != 0:
            unseen[w] &= ~m
            level_mask[w] |= m
            while m != 0:
                r = off + (w << 6) + trailing_zeros(m)
                m &= m - 1
                levR[r] = lev
                frontR[nr] = r
                nr += 1
    return nr


@numba.njit(cache=True, nogil=True)
def _solve(kind, arr, n, indptr, indices, data, mark, sn, sa, ns, tn, tb, nt, ws, rec):
    # max-flow of one problem: sources sn[:ns] (masses sa), sinks tn[:nt] (masses tb), with
    # ns <= rows of the workspace and nt <= 64 x its words; returns (flow or -1, records)
    R1, R2, LM1, LM2, ex, levL, curL, frontL, nextL, capR, levR, curR, headR, frontR = ws[:14]
    uv1, uv2, path, prec = ws[14:]
    rec_l, rec_f, rec_nx = rec
    rec_cap = rec_l.size
    one = np.int64(1)
    W = (nt + 63) >> 6
    last = np.int64(-1) if (nt & 63) == 0 else (one << (nt & 63)) - 1
    # rows: R1[i] = bits of the sinks adjacent to source i, R2[i] = within 2 hops
    for i in range(ns):
        for w in range(W):
            R1[i, w] = 0
            R2[i, w] = 0
    if kind == 2:  # sparse table: mark the sinks, then per source a row scan or searches
        for j in range(nt):
            mark[tn[j]] = j + 1
        for i in range(ns):
            x = sn[i]
            lo = indptr[x]
            hi = indptr[x + 1]
            if _scan_row(hi - lo, nt):
                for p in range(lo, hi):
                    m = mark[indices[p]]
                    if m != 0:
                        j = m - 1
                        bit = one << (j & 63)
                        R2[i, j >> 6] |= bit
                        if data[p] == 1:
                            R1[i, j >> 6] |= bit
            else:
                for j in range(nt):
                    k = _find(indices, lo, hi, tn[j])
                    if k >= 0:
                        bit = one << (j & 63)
                        R2[i, j >> 6] |= bit
                        if data[k] == 1:
                            R1[i, j >> 6] |= bit
        for j in range(nt):
            mark[tn[j]] = 0
    else:  # byte table (kind 0) or 2-bit fields (kind 1): one load per pair
        for i in range(ns):
            row = sn[i] * n
            for j in range(nt):
                key = row + tn[j]
                if kind == 1:
                    c = 3 - ((arr[key >> 5] >> ((key & 31) << 1)) & 3)
                else:
                    c = arr[key]
                if c < 3:
                    bit = one << (j & 63)
                    R2[i, j >> 6] |= bit
                    if c == 1:
                        R1[i, j >> 6] |= bit
    for i in range(ns):
        ex[i] = sa[i]
        ex[ns + i] = sa[i]
    for j in range(nt):
        capR[j] = tb[j]
        capR[nt + j] = tb[j]
        headR[j] = -1
        headR[nt + j] = -1
    n_rec = 0
    flow = 0
    ok = True
    while True:
        # ---- BFS levels from the left nodes with supply left
        for l in range(2 * ns):
            levL[l] = -1
        for r in range(2 * nt):
            levR[r] = -1
        for w in range(W):
            uv1[w] = -1
            uv2[w] = -1
        uv1[W - 1] = last
        uv2[W - 1] = last
        nf = 0
        for l in range(2 * ns):
            if ex[l] > 0:
                levL[l] = 0
                frontL[nf] = l
                nf += 1
        if nf == 0:
            break
        d = 0
        target = -1
        while True:
            li = d >> 1
            for w in range(W):
                LM1[li, w] = 0
                LM2[li, w] = 0
            nr = 0
            for q in range(nf):
                l = frontL[q]
                if l < ns:  # x2 copy: y1 of the adjacent sinks
                    nr = _expand(R1[l], uv1, LM1[li], W, 0, d + 1, levR, frontR, nr)
                else:  # x3 copy: y1 within two hops, y2 of the adjacent ones
                    nr = _expand(R2[l - ns], uv1, LM1[li], W, 0, d + 1, levR, frontR, nr)
                    nr = _expand(R1[l - ns], uv2, LM2[li], W, nt, d + 1, levR, frontR, nr)
            if nr == 0:
                break
            hit = False
            for q in range(nr):
                if capR[frontR[q]] > 0:
                    hit = True
                    break
            if hit:
                target = d + 1
                for q in range(nr):  # at the last level only sinks with room count
                    r = frontR[q]
                    if capR[r] == 0:
                        jj = r if r < nt else r - nt
                        if r < nt:
                            LM1[li, jj >> 6] &= ~(one << (jj & 63))
                        else:
                            LM2[li, jj >> 6] &= ~(one << (jj & 63))
                break
            nn = 0
            for q in range(nr):
                r = frontR[q]
                k = headR[r]
                while k != -1:
                    l = rec_l[k]
                    if rec_f[k] > 0 and levL[l] < 0:
                        levL[l] = d + 2
                        nextL[nn] = l
                        nn += 1
                    k = rec_nx[k]
            if nn == 0:
                break
            for q in range(nn):
                frontL[q] = nextL[q]
            nf = nn
            d += 2
        if target < 0:
            break
        # ---- blocking flow (DFS with current arcs)
        before = flow
        for l in range(2 * ns):
            curL[l] = 0
        for r in range(2 * nt):
            curR[r] = headR[r]
        for l0 in range(2 * ns):
            if levL[l0] != 0:
                continue
            while ex[l0] > 0 and levL[l0] == 0:
                depth = 0
                path[0] = l0
                node_is_left = True
                x = l0
                reached = False
                while True:
                    if node_is_left:
                        dl = levL[x]
                        li = dl >> 1
                        found = -1
                        if x < ns:
                            i = x
                            w = curL[x]
                            while w < W:
                                m = R1[i, w] & LM1[li, w]
                                if m != 0:
                                    found = (w << 6) + trailing_zeros(m)
                                    break
                                w += 1
                            curL[x] = w
                        else:
                            i = x - ns
                            w = curL[x]
                            while w < 2 * W:
                                if w < W:
                                    m = R2[i, w] & LM1[li, w]
                                else:
                                    m = R1[i, w - W] & LM2[li, w - W]
                                if m != 0:
                                    ww = w if w < W else w - W
                                    found = (ww << 6) + trailing_zeros(m)
                                    if w >= W:
                                        found += nt
                                    break
                                w += 1
                            curL[x] = w
                        if found < 0:
                            levL[x] = -1  # dead in this phase
                            if depth == 0:
                                break
                            # back to the right node that led here; skip that record
                            depth -= 1
                            x = path[depth]
                            node_is_left = False
                            curR[x] = rec_nx[prec[depth]]
                            continue
                        depth += 1
                        path[depth] = found
                        x = found
                        node_is_left = False
                    else:
                        dr = levR[x]
                        jj = x if x < nt else x - nt
                        if dr == target:
                            if capR[x] > 0:
                                reached = True
                                break
                            dead = True
                        else:
                            k = curR[x]
                            while k != -1:
                                l = rec_l[k]
                                if rec_f[k] > 0 and levL[l] == dr + 1:
                                    break
                                k = rec_nx[k]
                            curR[x] = k
                            dead = k == -1
                            if not dead:
                                prec[depth] = k
                                depth += 1
                                path[depth] = rec_l[k]
                                x = rec_l[k]
                                node_is_left = True
                                continue
                        # dead right node: out of its level mask
                        li = (dr - 1) >> 1
                        if x < nt:
                            LM1[li, jj >> 6] &= ~(one << (jj & 63))
                        else:
                            LM2[li, jj >> 6] &= ~(one << (jj & 63))
                        depth -= 1
                        x = path[depth]
                        node_is_left = True
                if not reached:
                    break
                # path: left path[0], right path[1], left path[2] via record prec[1], ...
                f = min(ex[l0], capR[x])
                for q in range(1, depth, 2):
                    f = min(f, rec_f[prec[q]])
                ex[l0] -= f
                capR[x] -= f
                flow += f
                for q in range(0, depth, 2):
                    l = path[q]
                    r = path[q + 1]
                    k = headR[r]
                    if k != -1 and rec_l[k] == l:
                        rec_f[k] += f
                    else:
                        if n_rec == rec_cap:
                            rec_cap *= 2
                            nl = np.empty(rec_cap, np.int64)
                            nfl = np.empty(rec_cap, np.int64)
                            nx = np.empty(rec_cap, np.int64)
                            nl[:n_rec] = rec_l[:n_rec]
                            nfl[:n_rec] = rec_f[:n_rec]
                            nx[:n_rec] = rec_nx[:n_rec]
                            rec_l, rec_f, rec_nx = nl, nfl, nx
                        rec_l[n_rec] = l
                        rec_f[n_rec] = f
                        rec_nx[n_rec] = headR[r]
                        headR[r] = n_rec
                        n_rec += 1
                for q in range(1, depth, 2):
                    rec_f[prec[q]] -= f
        if flow == before:  # a phase with a path always augments: never loop on
            ok = False
            break
    return (flow if ok else -1), (rec_l, rec_f, rec_nx)


@numba.njit(cache=True, nogil=True)
def _workspace(max_s, max_t):
    # scratch arrays of _solve for up to max_s sources and max_t sinks
    max_w = (max_t + 63) >> 6
    n_lev = min(2 * max_s, 2 * max_t) + 2
    big = 2 * (2 * max_s + 2 * max_t) + 2
    mats = (
        np.zeros((max_s, max_w), np.int64),
        np.zeros((max_s, max_w), np.int64),
        np.zeros((n_lev, max_w), np.int64),
        np.zeros((n_lev, max_w), np.int64),
    )
    left = (
        np.empty(2 * max_s, np.int64),
        np.empty(2 * max_s, np.int64),
        np.empty(2 * max_s, np.int64),
        np.empty(2 * max_s, np.int64),
        np.empty(2 * max_s, np.int64),
    )
    right = (
        np.empty(2 * max_t, np.int64),
        np.empty(2 * max_t, np.int64),
        np.empty(2 * max_t, np.int64),
        np.empty(2 * max_t, np.int64),
        np.empty(2 * max_t, np.int64),
    )
    rest = (np.empty(max_w, np.int64), np.empty(max_w, np.int64), np.empty(big, np.int64))
    ws = mats + left + right + rest + (np.empty(big, np.int64),)
    rec = (np.empty(1024, np.int64), np.empty(1024, np.int64), np.empty(1024, np.int64))
    return ws, rec


@numba.njit(cache=True, nogil=True)
def bitset_flow(kind, arr, n, indptr, indices, data, mark, s_ptr, s_node, a, t_ptr, t_node,
                b, on, out):  # fmt: skip
    # per problem e with on[e]: sources s_ptr[e]..s_ptr[e+1]-1 (nodes s_node, masses a),
    # sinks likewise; out[e] = max-flow of the reduced bipartite network (see
    # bitset_max_flow), -1 if a phase failed to augment (a defect guard)
    E = s_ptr.size - 1
    max_s = 1
    max_t = 1
    for e in range(E):
        if on[e]:
            max_s = max(max_s, s_ptr[e + 1] - s_ptr[e])
            max_t = max(max_t, t_ptr[e + 1] - t_ptr[e])
    ws, rec = _workspace(max_s, max_t)
    for e in range(E):
        s0 = s_ptr[e]
        t0 = t_ptr[e]
        ns = s_ptr[e + 1] - s0
        nt = t_ptr[e + 1] - t0
        out[e] = 0
        if ns == 0 or nt == 0 or not on[e]:
            continue
        f, rec = _solve(kind, arr, n, indptr, indices, data, mark, s_node[s0:], a[s0:], ns,
                        t_node[t0:], b[t0:], nt, ws, rec)  # fmt: skip
        out[e] = f


@numba.njit(cache=True, nogil=True)
def edge_flow(kind, arr, n, indptr, indices, data, rowptr, col, u, v, p, q, twins, use_twins,
              on, out):  # fmt: skip
    # per edge e with on[e]: its transport problem built from the CSR (rowptr, col) as
    # graphsmooth.curvature._exact.build_problems does (masses scaled by q deg u deg v, common
    # mass cancelled, false twins merged with use_twins), then out[e] = 3 M - F = scale * W1
    # (-1 if a phase failed to augment: a defect guard)
    E = u.size
    max_lo = 1
    max_hi = 1
    for e in range(E):
        if on[e]:
            du = rowptr[u[e] + 1] - rowptr[u[e]]
            dv = rowptr[v[e] + 1] - rowptr[v[e]]
            max_lo = max(max_lo, min(du, dv) + 1)
            max_hi = max(max_hi, max(du, dv) + 1)
    ws, rec = _workspace(max_lo, max_hi)
    mark = np.zeros(n if kind == 2 else 1, np.int64)
    pos = np.full(n, -1, np.int64)
    pn = np.empty(2 * max_hi + 2, np.int64)
    pm = np.empty(2 * max_hi + 2, np.int64)
    sn = np.empty(2 * max_hi + 2, np.int64)
    sa = np.empty(2 * max_hi + 2, np.int64)
    tn = np.empty(2 * max_hi + 2, np.int64)
    tb = np.empty(2 * max_hi + 2, np.int64)
    for e in range(E):
        out[e] = 0
        if not on[e]:
            continue
        x_u = u[e]
        x_v = v[e]
        du = rowptr[x_u + 1] - rowptr[x_u]
        dv = rowptr[x_v + 1] - rowptr[x_v]
        wa = (q - p) * dv  # units on each neighbour of u (m_u)
        wb = (q - p) * du  # units on each neighbour of v (m_v)
        wl = p * du * dv  # laziness on u (m_u) and on v (m_v)
        cu = twins[x_u] if use_twins else x_u
        cv = twins[x_v] if use_twins else x_v
        npt = 0
        # net mass m_u - m_v per point; a false twin of neither u nor v counts as its class
        for side in range(2):
            x0 = x_u if side == 0 else x_v
            r0 = wa if side == 0 else -wb
            for k in range(rowptr[x0] - (1 if wl > 0 else 0), rowptr[x0 + 1]):
                if k < rowptr[x0]:
                    y = x0  # the lazy mass on the centre itself
                    r = wl if side == 0 else -wl
                else:
                    y = col[k]
                    r = r0
                key = y
                if use_twins:
                    c = twins[y]
                    if c != cu and c != cv:
                        key = c
                if pos[key] < 0:
                    pos[key] = npt
                    pn[npt] = key
                    pm[npt] = r
                    npt += 1
                else:
                    pm[pos[key]] += r
        ns = 0
        nt = 0
        M = 0
        for k in range(npt):
            pos[pn[k]] = -1
            if pm[k] > 0:
                sn[ns] = pn[k]
                sa[ns] = pm[k]
                M += pm[k]
                ns += 1
            elif pm[k] < 0:
                tn[nt] = pn[k]
                tb[nt] = -pm[k]
                nt += 1
        if ns == 0 or nt == 0:
            continue
        if ns <= nt:  # the smaller side as the sources (W1 is symmetric)
            f, rec = _solve(kind, arr, n, indptr, indices, data, mark, sn, sa, ns, tn, tb, nt,
                            ws, rec)  # fmt: skip
        else:
            f, rec = _solve(kind, arr, n, indptr, indices, data, mark, tn, tb, nt, sn, sa, ns,
                            ws, rec)  # fmt: skip
        out[e] = 3 * M - f if f >= 0 else -1


@numba.njit(cache=True, nogil=True)
def two_hop_counts(rowptr, col, n):
    # per node x: the number of nodes y != x within two hops (the row lengths of the table)
    cnt = np.zeros(n, np.int64)
    seen = np.full(n, -1, np.int64)  # seen[y] == x: y counted for x already
    for x in range(n):
        c = 0
        for k in range(rowptr[x], rowptr[x + 1]):
            w = col[k]
            for k2 in range(rowptr[w], rowptr[w + 1] + 1):
                y = w if k2 == rowptr[w + 1] else col[k2]  # w itself, then its neighbours
                if y != x and seen[y] != x:
                    seen[y] = x
                    c += 1
        cnt[x] = c
    return cnt


@numba.njit(cache=True, nogil=True)
def two_hop_fill(rowptr, col, n, indptr, indices, data):
    # row x of the table: the nodes within two hops, sorted, with their distance (1 or 2)
    mark = np.zeros(n, np.int8)
    for x in range(n):
        lo = indptr[x]
        pos = lo
        for k in range(rowptr[x], rowptr[x + 1]):
            w = col[k]
            mark[w] = 1
            indices[pos] = w
            pos += 1
        for k in range(rowptr[x], rowptr[x + 1]):
            w = col[k]
            for k2 in range(rowptr[w], rowptr[w + 1]):
                y = col[k2]
                if y != x and mark[y] == 0:
                    mark[y] = 2
                    indices[pos] = y
                    pos += 1
        indices[lo:pos].sort()
        for p in range(lo, pos):
            data[p] = mark[indices[p]]
            mark[indices[p]] = 0
