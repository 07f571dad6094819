import math

import numpy as np
import pytest
import torch
from scipy import stats

from graphsmooth.hmm import (
    CallableFactors,
    FactorialHMM,
    GaussianFactors,
    PoissonFactors,
    chain_scopes,
    factor_log_tables,
    gaussian_chain,
)
from tests.hmm.helpers import small_model


def test_chain_scopes_and_factor_graph():
    sc = chain_scopes(4)
    assert sc.tolist() == [[0, 1], [1, 2], [2, 3]]
    model = gaussian_chain(4)
    ei = model.factor_graph_edge_index()
    edges = {tuple(e) for e in ei.T.tolist()}
    # component v -- factor node M + f
    assert (0, 4) in edges and (1, 4) in edges and (1, 5) in edges and (3, 6) in edges
    assert (4, 0) in edges and ei.shape[1] == 12
    assert repr(model) == "FactorialHMM(M=4, L=2, F=3, factors=GaussianFactors)"


def test_gaussian_tables_match_scipy(gen):
    model, params = small_model("gaussian", M=3, L=3, scopes=[[0, 2], [1], [0, 1, 2]])
    y = torch.randn(5, 3, generator=gen, dtype=torch.float64) * 3
    tab = factor_log_tables(model, y)
    L = 3
    for f, sc in enumerate([[0, 2], [1], [0, 1, 2]]):
        for cfg in np.ndindex(*([L] * len(sc))):
            idx = int(tab.offset[f]) + int(np.ravel_multi_index(cfg, [L] * len(sc)))
            s = sum(cfg)  # default values 0..L-1
            ref = stats.norm.logpdf(
                y[:, f].numpy(), params["c"][f] * s, math.sqrt(params["sigma2"][f])
            )
            np.testing.assert_allclose(tab.flat[:, idx].numpy(), ref, rtol=1e-12)
    assert (tab.flat[:, -1] == 0).all()


def test_poisson_tables_match_scipy_including_zero_rate():
    fac = PoissonFactors([[0, 1]], rate=2.5)
    model = FactorialHMM(torch.tensor([0.5, 0.5]), torch.eye(2), fac, num_components=2)
    y = torch.tensor([[0.0], [3.0]])
    tab = factor_log_tables(model, y).flat
    for cfg in range(4):
        s = (cfg // 2) + (cfg % 2)
        for t in range(2):
            ref = stats.poisson.logpmf(y[t, 0].item(), 2.5 * s)
            if np.isfinite(ref):
                assert tab[t, cfg].item() == pytest.approx(ref)
            else:
                assert tab[t, cfg].item() == -math.inf
    assert tab[0, 0] == 0.0 and tab[1, 0] == -math.inf  # rate 0: P(y=0) = 1, P(y=3) = 0


def test_callable_factors_equal_gaussian(gen):
    model, _ = small_model("gaussian", M=3, L=2)
    c, s2 = model.factors.c, model.factors.sigma2

    def lp(y, values, factors):
        mean = c[factors][:, None] * values.sum(-1)
        var = s2[factors][:, None]
        return -0.5 * ((y[:, :, None] - mean) ** 2 / var + torch.log(2 * math.pi * var))

    m2 = model.replace(factors=CallableFactors(model.scope, log_prob_fn=lp))
    y = torch.randn(4, 2, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(factor_log_tables(m2, y).flat, factor_log_tables(model, y).flat)


def test_validation_errors():
    fac = GaussianFactors([[0, 1]])
    with pytest.raises(ValueError, match="rows must sum to one"):
        FactorialHMM(torch.tensor([0.5, 0.6]), torch.eye(2), fac, num_components=2)
    with pytest.raises(ValueError, match="only 2 components"):
        FactorialHMM(
            torch.tensor([0.5, 0.5]), torch.eye(2), GaussianFactors([[0, 2]]), num_components=2
        )
    with pytest.raises(ValueError, match="num_components"):
        FactorialHMM(torch.tensor([0.5, 0.5]), torch.eye(2), fac)
    with pytest.raises(ValueError, match="repeated"):
        GaussianFactors([[0, 0]])
    with pytest.raises(ValueError, match="empty scope"):
        GaussianFactors([[0], []])
    with pytest.raises(ValueError, match="sigma2 must be finite and positive"):
        GaussianFactors([[0]], sigma2=-1.0)
    with pytest.raises(ValueError, match="one entry per factor"):
        PoissonFactors([[0], [1]], rate=torch.ones(3))
    model = FactorialHMM(torch.tensor([0.5, 0.5]), torch.eye(2), fac, num_components=2)
    with pytest.raises(ValueError, match=r"\[T, F\]"):
        factor_log_tables(model, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="NaN"):
        factor_log_tables(model, torch.tensor([[float("nan")]]))


def test_padded_states():
    # component 0 has 2 states, component 1 has 3: padded state 2 of component 0 is absorbing
    mu = torch.tensor([[0.4, 0.6, 0.0], [0.2, 0.3, 0.5]])
    P = torch.tensor(
        [
            [[0.5, 0.5, 0.0], [0.1, 0.9, 0.0], [0.3, 0.3, 0.4]],
            [[0.2, 0.3, 0.5], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8]],
        ]
    )
    m = FactorialHMM(mu, P, GaussianFactors([[0, 1]]), num_states=[2, 3])
    assert torch.equal(m.transition[0, 2], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="zero initial mass"):
        FactorialHMM(
            torch.tensor([[0.4, 0.5, 0.1], [0.2, 0.3, 0.5]]),
            P,
            GaussianFactors([[0, 1]]),
            num_states=[2, 3],
        )
