import numpy as np
import pytest
import torch

from graphsmooth.data.sequences import simulate_fhmm
from graphsmooth.hmm import exact_filter, exact_smoother, gaussian_chain
from tests.hmm.helpers import np_model, small_model
from tests.hmm.reference import brute_filter, configs, joint_loglik_table, path_posterior


@pytest.mark.parametrize(
    "kind,M,L,scopes",
    [
        ("gaussian", 3, 2, None),
        ("gaussian", 3, 3, [[0, 2], [1], [0, 1, 2]]),
        ("poisson", 4, 2, [[0, 1, 3], [2], [1, 2]]),
    ],
)
def test_exact_filter_matches_explicit_joint_chain(kind, M, L, scopes, gen):
    model, params = small_model(kind, M=M, L=L, scopes=scopes, seed=3)
    _, y = simulate_fhmm(model, 12, gen)
    mu, P, values, sc = np_model(model)
    ll = joint_loglik_table(kind, params, sc, values, y.numpy(), M, L)
    ref, ref_ll = brute_filter(mu, P, ll)
    res = exact_filter(model, y)
    np.testing.assert_allclose(res.joint.reshape(12, -1).numpy(), ref, atol=1e-12)
    assert res.log_likelihood.item() == pytest.approx(ref_ll, abs=1e-9)
    cfg = configs(M, L)
    for v in range(M):
        for a in range(L):
            np.testing.assert_allclose(
                res.marginals[:, v, a].numpy(), ref[:, cfg[:, v] == a].sum(1), atol=1e-12
            )


@pytest.mark.parametrize("kind,L", [("gaussian", 2), ("poisson", 3)])
def test_exact_smoother_matches_path_enumeration(kind, L, gen):
    M, T = 2, 4
    model, params = small_model(kind, M=M, L=L, scopes=[[0, 1], [1]], seed=5)
    _, y = simulate_fhmm(model, T, gen)
    mu, P, values, sc = np_model(model)
    ll = joint_loglik_table(kind, params, sc, values, y.numpy(), M, L)
    marg, pair, logz = path_posterior(mu, P, ll, M, L)
    res = exact_smoother(model, y)
    np.testing.assert_allclose(res.marginals.numpy(), marg, atol=1e-12)
    np.testing.assert_allclose(res.pairwise.numpy(), pair, atol=1e-12)
    assert res.log_likelihood.item() == pytest.approx(logz, abs=1e-9)


def test_exact_refuses_large_models():
    model = gaussian_chain(21)
    with pytest.raises(ValueError, match=r"L\^M = 2\^21"):
        exact_filter(model, torch.zeros(3, 20))
    with pytest.raises(ValueError, match="max_states = 100"):
        exact_smoother(gaussian_chain(7), torch.zeros(3, 6), max_states=100)


def test_zero_likelihood_names_time_step():
    from graphsmooth.hmm import FactorialHMM, PoissonFactors

    # state values 0 and 1, chain starts and stays in state 0: rate 0, so y > 0 is impossible
    model = FactorialHMM(
        torch.tensor([1.0, 0.0]), torch.eye(2), PoissonFactors([[0, 1]]), num_components=2
    )
    y = torch.tensor([[0.0], [0.0], [2.0], [0.0]])
    with pytest.raises(ValueError, match="t=2"):
        exact_filter(model, y)
