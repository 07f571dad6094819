r"""Graph Filter and Graph Smoother for factorial HMMs.

From "Exploiting locality in high-dimensional factorial hidden Markov models"
(Rimella & Whiteley, JMLR 2022, https://arxiv.org/abs/1902.01639), Algorithms 1-2 and Appendix.

Let :math:`\mathcal{K}` be a partition of the components into blocks and :math:`d` the hop
distance of the factor graph (components and factors as the nodes of one bipartite graph). For a
block :math:`K` and locality radius :math:`m`,

.. math::
    N_v^m(K) = \{v \in V : d(v, K) \le 2m + 2\}, \qquad
    N_f^m(K) = \{f \in F : d(f, K) \le 2m + 1\}.

The Graph Filter keeps a product over blocks :math:`\tilde\pi_t = \bigotimes_K \tilde\pi_t^K`.
One step predicts with the factorised transition (the product form is kept,
:math:`(\tilde\pi_{t-1} P)^K = \tilde\pi_{t-1}^K P^K`, :math:`P^K = \bigotimes_{v \in K} P^v`),
then corrects every block with only its nearby factors:

.. math::
    \tilde\pi_t^K(x^K) \propto \sum_{x^{N_v^m(K) \setminus K}}
    \Big[\bigotimes_{K'} (\tilde\pi_{t-1} P)^{K' \cap N_v^m(K)}\Big](x^{N_v^m(K)})
    \prod_{f \in N_f^m(K)} g_f(x^{N(f)}, y_t^f).

The Graph Smoother runs the backward kernel of each block with the approximate filter:

.. math::
    \tilde\pi_{t|T}^K(x) = \tilde\pi_t^K(x) \sum_z P^K(x, z)
    \frac{\tilde\pi_{t+1|T}^K(z)}{\sum_{x'} \tilde\pi_t^K(x') P^K(x', z)},

with per-component pairwise marginals :math:`\xi_t^v(a, b)` (marginals of
:math:`\tilde\pi_t^K(x) P^K(x, z) \tilde\pi_{t+1|T}^K(z) / \tilde\pi_{t+1|t}^K(z)`) for EM.

Implementation. The neighbourhoods come from :func:`graphsmooth.graph.hop_distances` on the
factor graph (one vectorised bounded BFS from all components). Blocks are grouped by
``(|K|, |N_v^m(K)|)``; within a group every block has the same number :math:`C = L^n` of local
configurations, so one step is a handful of batched tensor operations per group:

* the log of the product of predicted marginals on :math:`N_v^m(K)` is a broadcast (Kronecker)
  sum for singleton blocks, or one gather from marginals of the other blocks otherwise;
* :math:`\sum_{f \in N_f^m(K)} \log g_f` is one gather from the factor tables, computed for a
  chunk of time steps at once (it does not depend on the filter);
* the correction and the marginalisation onto :math:`K` are a ``logsumexp`` over a reshaped
  ``[B, L^{|K|}, L^{n-|K|}]`` tensor.

The cost per step is :math:`\sum_K L^{|N_v^m(K)|}(|N_v^m(K)| + |N_f^m(K)|)`: linear in
:math:`M` for bounded-degree factor graphs (chain, singletons: :math:`O(M L^{2m+3})`).
With one block :math:`K = V` the Graph Filter is the exact filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphsmooth.hmm.exact import SmootherResult
from graphsmooth.hmm.factorial import (
    FactorialHMM,
    FactorTables,
    _configs,
    check_observations,
    factor_log_tables,
)

__all__ = [
    "GraphFilterPlan",
    "GraphFilterResult",
    "graph_filter",
    "graph_filter_plan",
    "graph_smoother",
    "one_step_predictive",
]

#: default largest number of local configurations L^|N_v^m(K)| accepted per block
DEFAULT_MAX_LOCAL_STATES = 2**16
#: number of float entries of the factor-likelihood gather computed in one time chunk
_CHUNK_ENTRIES = 2**23


def _graph_ops():
    # imported lazily: graphsmooth.graph pulls in networkx for its converters
    from graphsmooth.graph import hop_distances, to_csr

    return to_csr, hop_distances


# --------------------------------------------------------------------------------------------
# Plan: neighbourhoods, groups and index tensors (depends on the model's structure only)
# --------------------------------------------------------------------------------------------
@dataclass
class _Group:
    blocks: Tensor  # long [B] block ids
    k: int  # block size
    n: int  # |N_v^m(K)|
    local: Tensor  # long [B, n] local components, block members first
    fac_idx: Tensor  # long [B, Fg, C] columns of FactorTables.flat (pad -> pad column)
    prior_idx: Tensor | None = None  # long [B, C, P] into piece log-marginals (general path)


@dataclass
class GraphFilterPlan:
    r"""Neighbourhoods and index tensors of the Graph Filter for one model structure.

    Built by :func:`graph_filter_plan`; reusable across parameter values with the same
    components, states, scopes, ``m`` and blocks (as in EM).

    Attributes:
        m (int): locality radius.
        members (torch.Tensor): ``long [NB, kmax]`` block members, ``-1`` padded.
        block_size (torch.Tensor): ``long [NB]``.
        num_local_components (torch.Tensor): ``long [NB]`` :math:`|N_v^m(K)|`.
        num_local_factors (torch.Tensor): ``long [NB]`` :math:`|N_f^m(K)|`.
    """

    m: int
    num_components: int
    num_factors: int
    L: int
    members: Tensor
    block_size: Tensor
    num_local_components: Tensor
    num_local_factors: Tensor
    groups: list[_Group] = field(repr=False)
    singletons: bool = True
    # general path only
    piece_block: Tensor | None = field(default=None, repr=False)  # long [NP]
    piece_target: Tensor | None = field(default=None, repr=False)  # long [NP, L**kmax]
    piece_total: int = 0

    @property
    def num_blocks(self) -> int:
        return int(self.members.shape[0])

    def local_cost(self) -> int:
        r""":math:`\sum_K L^{|N_v^m(K)|} (|N_v^m(K)| + |N_f^m(K)|)`, the work per time step."""
        n = self.num_local_components
        return int(((self.L**n) * (n + self.num_local_factors)).sum())


def _check_blocks(blocks, M: int) -> tuple[Tensor, Tensor]:
    if blocks is None:
        members = torch.arange(M)[:, None]
        return members, torch.ones(M, dtype=torch.long)
    rows = [list(map(int, b)) for b in blocks]
    flat = [v for r in rows for v in r]
    if all(len(r) == 1 for r in rows) and sorted(flat) == list(range(M)):
        # singletons carry no order: block v is component v
        return torch.arange(M)[:, None], torch.ones(M, dtype=torch.long)
    if any(len(r) == 0 for r in rows):
        raise ValueError("blocks: every block must be non-empty")
    if sorted(flat) != list(range(M)):
        raise ValueError(
            f"blocks must be a partition of the {M} components (each exactly once); got "
            f"{len(flat)} entries covering {len(set(flat))} distinct components"
        )
    kmax = max(len(r) for r in rows)
    members = torch.full((len(rows), kmax), -1, dtype=torch.long)
    for i, r in enumerate(rows):
        members[i, : len(r)] = torch.tensor(r)
    return members, (members >= 0).sum(1)


def graph_filter_plan(
    model: FactorialHMM,
    m: int,
    blocks: Sequence[Sequence[int]] | None = None,
    max_local_states: int = DEFAULT_MAX_LOCAL_STATES,
) -> GraphFilterPlan:
    r"""Neighbourhoods :math:`N_v^m(K)`, :math:`N_f^m(K)` and the batched index tensors.

    Args:
        model (FactorialHMM): the model (only its structure is used).
        m (int): locality radius :math:`m \ge 0`.
        blocks (list of lists, optional): a partition of the components. (default: ``None``:
            singletons)
        max_local_states (int): refuse (``ValueError``) a block whose neighbourhood has more
            than this many configurations :math:`L^{|N_v^m(K)|}`. (default: ``2**16``)

    Returns:
        GraphFilterPlan
    """
    if isinstance(m, bool) or not isinstance(m, int) or m < 0:
        raise ValueError(f"m must be a non-negative int, got {m!r}")
    M, F, L = model.num_components, model.num_factors, model.L
    members, bsize = _check_blocks(blocks, M)
    NB = members.shape[0]
    singletons = bool((bsize == 1).all())
    block_of = torch.empty(M, dtype=torch.long)
    pos_in_block = torch.empty(M, dtype=torch.long)
    valid = members >= 0
    block_of[members[valid]] = torch.arange(NB)[:, None].expand_as(members)[valid]
    pos_in_block[members[valid]] = torch.arange(members.shape[1])[None, :].expand_as(members)[valid]

    to_csr, hop_distances = _graph_ops()
    csr = to_csr(model.factor_graph_edge_index(), M + F)
    src, node, dist = hop_distances(csr, torch.arange(M), 2 * m + 2)
    b_src = block_of[src]
    # components within 2m+2 of the block, factors within 2m+1
    is_comp = node < M
    ckeys = torch.unique(b_src[is_comp] * M + node[is_comp])  # sorted by (block, component)
    cb, cu = ckeys // M, ckeys % M
    isf = (~is_comp) & (dist <= 2 * m + 1)
    fkeys = torch.unique(b_src[isf] * F + (node[isf] - M))
    fb, ff = fkeys // F, fkeys % F
    n_local = torch.bincount(cb, minlength=NB)
    n_fac = torch.bincount(fb, minlength=NB)
    too_big = (L ** n_local.double()) > max_local_states
    if too_big.any():
        b = int(torch.nonzero(too_big)[0])
        raise ValueError(
            f"block {b} has |N_v^m(K)| = {int(n_local[b])} components within distance 2m+2 = "
            f"{2 * m + 2}: {L}^{int(n_local[b])} local states > max_local_states = "
            f"{max_local_states}; use a smaller m or raise max_local_states"
        )
    # local order: block members first (in block order), then the others by index
    member = block_of[cu] == cb
    sort_key = cb * (2 * M) + torch.where(member, pos_in_block[cu], M + cu)
    order = torch.argsort(sort_key)
    u_sorted = cu[order]
    cstart = torch.zeros(NB + 1, dtype=torch.long)
    cstart[1:] = torch.cumsum(n_local, 0)
    local_pos = torch.empty_like(order)
    local_pos[order] = torch.arange(order.numel()) - cstart[cb[order]]
    # factor lists per block: fkeys sorted by (block, factor), block b owns fstart[b]:fstart[b+1]
    fstart = torch.zeros(NB + 1, dtype=torch.long)
    fstart[1:] = torch.cumsum(n_fac, 0)
    offset = _table_offsets(model)
    pad_col = int(offset[-1])
    scope, ssize = model.scope, model.scope_size
    S = scope.shape[1]

    groups: list[_Group] = []
    gkey = bsize * (M + 1) + n_local
    for key in torch.unique(gkey).tolist():
        gb = torch.nonzero(gkey == key).flatten()
        k, n = int(bsize[gb[0]]), int(n_local[gb[0]])
        B = gb.numel()
        local = u_sorted[cstart[gb][:, None] + torch.arange(n)[None, :]]  # [B, n]
        cfg = _configs(L, n)  # [C, n]
        # factor index tensor [B, Fg, C]
        Fg = int(n_fac[gb].max()) if B else 0
        jj = torch.arange(max(Fg, 1))[None, :]
        has = jj < n_fac[gb][:, None]  # [B, Fg]
        fpos = (fstart[gb][:, None] + jj).clamp(max=max(ff.numel() - 1, 0))
        fac = torch.where(has, ff[fpos] if ff.numel() else torch.zeros_like(fpos), 0)  # [B, Fg]
        sc = scope[fac]  # [B, Fg, S]
        sval = (sc >= 0) & has[:, :, None]
        qkey = gb[:, None, None] * M + sc.clamp(min=0)
        at = torch.searchsorted(ckeys, qkey).clamp(max=ckeys.numel() - 1)
        if not bool((ckeys[at] == qkey)[sval].all()):  # pragma: no cover - distance invariant
            raise RuntimeError("internal error: a factor scope left its block neighbourhood")
        pos = torch.where(sval, local_pos[at], 0)  # [B, Fg, S]
        expo = (ssize[fac][:, :, None] - 1 - torch.arange(S)[None, None, :]).clamp(min=0)
        w = torch.where(sval, L**expo, 0)  # [B, Fg, S]
        digits = cfg.T[pos]  # [B, Fg, S, C]
        idx = (digits * w[..., None]).sum(2) + offset[:-1][fac][..., None]
        idx = torch.where(has[..., None], idx, pad_col)[:, : max(Fg, 1)]
        groups.append(_Group(blocks=gb, k=k, n=n, local=local, fac_idx=idx))

    plan = GraphFilterPlan(
        m=m,
        num_components=M,
        num_factors=F,
        L=L,
        members=members,
        block_size=bsize,
        num_local_components=n_local,
        num_local_factors=n_fac,
        groups=groups,
        singletons=singletons,
    )
    if not singletons:
        _general_prior_plan(plan, block_of, pos_in_block)
    return plan


def _table_offsets(model: FactorialHMM) -> Tensor:
    """``long [F + 1]`` table offsets (the last entry is the pad column), as factor_log_tables."""
    width = model.L**model.scope_size
    off = torch.zeros(model.num_factors + 1, dtype=torch.long)
    off[1:] = torch.cumsum(width, 0)
    return off


def _general_prior_plan(plan: GraphFilterPlan, block_of: Tensor, pos_in_block: Tensor) -> None:
    """Pieces: marginals of the block tables on ``K' ∩ N_v^m(K)`` and their local gathers."""
    L = plan.L
    kmax = int(plan.members.shape[1])
    Cmax = L**kmax
    piece_block: list[int] = []
    piece_target: list[Tensor] = []
    total = 0
    bs = plan.block_size
    for g in plan.groups:  # setup only: loops over blocks are not in the hot path
        cfg = _configs(L, g.n)  # [C, n]
        per_block: list[list[Tensor]] = []
        for bi in range(g.blocks.numel()):
            loc = g.local[bi]
            owners = block_of[loc]
            idx_list = []
            for kb in torch.unique(owners).tolist():
                p = torch.nonzero(owners == kb).flatten()  # local positions
                q = pos_in_block[loc[p]]  # positions in block kb
                srt = torch.argsort(q)
                p, q = p[srt], q[srt]
                r = p.numel()
                wts = L ** torch.arange(r - 1, -1, -1)
                # target of each padded config of block kb in this piece's table
                k_b = int(bs[kb])
                c_all = torch.arange(Cmax)
                dig = (c_all[:, None] // (L ** (k_b - 1 - q))[None, :]) % L  # [Cmax, r]
                piece_target.append(total + (dig * wts).sum(1))
                piece_block.append(kb)
                idx_list.append(total + (cfg[:, p] * wts).sum(1))  # [C]
                total += L**r
            per_block.append(idx_list)
        P = max(len(x) for x in per_block)
        C = cfg.shape[0]
        prior = torch.full((g.blocks.numel(), C, P), -1, dtype=torch.long)
        for bi, lst in enumerate(per_block):
            for j, t in enumerate(lst):
                prior[bi, :, j] = t
        g.prior_idx = prior  # -1 -> pad (fixed once total is known)
    for g in plan.groups:
        g.prior_idx = torch.where(g.prior_idx < 0, total, g.prior_idx)
    plan.piece_block = torch.tensor(piece_block, dtype=torch.long)
    plan.piece_target = torch.stack(piece_target)
    plan.piece_total = total


# --------------------------------------------------------------------------------------------
# Filter
# --------------------------------------------------------------------------------------------
@dataclass
class GraphFilterResult:
    """Graph Filter output.

    Attributes:
        marginals (torch.Tensor): ``[T, M, L]`` approximate filtering marginals.
        block_tables (torch.Tensor): ``[T, NB, L**kmax]`` joint filtering distribution of each
            block (first ``L**|K|`` entries, first member most significant; zeros beyond).
        log_normalizers (torch.Tensor): ``[T, NB]`` log of each block's local normaliser
            :math:`\\log \\sum_x (\\tilde\\pi_{t-1}P)(x) \\prod_{f \\in N_f^m(K)} g_f`.
        plan (GraphFilterPlan): the neighbourhoods used.
    """

    marginals: Tensor
    block_tables: Tensor
    log_normalizers: Tensor
    plan: GraphFilterPlan


def _kron_logsum(logp: Tensor, local: Tensor) -> Tensor:
    """``[B, L**n]`` :math:`\\sum_i \\log p_{local_i}(x_i)` over all local configurations."""
    B, n = local.shape
    out = logp[local[:, 0]]  # [B, L]
    for i in range(1, n):
        out = (out[:, :, None] + logp[local[:, i]][:, None, :]).reshape(B, -1)
    return out


def _predict_blocks(tables: Tensor, plan: GraphFilterPlan, P: Tensor) -> Tensor:
    """Apply :math:`P^K` to every block table ``[..., NB, L**kmax]`` (general path)."""
    L = plan.L
    out = torch.zeros_like(tables)
    lead = tables.shape[:-2]
    for k in torch.unique(plan.block_size).tolist():
        bk = torch.nonzero(plan.block_size == k).flatten()
        x = tables[..., bk, : L**k].reshape(*lead, bk.numel(), *([L] * k))
        nl = len(lead)
        for i in range(k):
            Pi = P[plan.members[bk, i]]  # [Bk, L, L]
            x = torch.movedim(x, nl + 1 + i, -1)
            shp = x.shape
            x = (x.reshape(*lead, bk.numel(), L ** (k - 1), L) @ Pi).reshape(shp)
            x = torch.movedim(x, -1, nl + 1 + i)
        out[..., bk, : L**k] = x.reshape(*lead, bk.numel(), L**k)
    return out


def _block_component_marginals(tables: Tensor, plan: GraphFilterPlan) -> Tensor:
    """``[..., M, L]`` component marginals of block tables ``[..., NB, L**kmax]``."""
    L, M = plan.L, plan.num_components
    lead = tables.shape[:-2]
    out = torch.empty(*lead, M, L, dtype=tables.dtype)
    for k in torch.unique(plan.block_size).tolist():
        bk = torch.nonzero(plan.block_size == k).flatten()
        x = tables[..., bk, : L**k].reshape(*lead, bk.numel(), *([L] * k))
        nl = len(lead)
        for i in range(k):
            dims = [nl + 1 + j for j in range(k) if j != i]
            mi = x.sum(dims) if dims else x
            out[..., plan.members[bk, i], :] = mi
    return out


def _zero_error(t: int, block: int) -> ValueError:
    return ValueError(
        f"observation at time step t={t} has zero likelihood under every local state of block "
        f"{block} with positive predicted probability (check the data and emission parameters)"
    )


def graph_filter(
    model: FactorialHMM,
    y: Tensor,
    m: int = 0,
    blocks: Sequence[Sequence[int]] | None = None,
    plan: GraphFilterPlan | None = None,
    verbose: bool = False,
) -> GraphFilterResult:
    r"""The Graph Filter (Rimella & Whiteley 2022, Algorithm 1) with locality radius ``m``.

    Args:
        model (FactorialHMM): the model.
        y (torch.Tensor): ``[T, F]`` observations.
        m (int): locality radius: factors within :math:`2m+1` and components within
            :math:`2m+2` of each block are used. (default: ``0``)
        blocks (list of lists, optional): partition of the components. (default: ``None``:
            singletons)
        plan (GraphFilterPlan, optional): a precomputed :func:`graph_filter_plan` (then ``m``
            and ``blocks`` are ignored). (default: ``None``)
        verbose (bool): show a progress bar over time. (default: ``False``)

    Returns:
        GraphFilterResult

    Raises:
        ValueError: when an observation has zero likelihood under every local state (names the
            time step), or when a neighbourhood is too large.
    """
    y = check_observations(model, y)
    if plan is None:
        plan = graph_filter_plan(model, m, blocks)
    _check_plan(plan, model)
    tables = factor_log_tables(model, y)
    T, L = y.shape[0], model.L
    kmax = int(plan.members.shape[1])
    NB = plan.num_blocks
    P = model.transition
    block_tab = torch.zeros(T, NB, L**kmax, dtype=torch.float64)
    lognorm = torch.empty(T, NB, dtype=torch.float64)
    # initial "prediction": product of the initial distributions
    if plan.singletons:
        pred = model.initial.clone()  # [M, L]
    else:
        init_tab = _product_tables(model.initial, plan)  # [NB, L**kmax]
        pred = init_tab
    chunk = _chunk_len(plan)
    lik: list[Tensor] = []
    t0 = -1
    for t in tqdm(range(T), disable=not verbose, desc="graph filter", leave=False):
        if t0 < 0 or t >= t0 + chunk:
            _raise_if_bad(lognorm, max(t0, 0), t, plan)  # stop early on a bad chunk
            t0 = t
            lik = _local_loglik(tables, plan, t, min(t + chunk, T))
        if t > 0:
            if plan.singletons:
                prev = block_tab[t - 1, :, :L]
                pred = torch.bmm(prev[:, None, :], P).squeeze(1)
            else:
                pred = _predict_blocks(block_tab[t - 1], plan, P)
        if plan.singletons:
            logp = torch.log(pred)
        else:
            logpm = _piece_logmarginals(pred, plan)
        for g, lg in zip(plan.groups, lik, strict=True):
            if plan.singletons:
                lp = _kron_logsum(logp, g.local)
            else:
                lp = logpm[g.prior_idx].sum(-1)
            lp = lp + lg[t - t0]
            B = lp.shape[0]
            # normalise in log space up to one max per block, marginalise onto K by a sum
            mx = lp.amax(dim=-1, keepdim=True)
            w = torch.exp(lp - mx).view(B, L**g.k, -1).sum(-1)  # [B, L**k]
            z = w.sum(-1, keepdim=True)
            block_tab[t, g.blocks, : L**g.k] = w / z
            lognorm[t, g.blocks] = (torch.log(z) + mx).squeeze(-1)
    _raise_if_bad(lognorm, 0, T, plan)
    marg = block_tab[:, :, :L] if plan.singletons else _block_component_marginals(block_tab, plan)
    if plan.singletons:
        marg = marg.clone()
    return GraphFilterResult(
        marginals=marg, block_tables=block_tab, log_normalizers=lognorm, plan=plan
    )


def _check_plan(plan: GraphFilterPlan, model: FactorialHMM) -> None:
    if (plan.num_components, plan.num_factors, plan.L) != (
        model.num_components,
        model.num_factors,
        model.L,
    ):
        raise ValueError("plan was built for a model with a different structure")


def _raise_if_bad(lognorm: Tensor, t0: int, t1: int, plan: GraphFilterPlan) -> None:
    if t1 <= t0:
        return
    bad = ~torch.isfinite(lognorm[t0:t1])
    if bad.any():
        t, b = torch.nonzero(bad)[0].tolist()
        raise _zero_error(t0 + t, b)


def _chunk_len(plan: GraphFilterPlan) -> int:
    per_t = sum(g.fac_idx.numel() for g in plan.groups)
    return max(1, min(1024, _CHUNK_ENTRIES // max(per_t, 1)))


def _local_loglik(tables: FactorTables, plan: GraphFilterPlan, t0: int, t1: int) -> list[Tensor]:
    """Per group ``[t1 - t0, B, C]`` sums of the local factors' log-likelihoods."""
    flat = tables.flat[t0:t1]
    out = []
    for g in plan.groups:
        B, Fg, C = g.fac_idx.shape
        acc = flat.index_select(1, g.fac_idx[:, 0].reshape(-1))
        for j in range(1, Fg):  # Fg = max |N_f^m(K)| in the group: a small constant
            acc += flat.index_select(1, g.fac_idx[:, j].reshape(-1))
        out.append(acc.view(-1, B, C))
    return out


def _product_tables(marg: Tensor, plan: GraphFilterPlan) -> Tensor:
    """Block tables ``[NB, L**kmax]`` of the product of component distributions ``[M, L]``."""
    L = plan.L
    out = torch.zeros(plan.num_blocks, L ** plan.members.shape[1], dtype=torch.float64)
    for k in torch.unique(plan.block_size).tolist():
        bk = torch.nonzero(plan.block_size == k).flatten()
        mem = plan.members[bk, :k]
        x = marg[mem[:, 0]]
        for i in range(1, k):
            x = (x[:, :, None] * marg[mem[:, i]][:, None, :]).reshape(bk.numel(), -1)
        out[bk, : L**k] = x
    return out


def _piece_logmarginals(block_tables: Tensor, plan: GraphFilterPlan) -> Tensor:
    """Flat log-marginals of the block tables on every piece, with a trailing zero (pad)."""
    src = block_tables[plan.piece_block]  # [NP, Cmax]
    flat = torch.zeros(plan.piece_total + 1, dtype=block_tables.dtype)
    flat.index_add_(0, plan.piece_target.reshape(-1), src.reshape(-1))
    out = torch.log(flat)
    out[-1] = 0.0
    return out


# --------------------------------------------------------------------------------------------
# Smoother
# --------------------------------------------------------------------------------------------
def graph_smoother(
    model: FactorialHMM,
    y: Tensor,
    m: int = 0,
    blocks: Sequence[Sequence[int]] | None = None,
    plan: GraphFilterPlan | None = None,
    filter_result: GraphFilterResult | None = None,
    verbose: bool = False,
) -> SmootherResult:
    r"""The Graph Smoother (Rimella & Whiteley 2022, Algorithm 2): backward pass per block.

    .. math::
        \tilde\pi_{t|T}^K(x) = \tilde\pi_t^K(x) \sum_z P^K(x, z)\,
        \frac{\tilde\pi_{t+1|T}^K(z)}{\tilde\pi_{t+1|t}^K(z)}, \qquad
        \xi_t^v(a, b) = \sum_{x^v = a,\, z^v = b} \tilde\pi_t^K(x) P^K(x, z)
        \frac{\tilde\pi_{t+1|T}^K(z)}{\tilde\pi_{t+1|t}^K(z)}.

    Args:
        model (FactorialHMM): the model.
        y (torch.Tensor): ``[T, F]`` observations.
        m (int): locality radius of the Graph Filter. (default: ``0``)
        blocks (list of lists, optional): partition of the components. (default: singletons)
        plan (GraphFilterPlan, optional): precomputed plan. (default: ``None``)
        filter_result (GraphFilterResult, optional): a Graph Filter run to reuse.
            (default: ``None``: run it)
        verbose (bool): progress bars. (default: ``False``)

    Returns:
        SmootherResult (``log_likelihood`` is ``None``: the Graph Filter does not estimate it).
    """
    if filter_result is None:
        filter_result = graph_filter(model, y, m, blocks, plan=plan, verbose=verbose)
    plan = filter_result.plan
    P = model.transition
    L = model.L
    filt = filter_result.block_tables  # [T, NB, Cmax]
    T = filt.shape[0]
    if plan.singletons:
        f = filt[:, :, :L]  # [T, M, L]
        pred = torch.einsum("tml,mlk->tmk", f[:-1], P)  # [T-1, M, L] = pi_{t+1|t}
        sm = torch.empty_like(f)
        sm[-1] = f[-1]
        ratio = torch.zeros_like(pred)
        for t in tqdm(
            range(T - 2, -1, -1), disable=not verbose, desc="graph smoother", leave=False
        ):
            r = torch.where(pred[t] > 0, sm[t + 1] / pred[t], torch.zeros((), dtype=f.dtype))
            ratio[t] = r
            sm[t] = f[t] * torch.einsum("mk,mlk->ml", r, P)
        pair = f[:-1, :, :, None] * P[None] * ratio[:, :, None, :]
        return SmootherResult(marginals=sm, pairwise=pair, filter_marginals=f.clone())
    pred = _predict_blocks(filt[:-1], plan, P)  # [T-1, NB, Cmax]
    sm = torch.empty_like(filt)
    sm[-1] = filt[-1]
    ratio = torch.zeros_like(pred)
    PT = P.transpose(1, 2)
    for t in tqdm(range(T - 2, -1, -1), disable=not verbose, desc="graph smoother", leave=False):
        r = torch.where(pred[t] > 0, sm[t + 1] / pred[t], torch.zeros((), dtype=filt.dtype))
        ratio[t] = r
        sm[t] = filt[t] * _predict_blocks(r, plan, PT)
    pair = _block_pairwise(filt[:-1], ratio, plan, P)
    return SmootherResult(
        marginals=_block_component_marginals(sm, plan),
        pairwise=pair,
        filter_marginals=filter_result.marginals,
    )


def _block_pairwise(filt: Tensor, ratio: Tensor, plan: GraphFilterPlan, P: Tensor) -> Tensor:
    r""":math:`\xi_t^v(a, b) = P^v(a, b) \sum_{x^{-v}} \pi^K(x^{-v}, a)
    [(\otimes_{u \ne v} P^u) r](x^{-v}, b)` for every member ``v`` of every block."""
    L, M = plan.L, plan.num_components
    T1 = filt.shape[0]
    out = torch.empty(T1, M, L, L, dtype=filt.dtype)
    for k in torch.unique(plan.block_size).tolist():
        bk = torch.nonzero(plan.block_size == k).flatten()
        Bk = bk.numel()
        pi = filt[:, bk, : L**k].reshape(T1, Bk, *([L] * k))
        r = ratio[:, bk, : L**k].reshape(T1, Bk, *([L] * k))
        for i in range(k):
            tmp = r
            for j in range(k):
                if j == i:
                    continue
                Pj = P[plan.members[bk, j]].transpose(1, 2)  # [Bk, L, L]: z_j -> x_j
                tmp = torch.movedim(tmp, 2 + j, -1)
                shp = tmp.shape
                tmp = (tmp.reshape(T1, Bk, L ** (k - 1), L) @ Pj).reshape(shp)
                tmp = torch.movedim(tmp, -1, 2 + j)
            a = torch.movedim(pi, 2 + i, -1).reshape(T1, Bk, L ** (k - 1), L)
            b = torch.movedim(tmp, 2 + i, -1).reshape(T1, Bk, L ** (k - 1), L)
            s = a.transpose(-1, -2) @ b  # [T1, Bk, L, L]
            out[:, plan.members[bk, i]] = P[plan.members[bk, i]][None] * s
    return out


# --------------------------------------------------------------------------------------------
# One-step predictive
# --------------------------------------------------------------------------------------------
def one_step_predictive(model: FactorialHMM, filter_marginals: Tensor) -> Tensor:
    r"""Predicted component marginals :math:`\tilde\pi_{t|t-1}^v = \tilde\pi_{t-1}^v P^v`.

    Row ``t`` is the law of :math:`X_t^v` given :math:`y_{1:t-1}` (row 0 is the initial
    distribution).

    Args:
        model (FactorialHMM): the model.
        filter_marginals (torch.Tensor): ``[T, M, L]`` filtering marginals.

    Returns:
        torch.Tensor: ``[T, M, L]``.
    """
    filter_marginals = torch.as_tensor(filter_marginals, dtype=model.transition.dtype)
    if filter_marginals.dim() != 3 or filter_marginals.shape[1:] != model.initial.shape:
        raise ValueError(
            f"filter_marginals must be [T, {model.num_components}, {model.L}], got "
            f"{tuple(filter_marginals.shape)}"
        )
    out = torch.empty_like(filter_marginals)
    out[0] = model.initial
    out[1:] = torch.einsum("tml,mlk->tmk", filter_marginals[:-1], model.transition)
    return out
