r"""Ollivier-Ricci curvature of every edge of an unweighted graph: exact, bounds, Sinkhorn.

For an edge :math:`(u, v)` and idleness :math:`\alpha \in [0, 1)`,

.. math::
    m_x^\alpha = \alpha\, \delta_x + \frac{1 - \alpha}{\deg x} \sum_{y \sim x} \delta_y,
    \qquad
    \kappa_\alpha(u, v) = 1 - \frac{W_1(m_u^\alpha, m_v^\alpha)}{d(u, v)}
    = 1 - W_1(m_u^\alpha, m_v^\alpha),

with :math:`W_1` the optimal-transport distance for the hop metric :math:`d` of the graph
(Ollivier, "Ricci curvature of Markov chains on metric spaces", J. Funct. Anal. 2009). The LCP
(Fesser & Weber, ICLR 2024) and BORF (Nguyen et al., ICML 2023) papers use :math:`\alpha = 0`;
GraphRicciCurvature defaults to :math:`\alpha = 0.5`.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing as mp
import os
import sys
import warnings
import weakref
from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphsmooth.curvature import _exact as _exact_module
from graphsmooth.curvature import _kernels
from graphsmooth.curvature._exact import (
    alpha_fraction,
    distance_table,
    exact_w1,
    twin_classes,
    worth_merging,
)
from graphsmooth.curvature.bounds import pair_bounds
from graphsmooth.graph import CSR, simple_undirected, to_csr, undirected_pairs
from graphsmooth.graph.csr import stable_argsort

__all__ = ["OllivierRicciResult", "TransportPlans", "ollivier_ricci"]

METHODS = ("exact", "bounds", "sinkhorn")
_TABLE_WORK_RATIO = 10  # build a distance table when sum deg^2 <= this x the transport work


@dataclass
class _Prepared:
    """The simple graph of one ``edge_index`` and the structures built on it (distance table,
    false twins), kept for the next call on the same, unmodified tensor: callers that evaluate
    edge subsets of one graph in rounds (BORF's pruned ranking) build them once."""

    n: int
    csr: CSR
    pairs: Tensor
    caught: list = field(default_factory=list)
    tables: dict = field(default_factory=dict)
    twins: object = None
    twins_done: bool = False

    def table(self, chunk_pairs: int):
        if chunk_pairs in self.tables:
            return self.tables[chunk_pairs]
        table = distance_table(self.csr, chunk_pairs)
        if table is None or _table_bytes(table) <= _KEEP_TABLE_BYTES:  # big ones are not kept
            self.tables[chunk_pairs] = table
        return table

    def twin_classes(self):
        if not self.twins_done:
            self.twins = worth_merging(self.csr, twin_classes(self.csr))
            self.twins_done = True
        return self.twins


_LAST: list = []  # [(weakref to edge_index, its _version, num_nodes, _Prepared)], one slot
_KEEP_TABLE_BYTES = 256 * 2**20  # distance tables above this are rebuilt rather than kept


def _table_bytes(table) -> int:
    if table.kind == "csr":
        return int(table.indptr.nbytes + table.indices.nbytes + table.data.nbytes)
    x = table.bits if table.kind == "bitmap" else table.dense
    return int(x.numel() * x.element_size())


def _forget(ref) -> None:
    """Drop the kept structures once their ``edge_index`` tensor is gone."""
    if _LAST and _LAST[0][0] is ref:
        _LAST.clear()


def _prepare(edge_index: Tensor, num_nodes: int | None) -> _Prepared:
    if _LAST:
        ref, version, nn, prep = _LAST[0]
        if ref() is edge_index and version == edge_index._version and nn == num_nodes:
            for w in prep.caught:  # the same warnings as a fresh call
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return prep
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ei, _, n = simple_undirected(edge_index, num_nodes, on_directed="warn")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    prep = _Prepared(n, to_csr(ei, n, canonical=False), undirected_pairs(ei), list(caught))
    _LAST.clear()
    try:
        _LAST.append((weakref.ref(edge_index, _forget), edge_index._version, num_nodes, prep))
    except TypeError:  # not weak-referenceable: no reuse
        pass
    return prep


@dataclass
class TransportPlans:
    r"""Optimal transport plans of the edges, as one COO record.

    Entry ``k`` moves ``mass[k]`` (a probability) from ``src[k]`` :math:`\in \mathrm{supp}\, m_u`
    to ``dst[k]`` :math:`\in \mathrm{supp}\, m_v` over hop distance ``dist[k]`` (0..3), for the
    undirected edge ``pairs[:, pair[k]]`` of the result. Mass common to both measures stays in
    place (``src == dst``, ``dist == 0``). Entries are grouped by ``pair``.
    """

    pair: Tensor
    src: Tensor
    dst: Tensor
    mass: Tensor
    dist: Tensor


@dataclass
class OllivierRicciResult:
    r"""Result of :func:`ollivier_ricci`.

    Attributes:
        curvature (torch.Tensor): ``float64 [E_in]`` one value per input column; ``(u, v)`` and
            ``(v, u)`` (and duplicates) share a value; self loops get ``nan``.
        pairs (torch.Tensor): ``long [2, E]`` the undirected simple edges, ``u < v``, sorted.
        pair_curvature (torch.Tensor): ``float64 [E]`` curvature of each of ``pairs``.
        column_pair (torch.Tensor): ``long [E_in]`` index into ``pairs`` of each input column
            (``-1`` for self loops).
        lower, upper (torch.Tensor, optional): per input column lower / upper bounds
            (``method="bounds"``), else ``None``.
        pair_lower, pair_upper (torch.Tensor, optional): the same per pair.
        plans (TransportPlans, optional): optimal plans (``return_plans=True``, exact method).
        alpha (float), method (str), num_nodes (int).
    """

    curvature: Tensor
    pairs: Tensor
    pair_curvature: Tensor
    column_pair: Tensor
    alpha: float
    method: str
    num_nodes: int
    lower: Tensor | None = None
    upper: Tensor | None = None
    pair_lower: Tensor | None = None
    pair_upper: Tensor | None = None
    plans: TransportPlans | None = None


def _columns_to_pairs(edge_index: Tensor, pairs: Tensor, n: int) -> Tensor:
    a, b = edge_index[0].long(), edge_index[1].long()
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    keys = pairs[0] * max(n, 1) + pairs[1]
    q = lo * max(n, 1) + hi
    if keys.numel() == 0:
        return torch.full_like(q, -1)
    pos = torch.searchsorted(keys, q).clamp_(max=keys.numel() - 1)
    return torch.where((keys[pos] == q) & (a != b), pos, torch.full_like(pos, -1))


def _per_column(values: Tensor, column_pair: Tensor) -> Tensor:
    out = torch.full(column_pair.shape, math.nan, dtype=values.dtype, device=values.device)
    ok = column_pair >= 0
    out[ok] = values[column_pair[ok]]
    return out


def _chunks(work: Tensor, budget: int) -> list[tuple[int, int]]:
    """Contiguous chunks of items whose summed ``work`` stays near ``budget``."""
    if work.numel() == 0:
        return []
    cum = torch.cumsum(work, 0)
    bounds = torch.searchsorted(cum, torch.arange(budget, int(cum[-1]) + budget, budget))
    edges = sorted(set([0] + (bounds + 1).clamp(max=work.numel()).tolist() + [work.numel()]))
    return list(zip(edges[:-1], edges[1:], strict=True))


_JOB: tuple | None = None  # the chunked problem of a parallel call, inherited by forked workers
# below this many transport variables a fork costs more than it saves (Cora: 0.5 M)
_PARALLEL_MIN_WORK = 20_000_000
# transport variables that repay loading the compiled kernels (~0.4 s; one thread, CPU s
# without / with: Cora (0.56 M) 0.11 / 0.50, BA(2,708) (7.0 M) 1.29 / 0.70, PubMed (13 M)
# 3.48 / 1.14)
_COMPILED_MIN_WORK = 3_000_000
_BIT_CHUNK_FACTOR = 25  # bit-row kernel: chunks of 25x the budget (no per-pair arrays)


def _resolve_workers(workers: int) -> int:
    if not isinstance(workers, int) or isinstance(workers, bool) or workers == 0 or workers < -1:
        raise ValueError(f"workers must be a positive int or -1 (all cores), got {workers!r}")
    if workers == -1:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    return workers


def _can_fork() -> bool:
    """Forked workers inherit the graph and its distance table without copying (Linux only:
    macOS' fork is unsafe with its system libraries, Windows has none); a daemonic process (a
    ``multiprocessing.Pool`` worker) may not have children."""
    return (
        sys.platform.startswith("linux")
        and "fork" in mp.get_all_start_methods()
        and not mp.current_process().daemon
    )


def _init_worker() -> None:
    torch.set_num_threads(1)  # one process per core; intra-op threads would oversubscribe


def _chunk_w1(bounds: tuple[int, int]):
    csr, u, v, p, q, table, twins, compiled = _JOB
    lo, hi = bounds
    w1, _ = exact_w1(csr, u[lo:hi], v[lo:hi], p, q, table=table, twins=twins, compiled=compiled)
    return lo, hi, w1.numpy()


def _exact(
    csr: CSR,
    pairs: Tensor,
    alpha: float,
    return_plans: bool,
    chunk_pairs: int,
    verbose: bool,
    select: Tensor | None = None,
    _sorted: bool = False,
    prep: _Prepared | None = None,
    workers: int = 1,
) -> tuple[Tensor, TransportPlans | None]:
    """Exact curvature of ``pairs`` (only of ``pairs[:, select]`` when given: ``nan`` elsewhere);
    plan entries refer to columns of ``pairs``."""
    if select is not None:
        kappa_sel, tp = _exact(
            csr,
            pairs[:, select],
            alpha,
            return_plans,
            chunk_pairs,
            verbose,
            prep=prep,
            workers=workers,
        )
        kappa = torch.full((pairs.size(1),), math.nan, dtype=torch.float64, device=pairs.device)
        kappa[select] = kappa_sel
        if tp is not None:
            tp.pair = select[tp.pair]
        return kappa, tp
    deg = csr.deg
    if pairs.size(1) > 1 and not return_plans and not _sorted:
        # chunks of edges with similar smaller degrees: the close-pair search of a chunk runs
        # as many rounds as its largest smaller side
        order = stable_argsort(torch.minimum(deg[pairs[0]], deg[pairs[1]]))
        kappa_o, _ = _exact(
            csr,
            pairs[:, order],
            alpha,
            False,
            chunk_pairs,
            verbose,
            _sorted=True,
            prep=prep,
            workers=workers,
        )
        kappa = torch.empty_like(kappa_o)
        kappa[order] = kappa_o
        return kappa, None
    u, v = pairs[0], pairs[1]
    du, dv = deg[u], deg[v]
    big = int((du * dv).max()) if u.numel() else 1
    max_scale = (2**30) // (3 * max(big, 1))
    p, q = alpha_fraction(alpha, max_scale)
    work = (du + 1) * (dv + 1)
    table = None
    if prep is not None and chunk_pairs in prep.tables:  # built already for this graph
        table = prep.tables[chunk_pairs]
    elif int((deg * deg).sum()) <= _TABLE_WORK_RATIO * int(work.sum()):  # worth a 2-hop table
        table = distance_table(csr, chunk_pairs) if prep is None else prep.table(chunk_pairs)
    twins = None
    if not return_plans:
        twins = worth_merging(csr, twin_classes(csr)) if prep is None else prep.twin_classes()
    # the compiled close-pair search and max-flow (Numba, optional): always with the sparse
    # table (its SciPy path is the slow one), else where the work repays importing Numba
    # (~0.3-0.6 s)
    total_work = int(work.sum())
    compiled = table is not None and u.device.type == "cpu" and not return_plans
    compiled = compiled and (table.kind == "csr" or total_work >= _COMPILED_MIN_WORK)
    out = torch.empty(u.numel(), dtype=torch.float64, device=u.device)
    plan_parts = []
    budget = chunk_pairs
    if compiled and _exact_module._BIT_FLOW and _kernels.have_kernel():
        # the bit-row kernel keeps nothing per pair: memory per edge is O(deg u + deg v)
        budget = chunk_pairs * _BIT_CHUNK_FACTOR
    elif table is not None and table.batch and not return_plans:
        # a sparse table answers in bulk only (see DistanceTable): chunks of a few lookup calls
        budget = max(chunk_pairs, 3 * table.batch)
    chunks = _chunks(work, budget)
    parallel = workers > 1 and not return_plans and u.device.type == "cpu"
    parallel = parallel and int(work.sum()) >= _PARALLEL_MIN_WORK
    if parallel and not _can_fork():
        warnings.warn(
            f"workers={workers}: forked worker processes are unavailable here (Linux only, and "
            "not inside a daemonic process); running in this process",
            RuntimeWarning,
            stacklevel=3,
        )
        parallel = False
    if parallel and len(chunks) < workers:  # small graph: one chunk per worker
        chunks = _chunks(work, -(-int(work.sum()) // workers))
    if parallel and len(chunks) > 1:
        global _JOB
        if compiled and _kernels.have_kernel():  # compile here once, not in every worker
            _kernels.warm_up(table.kind, table.arrays(), table.n)
        _JOB = (csr, u, v, p, q, table, twins, compiled)
        ctx = mp.get_context("fork")
        ex = cf.ProcessPoolExecutor(
            min(workers, len(chunks)), mp_context=ctx, initializer=_init_worker
        )
        try:
            # the chunks of the largest small sides (the most rounds) first: a slow one
            # started last would leave the other workers idle
            futs = [ex.submit(_chunk_w1, c) for c in reversed(chunks)]
            done = cf.as_completed(futs)
            for f in tqdm(done, total=len(futs), desc="ORC exact", disable=not verbose):
                lo, hi, w1 = f.result()
                out[lo:hi] = torch.from_numpy(w1)
        except BaseException:  # Ctrl-C or a failed batch: stop now, not after every batch
            # the worker processes first: shutdown() forgets them (`_processes = None`)
            procs = list((getattr(ex, "_processes", None) or {}).values())
            manager = getattr(ex, "_executor_manager_thread", None)
            ex.shutdown(wait=False, cancel_futures=True)
            for proc in procs:  # SIGKILL: a worker busy in compiled code ignores nothing
                proc.kill()
            # the executor's manager thread sees the workers die and reaps them too; of two
            # threads reaping one child only one learns its exit code, so let it finish first
            # (else a reaped worker could look alive to ``multiprocessing.active_children``)
            if manager is not None:
                manager.join(timeout=5)
            for proc in procs:
                proc.join(timeout=5)
            raise
        else:
            ex.shutdown(wait=True)
        finally:
            _JOB = None
        return 1.0 - out, None
    for lo, hi in tqdm(chunks, desc="ORC exact", disable=not verbose):
        w1, plans = exact_w1(
            csr,
            u[lo:hi],
            v[lo:hi],
            p,
            q,
            return_plans=return_plans,
            table=table,
            twins=twins,
            compiled=compiled,
        )
        out[lo:hi] = w1.to(out.device)
        if plans is not None:
            plans["edge"] = plans["edge"] + lo
            plan_parts.append(plans)
    tp = None
    if return_plans:
        cat = (
            {k: torch.cat([pp[k] for pp in plan_parts]) for k in plan_parts[0]}
            if plan_parts
            else None
        )
        if cat is None:
            z = torch.zeros(0, dtype=torch.long, device=u.device)
            tp = TransportPlans(z, z, z, z.to(torch.float64), z)
        else:
            tp = TransportPlans(cat["edge"], cat["src"], cat["dst"], cat["mass"], cat["dist"])
    return 1.0 - out, tp


def ollivier_ricci(
    edge_index: Tensor,
    num_nodes: int | None = None,
    alpha: float = 0.0,
    method: str = "exact",
    *,
    return_plans: bool = False,
    reg: float = 0.1,
    max_iter: int = 2000,
    tol: float = 1e-6,
    chunk_pairs: int = 4_000_000,
    edges: Tensor | None = None,
    workers: int = 1,
    verbose: bool = False,
) -> OllivierRicciResult:
    r"""Ollivier-Ricci curvature :math:`\kappa_\alpha(u, v) = 1 - W_1(m_u^\alpha, m_v^\alpha)` of
    every edge, from "Ricci curvature of Markov chains on metric spaces" (Ollivier, 2009), as used
    by `LCP <https://arxiv.org/abs/2311.14864>`_ and `BORF <https://arxiv.org/abs/2211.15779>`_.

    .. math::
        m_x^\alpha = \alpha\, \delta_x + \frac{1 - \alpha}{\deg x} \sum_{y \sim x} \delta_y,
        \qquad W_1(\mu, \nu) = \min_{\pi \in \Pi(\mu, \nu)} \sum_{p, q} \pi(p, q)\, d(p, q).

    The graph is taken as simple and undirected (:func:`graphsmooth.graph.simple_undirected`):
    duplicate columns share one value, self-loop columns get ``nan`` (their curvature is
    undefined; the loop is ignored in degrees), and a directed ``edge_index`` is symmetrised with
    a :class:`UserWarning`. Isolated nodes carry no edge. A degree-1 endpoint is a point mass.

    Methods:

    * ``"exact"``: exact :math:`W_1`. Distances between the two neighbourhoods are 0..3 and are
      read off the CSR structure (adjacency, common neighbours), never from an all-pairs matrix.
      The cancelled problems of all edges form one maximum-closure / max-flow problem solved by a
      compiled routine in chunks (see :mod:`graphsmooth.curvature._exact`); exact in rational
      arithmetic up to the final division, for :math:`\alpha = p/q` with a small denominator.
      With Numba installed (``pip install graphsmooth[fast]``), the search for the pairs at
      distance 1 or 2 is one compiled loop and the max-flows are solved per problem by a
      compiled Dinic (:mod:`graphsmooth.curvature._kernels`) on graphs above 65,536 nodes
      and wherever the transport problems hold at least 20 M variables;
      ``GRAPHSMOOTH_NO_NUMBA=1`` turns them off. The values are the same either way.
    * ``"bounds"``: the Jost-Liu combinatorial bounds (:func:`jost_liu_bounds`);
      ``curvature`` is their midpoint, ``lower`` / ``upper`` the bounds.
    * ``"sinkhorn"``: batched log-domain entropic OT (``reg`` times the cost scale), an
      approximation of :math:`W_1` from above; warns if ``max_iter`` is reached before ``tol``.

    Args:
        edge_index (torch.Tensor): ``[2, E_in]`` edges.
        num_nodes (int, optional): number of nodes. (default: ``None``)
        alpha (float): idleness :math:`\alpha \in [0, 1)`. (default: ``0.0``)
        method (str): ``"exact"``, ``"bounds"`` or ``"sinkhorn"``. (default: ``"exact"``)
        return_plans (bool): also return optimal plans (``"exact"`` only). (default: ``False``)
        reg (float): entropic regularisation for ``"sinkhorn"`` in hop units (GraphRicciCurvature
            hard-codes 0.1; smaller is more accurate but converges slowly). (default: ``0.1``)
        max_iter (int): Sinkhorn iterations. (default: ``2000``)
        tol (float): Sinkhorn tolerance on the L1 marginal error. (default: ``1e-6``)
        chunk_pairs (int): transport variables per batch (memory knob). Graphs above 65,536
            nodes look distances up in a sparse table that answers in bulk only, so their
            batches hold at least ``0.3`` times its entries (:math:`\sim\sum_x \deg(x)^2`).
            (default: ``4_000_000``)
        edges (torch.Tensor, optional): ``[2, K]`` edges of the graph (either orientation) to
            evaluate; the others get ``nan`` (and no plan). The cost is that of the ``K`` edges
            alone, whatever the size of the graph — BORF uses it for its incremental updates.
            ``"exact"`` and ``"bounds"`` only. (default: ``None`` = every edge)
        workers (int): processes for ``"exact"`` without plans: the batches are solved in
            ``workers`` forked processes (Linux), which inherit the graph and its distance
            table without copying; ``-1`` uses every core this process may run on. The
            exact solver's own hot loops are single-threaded compiled routines (SciPy holds
            the GIL), so processes, not threads, use a second core. Each worker runs one torch
            thread. Problems under 20 M transport variables (Cora: 0.5 M) run here, where
            a fork (about 15-30 ms) costs more than it saves. Elsewhere (not Linux, or inside a
            daemonic process) the call runs here with a :class:`RuntimeWarning`.
            (default: ``1``)
        verbose (bool): progress bar. (default: ``False``)

    Returns:
        OllivierRicciResult

    Shapes:
        - **input:** ``edge_index`` :math:`(2, |E_{in}|)`
        - **output:** ``curvature`` :math:`(|E_{in}|)`, ``pair_curvature`` :math:`(|E|)`
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    alpha = float(alpha)
    if not (0.0 <= alpha < 1.0):
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    if return_plans and method != "exact":
        raise ValueError("return_plans=True needs method='exact'")
    if reg <= 0:
        raise ValueError(f"reg must be positive, got {reg}")
    workers = _resolve_workers(workers)
    prep = _prepare(edge_index, num_nodes)
    n, csr, pairs = prep.n, prep.csr, prep.pairs
    column_pair = _columns_to_pairs(edge_index, pairs, n)
    select = None
    if edges is not None:
        if method == "sinkhorn":
            raise ValueError("edges= is supported by method='exact' and 'bounds', not 'sinkhorn'")
        edges = torch.as_tensor(edges, dtype=torch.long, device=pairs.device)
        if edges.dim() != 2 or edges.size(0) != 2:
            raise ValueError(f"edges must have shape [2, K], got {tuple(edges.shape)}")
        sel = _columns_to_pairs(edges, pairs, n)
        if bool((sel < 0).any()):
            bad = edges[:, sel < 0][:, 0].tolist()
            raise ValueError(f"edges contains {bad}, which is not an edge of the graph")
        select = torch.unique(sel)
    res = OllivierRicciResult(
        curvature=torch.empty(0),
        pairs=pairs,
        pair_curvature=torch.empty(0),
        column_pair=column_pair,
        alpha=alpha,
        method=method,
        num_nodes=n,
    )
    if method == "exact":
        kappa, res.plans = _exact(
            csr,
            pairs,
            alpha,
            return_plans,
            chunk_pairs,
            verbose,
            select,
            prep=prep,
            workers=workers,
        )
    elif method == "bounds":
        if select is None:
            lo, up = pair_bounds(csr, pairs[0], pairs[1], alpha)
        else:
            lo = torch.full((pairs.size(1),), math.nan, dtype=torch.float64, device=pairs.device)
            up = lo.clone()
            lo[select], up[select] = pair_bounds(csr, pairs[0, select], pairs[1, select], alpha)
        res.pair_lower, res.pair_upper = lo, up
        res.lower, res.upper = _per_column(lo, column_pair), _per_column(up, column_pair)
        kappa = 0.5 * (lo + up)
    else:
        from graphsmooth.curvature.sinkhorn import sinkhorn_w1

        w1, converged = sinkhorn_w1(
            csr, pairs, alpha, reg=reg, max_iter=max_iter, tol=tol, verbose=verbose
        )
        if not converged:
            warnings.warn(
                f"Sinkhorn did not converge to tol={tol} in max_iter={max_iter} iterations "
                f"(reg={reg}); increase max_iter or reg",
                RuntimeWarning,
                stacklevel=2,
            )
        kappa = 1.0 - w1
    res.pair_curvature = kappa
    res.curvature = _per_column(kappa, column_pair)
    return res
