"""Brute-force references for the FHMM tests (numpy, itertools, networkx, scipy.stats only).

Nothing here uses graphsmooth's tensor code: the joint chain is enumerated explicitly, the full
L^M x L^M transition is an explicit Kronecker product, distances come from networkx.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
from scipy import stats


def configs(M: int, L: int) -> np.ndarray:
    return np.array(list(itertools.product(range(L), repeat=M)), dtype=int)  # first most signif.


def factor_loglik(kind: str, params: dict, scopes, values, y_t, x) -> np.ndarray:
    """[F] log g_f(x, y_t) for one joint configuration x (values: [M, L])."""
    out = []
    for f, sc in enumerate(scopes):
        s = sum(values[v, x[v]] for v in sc)
        if kind == "gaussian":
            out.append(stats.norm.logpdf(y_t[f], params["c"][f] * s, np.sqrt(params["sigma2"][f])))
        else:
            out.append(stats.poisson.logpmf(y_t[f], params["rate"][f] * s))
    return np.array(out)


def joint_loglik_table(kind, params, scopes, values, y, M, L, factor_subset=None):
    """[T, L^M] log-likelihood of each joint configuration (optionally only some factors)."""
    cfg = configs(M, L)
    T = y.shape[0]
    out = np.zeros((T, len(cfg)))
    fs = range(len(scopes)) if factor_subset is None else factor_subset
    for t in range(T):
        for i, x in enumerate(cfg):
            ll = factor_loglik(kind, params, scopes, values, y[t], x)
            out[t, i] = sum(ll[f] for f in fs)
    return out


def full_transition(P: np.ndarray) -> np.ndarray:
    K = np.ones((1, 1))
    for v in range(P.shape[0]):
        K = np.kron(K, P[v])
    return K


def full_initial(mu: np.ndarray) -> np.ndarray:
    K = np.ones(1)
    for v in range(mu.shape[0]):
        K = np.kron(K, mu[v])
    return K


def brute_filter(mu, P, loglik):
    """Forward pass with explicit matrices: filters [T, L^M] and log-likelihood."""
    K = full_transition(P)
    pi = full_initial(mu)
    T = loglik.shape[0]
    out, ll = [], 0.0
    for t in range(T):
        if t > 0:
            pi = out[-1] @ K
        w = pi * np.exp(loglik[t])
        ll += np.log(w.sum())
        out.append(w / w.sum())
    return np.array(out), ll


def path_posterior(mu, P, loglik, M, L):
    """Enumerate all joint paths: smoothed marginals [T, M, L], pairwise [T-1, M, L, L], log Z."""
    K = full_transition(P)
    pi0 = full_initial(mu)
    cfg = configs(M, L)
    S, T = len(cfg), loglik.shape[0]
    marg = np.zeros((T, M, L))
    pair = np.zeros((T - 1, M, L, L))
    Z = 0.0
    weights = []
    for path in itertools.product(range(S), repeat=T):
        w = pi0[path[0]] * np.exp(loglik[0, path[0]])
        for t in range(1, T):
            w *= K[path[t - 1], path[t]] * np.exp(loglik[t, path[t]])
        weights.append((path, w))
        Z += w
    for path, w in weights:
        p = w / Z
        for t in range(T):
            for v in range(M):
                marg[t, v, cfg[path[t], v]] += p
        for t in range(T - 1):
            for v in range(M):
                pair[t, v, cfg[path[t], v], cfg[path[t + 1], v]] += p
    return marg, pair, np.log(Z)


def marginal_on(joint_flat: np.ndarray, M: int, L: int, comps) -> np.ndarray:
    """Marginal of a flat joint on the ordered components ``comps`` (flattened)."""
    J = joint_flat.reshape([L] * M)
    other = tuple(v for v in range(M) if v not in comps)
    m = J.sum(axis=other) if other else J
    kept = [v for v in range(M) if v in comps]
    m = np.transpose(m, [kept.index(v) for v in comps])
    return m.reshape(-1)


def neighbourhoods(M: int, scopes, m: int, blocks):
    """N_v^m(K) and N_f^m(K) by networkx shortest paths on the factor graph."""
    G = nx.Graph()
    G.add_nodes_from(("v", v) for v in range(M))
    for f, sc in enumerate(scopes):
        for v in sc:
            G.add_edge(("v", v), ("f", f))
    Nv, Nf = [], []
    for K in blocks:
        d = {}
        for v in K:
            for node, dist in nx.single_source_shortest_path_length(G, ("v", v), 2 * m + 2).items():
                d[node] = min(d.get(node, 99), dist)
        Nv.append(sorted(n[1] for n, dd in d.items() if n[0] == "v"))
        Nf.append(sorted(n[1] for n, dd in d.items() if n[0] == "f" and dd <= 2 * m + 1))
    return Nv, Nf


def ref_graph_filter(kind, params, scopes, values, mu, P, y, m, blocks):
    """The paper's Graph Filter by definition, on the full joint (tiny M only).

    Returns block joints per time (list over t of list over blocks) and component marginals.
    """
    M, L = mu.shape
    T = y.shape[0]
    Nv, Nf = neighbourhoods(M, scopes, m, blocks)
    lls = [
        joint_loglik_table(kind, params, scopes, values, y, M, L, Nf[b]) for b in range(len(blocks))
    ]
    # block joints at time 0 "prediction": product of initial distributions
    pred_blocks = []
    for K in blocks:
        pred_blocks.append(full_initial(mu[K]))
    out_blocks, out_marg = [], []
    for t in range(T):
        if t > 0:
            pred_blocks = [out_blocks[-1][b] @ full_transition(P[K]) for b, K in enumerate(blocks)]
        # full product joint over V from block joints (blocks reordered into V order)
        joint = np.ones([L] * M)
        for b, K in enumerate(blocks):
            tab = pred_blocks[b].reshape([L] * len(K))
            shape = [1] * M
            order = np.argsort(K)
            tab = np.transpose(tab, order)
            for v in sorted(K):
                shape[v] = L
            joint = joint * tab.reshape(shape)
        joint = joint.reshape(-1)
        new_blocks = []
        for b, K in enumerate(blocks):
            w = joint * np.exp(lls[b][t])
            w = w / w.sum()
            new_blocks.append(marginal_on(w, M, L, K))
        out_blocks.append(new_blocks)
        marg = np.zeros((M, L))
        for b, K in enumerate(blocks):
            for i, v in enumerate(K):
                marg[v] = marginal_on(new_blocks[b], len(K), L, [i])
        out_marg.append(marg)
    return out_blocks, np.array(out_marg)


def ref_graph_smoother(P, blocks, filt_blocks, M, L):
    """Backward recursion of the Graph Smoother with explicit block kernels."""
    T = len(filt_blocks)
    sm = [None] * T
    sm[T - 1] = filt_blocks[T - 1]
    for t in range(T - 2, -1, -1):
        cur = []
        for b, K in enumerate(blocks):
            PK = full_transition(P[K])
            pi = filt_blocks[t][b]
            pred = pi @ PK
            back = np.zeros((len(pi), len(pi)))  # back[z, x]
            for z in range(len(pi)):
                if pred[z] > 0:
                    back[z] = PK[:, z] * pi / pred[z]
            cur.append(sm[t + 1][b] @ back)
        sm[t] = cur
    marg = np.zeros((T, M, L))
    for t in range(T):
        for b, K in enumerate(blocks):
            for i, v in enumerate(K):
                marg[t, v] = marginal_on(sm[t][b], len(K), L, [i])
    return marg
