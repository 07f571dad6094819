r"""Batched entropic (Sinkhorn) approximation of :math:`W_1(m_u^\alpha, m_v^\alpha)`.

Each edge's problem is the full pair of neighbourhood measures (no cancellation: entropic OT is
not a function of :math:`\mu - \nu`). Problems are grouped in buckets of equal padded size
(powers of two) and solved together in the log domain (Cuturi 2013; Peyre & Cuturi 2019,
Section 4.4):

.. math::
    f \leftarrow \varepsilon \log a - \varepsilon \operatorname{LSE}_j \frac{g_j - C_{ij}}{\varepsilon},
    \qquad
    g \leftarrow \varepsilon \log b - \varepsilon \operatorname{LSE}_i \frac{f_i - C_{ij}}{\varepsilon},

and :math:`W_1 \approx \langle P, C \rangle` with :math:`P_{ij} = e^{(f_i + g_j - C_{ij})/\varepsilon}`.
Runs on the device of the input (GPU as is).
"""

from __future__ import annotations

import torch
from torch import Tensor
from tqdm.auto import tqdm

from graphsmooth.curvature._exact import pair_costs
from graphsmooth.graph import CSR, expand_neighbors

__all__ = ["sinkhorn_w1"]


def _supports(csr: CSR, x: Tensor, alpha: float) -> tuple[Tensor, Tensor, Tensor]:
    """(segment, node, mass) of the measures m_x for each x, grouped by segment."""
    seg, node = expand_neighbors(csr, x)
    deg = csr.deg[x].to(torch.float64)
    mass = (1.0 - alpha) / deg[seg]
    if alpha > 0:
        ar = torch.arange(x.numel(), device=x.device)
        seg = torch.cat([seg, ar])
        node = torch.cat([node, x])
        mass = torch.cat([mass, torch.full((x.numel(),), alpha, dtype=torch.float64)])
        order = torch.argsort(seg, stable=True)
        seg, node, mass = seg[order], node[order], mass[order]
    return seg, node, mass


def _pad(seg: Tensor, val: Tensor, n_rows: int, width: int, fill) -> Tensor:
    cnt = torch.bincount(seg, minlength=n_rows)
    off = torch.cumsum(cnt, 0) - cnt
    col = torch.arange(seg.numel(), device=seg.device) - off[seg]
    out = torch.full((n_rows, width), fill, dtype=val.dtype, device=val.device)
    out[seg, col] = val
    return out


def sinkhorn_w1(
    csr: CSR,
    pairs: Tensor,
    alpha: float = 0.0,
    *,
    reg: float = 0.05,
    max_iter: int = 2000,
    tol: float = 1e-9,
    verbose: bool = False,
) -> tuple[Tensor, bool]:
    r"""Entropic :math:`W_1` of every edge of ``pairs`` (``[2, E]``).

    Returns:
        (w1, converged): ``float64 [E]`` transport costs of the entropic plans, and whether every
        bucket reached the marginal tolerance ``tol`` within ``max_iter`` iterations.
    """
    u, v = pairs[0], pairs[1]
    E = u.numel()
    out = torch.zeros(E, dtype=torch.float64, device=u.device)
    if E == 0:
        return out, True
    size_u = csr.deg[u] + (1 if alpha > 0 else 0)
    size_v = csr.deg[v] + (1 if alpha > 0 else 0)
    bu = torch.ceil(torch.log2(size_u.double())).long()
    bv = torch.ceil(torch.log2(size_v.double())).long()
    bucket = bu * 64 + bv
    converged = True
    keys = torch.unique(bucket)
    for key in tqdm(keys.tolist(), desc="ORC sinkhorn", disable=not verbose):
        idx = (bucket == key).nonzero().flatten()
        wu, wv = 1 << (key // 64), 1 << (key % 64)
        # limit the batch so that the [B, wu, wv] cost tensor stays moderate
        step = max(1, 8_000_000 // (wu * wv))
        for start in range(0, idx.numel(), step):
            ids = idx[start : start + step]
            B = ids.numel()
            su, nu, mu = _supports(csr, u[ids], alpha)
            sv, nv, mv = _supports(csr, v[ids], alpha)
            a = _pad(su, mu, B, wu, 0.0)
            b = _pad(sv, mv, B, wv, 0.0)
            xu = _pad(su, nu, B, wu, -1)
            xv = _pad(sv, nv, B, wv, -1)
            s = xu[:, :, None].expand(B, wu, wv)
            t = xv[:, None, :].expand(B, wu, wv)
            valid = (s >= 0) & (t >= 0)
            C = torch.zeros(B, wu, wv, dtype=torch.float64, device=u.device)
            diff = valid & (s != t)
            C[diff] = pair_costs(csr, s[diff], t[diff]).to(torch.float64)
            la, lb = a.log(), b.log()
            f = torch.zeros_like(a)
            g = torch.zeros_like(b)
            ok = False
            for it in range(max_iter):
                f = reg * la - reg * torch.logsumexp((g[:, None, :] - C) / reg, dim=2)
                g = reg * lb - reg * torch.logsumexp((f[:, :, None] - C) / reg, dim=1)
                if it % 10 == 9 or it == max_iter - 1:
                    P = torch.exp((f[:, :, None] + g[:, None, :] - C) / reg)
                    err = (P.sum(2) - a).abs().sum(1).max()
                    if float(err) < tol:
                        ok = True
                        break
            P = torch.exp((f[:, :, None] + g[:, None, :] - C) / reg)
            out[ids] = (P * C).sum((1, 2))
            converged &= ok
    return out, converged
