import numpy as np
import pytest
import torch

from graphsmooth.data.sequences import simulate_fhmm
from graphsmooth.hmm import (
    FactorialHMM,
    PoissonFactors,
    exact_filter,
    exact_smoother,
    gaussian_chain,
    graph_filter,
    graph_filter_plan,
    graph_smoother,
    one_step_predictive,
)
from tests.hmm.helpers import np_model, small_model
from tests.hmm.reference import neighbourhoods, ref_graph_filter, ref_graph_smoother


@pytest.mark.parametrize("kind,M,L", [("gaussian", 5, 2), ("poisson", 4, 3)])
@pytest.mark.parametrize("m", [0, 2])
def test_one_block_is_exact(kind, M, L, m, gen):
    """With K = V the Graph Filter / Smoother are the exact filter / smoother."""
    model, _ = small_model(kind, M=M, L=L, seed=11)
    _, y = simulate_fhmm(model, 30, gen)
    blocks = [list(range(M))]
    gf = graph_filter(model, y, m, blocks)
    ex = exact_filter(model, y)
    torch.testing.assert_close(gf.marginals, ex.marginals, atol=1e-10, rtol=0)
    torch.testing.assert_close(gf.log_normalizers[:, 0], ex.log_normalizers, atol=1e-9, rtol=0)
    gs = graph_smoother(model, y, m, blocks)
    es = exact_smoother(model, y)
    torch.testing.assert_close(gs.marginals, es.marginals, atol=1e-10, rtol=0)
    torch.testing.assert_close(gs.pairwise, es.pairwise, atol=1e-10, rtol=0)


@pytest.mark.parametrize(
    "kind,M,L,scopes,m,blocks",
    [
        ("gaussian", 5, 2, None, 0, None),  # chain, singletons, m = 0
        ("gaussian", 5, 2, None, 1, None),
        ("gaussian", 5, 2, None, 5, None),  # m covers the graph: fully factorised projection
        ("poisson", 4, 3, [[0, 1, 3], [2], [1, 2]], 0, None),
        ("gaussian", 5, 2, None, 0, [[3, 0], [2], [1, 4]]),  # general blocks, unordered
        ("poisson", 5, 2, [[0, 1], [1, 2, 3], [4]], 0, [[0, 1], [2, 3, 4]]),
        ("gaussian", 6, 2, None, 1, [[0, 1, 2], [3], [4, 5]]),
    ],
)
def test_graph_filter_and_smoother_match_definition(kind, M, L, scopes, m, blocks, gen):
    model, params = small_model(kind, M=M, L=L, scopes=scopes, seed=7)
    _, y = simulate_fhmm(model, 8, gen)
    mu, P, values, sc = np_model(model)
    bl = [[v] for v in range(M)] if blocks is None else blocks
    ref_blocks, ref_marg = ref_graph_filter(kind, params, sc, values, mu, P, y.numpy(), m, bl)
    gf = graph_filter(model, y, m, blocks)
    np.testing.assert_allclose(gf.marginals.numpy(), ref_marg, atol=1e-12)
    ref_sm = ref_graph_smoother(P, bl, ref_blocks, M, L)
    gs = graph_smoother(model, y, m, blocks)
    np.testing.assert_allclose(gs.marginals.numpy(), ref_sm, atol=1e-12)
    # pairwise marginals are consistent with the smoothed marginals
    torch.testing.assert_close(gs.pairwise.sum(-1), gs.marginals[:-1], atol=1e-12, rtol=0)
    torch.testing.assert_close(gs.pairwise.sum(-2), gs.marginals[1:], atol=1e-12, rtol=0)


def test_neighbourhoods_match_networkx_and_paper():
    model = gaussian_chain(7)
    for m in (0, 1, 2):
        plan = graph_filter_plan(model, m)
        sc = [[f, f + 1] for f in range(6)]
        Nv, Nf = neighbourhoods(7, sc, m, [[v] for v in range(7)])
        assert plan.num_local_components.tolist() == [len(x) for x in Nv]
        assert plan.num_local_factors.tolist() == [len(x) for x in Nf]
    # paper: chain, singletons, m = 0: N_v = {k-1, k, k+1}, N_f = {k-1, k}
    plan = graph_filter_plan(model, 0)
    g = [g for g in plan.groups if g.n == 3][0]
    row = g.local[(g.blocks == 3).nonzero()[0, 0]].tolist()
    assert row[0] == 3 and sorted(row) == [2, 3, 4]
    assert plan.local_cost() == sum(
        2**n * (n + f)
        for n, f in zip(
            plan.num_local_components.tolist(), plan.num_local_factors.tolist(), strict=True
        )
    )


def test_local_error_falls_with_m(gen):
    M, T = 8, 100
    model = gaussian_chain(M)
    errs = {0: [], 1: [], 2: []}
    for seed in range(3):
        _, y = simulate_fhmm(model, T, torch.Generator().manual_seed(seed))
        ex = exact_filter(model, y).marginals
        for m in errs:
            gf = graph_filter(model, y, m).marginals
            errs[m].append(0.5 * (gf - ex).abs().sum(-1).max(-1).values.mean().item())
    e = {m: np.mean(v) for m, v in errs.items()}
    assert e[0] > e[1] > e[2] > 0


def test_blocks_validation_and_zero_likelihood():
    model = gaussian_chain(4)
    y = torch.zeros(3, 3)
    with pytest.raises(ValueError, match="partition"):
        graph_filter(model, y, 0, [[0, 1], [1, 2, 3]])
    with pytest.raises(ValueError, match="non-negative int"):
        graph_filter(model, y, -1)
    with pytest.raises(ValueError, match="max_local_states"):
        graph_filter_plan(gaussian_chain(30), 20, max_local_states=1000)
    pm = FactorialHMM(
        torch.tensor([1.0, 0.0]), torch.eye(2), PoissonFactors([[0, 1], [1, 2]]), num_components=3
    )
    yy = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    for blocks in (None, [[0, 1], [2]]):
        with pytest.raises(ValueError, match="t=2"):
            graph_filter(pm, yy, 0, blocks)


def test_one_step_predictive():
    model = gaussian_chain(3)
    f = torch.tensor([[[1.0, 0.0]] * 3, [[0.0, 1.0]] * 3])
    pred = one_step_predictive(model, f)
    torch.testing.assert_close(pred[0], model.initial)
    torch.testing.assert_close(pred[1], model.transition[:, 0])


def test_time_chunking_does_not_change_results(monkeypatch, gen):
    import importlib

    gfm = importlib.import_module("graphsmooth.hmm.graph_filter")

    model = gaussian_chain(6)
    _, y = simulate_fhmm(model, 37, gen)
    full = graph_filter(model, y, 1)
    monkeypatch.setattr(gfm, "_CHUNK_ENTRIES", 300)  # a few time steps per chunk
    assert gfm._chunk_len(graph_filter_plan(model, 1)) < 10
    chunked = graph_filter(model, y, 1)
    torch.testing.assert_close(chunked.marginals, full.marginals, atol=0, rtol=0)
    yy = y.clone()
    yy[30] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        graph_filter(model, yy, 1)


def test_components_with_different_numbers_of_states(gen):
    """L_v = (2, 3, 2, 3): padded states never get mass; results match the definition."""
    from graphsmooth.hmm import GaussianFactors

    L = 3
    ns = torch.tensor([2, 3, 2, 3])
    pad = torch.arange(L)[None, :] >= ns[:, None]
    mu = torch.rand(4, L, generator=gen, dtype=torch.float64).masked_fill(pad, 0)
    mu = mu / mu.sum(-1, keepdim=True)
    P = torch.rand(4, L, L, generator=gen, dtype=torch.float64).masked_fill(pad[:, None, :], 0)
    P = P / P.sum(-1, keepdim=True)
    scopes = [[0, 1], [1, 2], [2, 3]]
    model = FactorialHMM(mu, P, GaussianFactors(scopes, c=1.5, sigma2=0.8), num_states=ns.tolist())
    _, y = simulate_fhmm(model, 10, gen)
    gf = graph_filter(model, y, 0)
    assert (gf.marginals[:, pad] == 0).all()
    torch.testing.assert_close(
        graph_filter(model, y, 0, [[0, 1, 2, 3]]).marginals,
        exact_filter(model, y).marginals,
        atol=1e-10,
        rtol=0,
    )
    mu_, P_ = model.initial.numpy(), model.transition.numpy()
    params = {"c": np.full(3, 1.5), "sigma2": np.full(3, 0.8)}
    vals = model.state_values.numpy()
    _, ref = ref_graph_filter(
        "gaussian", params, scopes, vals, mu_, P_, y.numpy(), 0, [[v] for v in range(4)]
    )
    np.testing.assert_allclose(gf.marginals.numpy(), ref, atol=1e-12)
    sm = graph_smoother(model, y, 0)
    assert (sm.marginals[:, pad] == 0).all() and torch.isfinite(sm.pairwise).all()


@pytest.mark.parametrize("blocks", [None, [[0, 1], [2, 3]]])
def test_single_time_step(blocks):
    model = gaussian_chain(4)
    y = torch.tensor([[1.0, 3.0, -2.0]], dtype=torch.float64)
    gs = graph_smoother(model, y, 1, blocks)
    assert gs.pairwise.shape == (0, 4, 2, 2)
    torch.testing.assert_close(gs.marginals, gs.filter_marginals)
    # one step, m = 1 covers the chain of 4 from the middle but not from the ends; at t = 0 the
    # prior is a product, so the Graph Filter is exact whenever N_v covers every factor
    ex = exact_filter(model, y).marginals
    gf = graph_filter(model, y, 5, blocks).marginals
    torch.testing.assert_close(gf, ex, atol=1e-12, rtol=0)
