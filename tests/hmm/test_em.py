import numpy as np
import pytest
import torch

from graphsmooth.data.sequences import simulate_fhmm
from graphsmooth.hmm import (
    FactorialHMM,
    GaussianFactors,
    PoissonFactors,
    SmootherResult,
    exact_filter,
    exact_smoother,
    fit_em,
    gaussian_chain,
    m_step,
)
from tests.hmm.helpers import small_model


def test_poisson_exact_em_is_monotone(gen):
    """Poisson M-step needs only E[s_f] (linear in marginals): exact E-step -> exact EM."""
    true, _ = small_model("poisson", M=4, L=2, scopes=[[0, 1], [1, 2], [2, 3], [0, 3]], seed=2)
    _, y = simulate_fhmm(true, 60, gen)
    init, _ = small_model("poisson", M=4, L=2, scopes=[[0, 1], [1, 2], [2, 3], [0, 3]], seed=9)
    for kw in ({"e_step": "exact"}, {"e_step": "graph", "blocks": [[0, 1, 2, 3]]}):
        res = fit_em(init, y, 8, track_likelihood=True, **kw)
        ll = np.array(res.log_likelihood)
        assert np.all(np.diff(ll) > -1e-8), ll
        assert ll[-1] > ll[0] + 1.0


def test_gaussian_exact_em_transitions_monotone(gen):
    true = gaussian_chain(4)
    _, y = simulate_fhmm(true, 80, gen)
    P0 = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    init = gaussian_chain(4, transition=P0, initial=torch.tensor([0.5, 0.5]))
    res = fit_em(
        init, y, 6, e_step="exact", update=("initial", "transition"), track_likelihood=True
    )
    ll = np.array(res.log_likelihood)
    assert np.all(np.diff(ll) > -1e-8) and ll[-1] > ll[0]


def test_graph_smoother_em_increases_likelihood(gen):
    m = 1
    true = gaussian_chain(6)
    _, y = simulate_fhmm(true, 200, gen)
    ll_true = exact_filter(true, y).log_likelihood.item()
    init = gaussian_chain(
        6,
        transition=torch.tensor([[0.6, 0.4], [0.4, 0.6]]),
        initial=torch.tensor([0.5, 0.5]),
        c=1.0,
        sigma2=2.0,
    )
    res = fit_em(
        init,
        y,
        10,
        m=m,
        tie_transition=True,
        tie_initial=True,
        tie_emission=True,
        track_likelihood=True,
    )
    ll = res.log_likelihood
    assert ll[-1] > ll[0] + 100  # from -2595 to about -2263 (true parameters: -2253)
    assert ll[-1] > ll_true - 0.01 * abs(ll_true)
    assert res.model.factors.c[0].item() > 1.2  # moves from 1.0 towards 2.0
    assert (res.model.transition == res.model.transition[0]).all()  # tied
    assert res.num_iterations == 10


def test_m_step_hand_computed():
    # one component, two factors on it, L = 2 values (0, 1); T = 2
    model = FactorialHMM(
        torch.tensor([0.5, 0.5]),
        torch.full((2, 2), 0.5),
        GaussianFactors([[0], [0]], c=1.0),
        num_components=1,
    )
    marg = torch.tensor([[[0.25, 0.75]], [[1.0, 0.0]]], dtype=torch.float64)
    pair = torch.tensor([[[[0.25, 0.0], [0.75, 0.0]]]], dtype=torch.float64)
    sm = SmootherResult(marginals=marg, pairwise=pair, filter_marginals=marg)
    y = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    new = m_step(model, y, sm)
    torch.testing.assert_close(new.initial, torch.tensor([[0.25, 0.75]], dtype=torch.float64))
    torch.testing.assert_close(new.transition[0, 0], torch.tensor([1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(new.transition[0, 1], torch.tensor([1.0, 0.0], dtype=torch.float64))
    # E[s] = (0.75, 0), E[s^2] = (0.75, 0): c_f = y_1f * 0.75 / 0.75 = y_1f
    torch.testing.assert_close(new.factors.c, torch.tensor([1.0, 2.0], dtype=torch.float64))
    # sigma2_f = mean_t (y^2 - 2 c y m + c^2 q): f=0: (1 - 1.5 + 0.75 + 0)/2 = 0.125
    assert new.factors.sigma2[0].item() == pytest.approx(0.125)
    pm = model.replace(factors=PoissonFactors([[0], [0]]), state_values=torch.tensor([1.0, 2.0]))
    new = m_step(pm, y, sm, update=("emission",))
    # E[s] = (1.75, 1.0): rate = sum_t y / sum_t E[s]
    torch.testing.assert_close(
        new.factors.rate, torch.tensor([1 / 2.75, 3 / 2.75], dtype=torch.float64)
    )
    torch.testing.assert_close(new.transition, pm.transition)
    with pytest.raises(ValueError, match="unknown update"):
        m_step(model, y, sm, update=("bogus",))


def test_em_with_exact_smoother_input_matches(gen):
    model = gaussian_chain(3)
    _, y = simulate_fhmm(model, 20, gen)
    sm = exact_smoother(model, y)
    a = m_step(model, y, sm)
    b = fit_em(model, y, 1, e_step="exact").model
    torch.testing.assert_close(a.transition, b.transition)
    torch.testing.assert_close(a.factors.c, b.factors.c)


def test_fit_em_accepts_a_plan(gen):
    from graphsmooth.hmm import graph_filter_plan

    model = gaussian_chain(4)
    _, y = simulate_fhmm(model, 30, gen)
    a = fit_em(model, y, 2, blocks=[[0, 1, 2, 3]]).model
    b = fit_em(model, y, 2, plan=graph_filter_plan(model, 0, [[0, 1, 2, 3]])).model
    torch.testing.assert_close(a.transition, b.transition, atol=0, rtol=0)
    c = fit_em(model, y, 2, e_step="exact").model  # one block = exact smoother
    torch.testing.assert_close(a.transition, c.transition, atol=1e-10, rtol=0)
    with pytest.raises(ValueError, match="e_step"):
        fit_em(model, y, 1, e_step="approx")
