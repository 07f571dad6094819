import pytest
import torch

from graphsmooth.data.sequences import load_tube, simulate_fhmm
from graphsmooth.hmm import CallableFactors, FactorialHMM, PoissonFactors, gaussian_chain


def test_simulate_fhmm_statistics():
    model = gaussian_chain(3)
    x, y = simulate_fhmm(model, 20000, torch.Generator().manual_seed(0))
    assert x.shape == (20000, 3) and y.shape == (20000, 2)
    assert (x[0] == 0).all()  # mu_0 = (1, 0)
    prev, nxt = x[:-1, 0], x[1:, 0]
    p01 = ((prev == 0) & (nxt == 1)).sum() / (prev == 0).sum()
    assert p01.item() == pytest.approx(0.6, abs=0.02)
    resid = y[:, 0] - 2.0 * (x[:, 0] + x[:, 1])
    assert resid.mean().item() == pytest.approx(0.0, abs=0.05)
    assert resid.var().item() == pytest.approx(4.0, rel=0.05)


def test_simulate_poisson_and_callable():
    m = FactorialHMM(
        torch.tensor([0.0, 1.0]),
        torch.eye(2),
        PoissonFactors([[0, 1]], rate=3.0),
        num_components=2,
        state_values=torch.tensor([1.0, 2.0]),
    )
    _, y = simulate_fhmm(m, 5000, torch.Generator().manual_seed(1))
    assert y.mean().item() == pytest.approx(12.0, rel=0.03)  # rate 3 * (2 + 2)
    cf = m.replace(factors=CallableFactors([[0, 1]], log_prob_fn=lambda y, v, f: v.sum(-1)[None]))
    with pytest.raises(ValueError, match="sample_fn"):
        simulate_fhmm(cf, 3)


@pytest.mark.data
def test_load_tube(data_root):
    tube = load_tube(data_root)
    assert tube.Y_train.shape == (435, 40) and tube.Y_test.shape == (290, 40)
    assert tube.num_chains == 48 and tube.num_factors == 40
    counts = torch.zeros(48, dtype=torch.long)
    for sc in tube.scopes:
        for v in sc:
            counts[v] += 1
    assert (counts == 2).all()  # each chain: one inflow and one outflow factor
    inflow = {v for sc in tube.scopes[:20] for v in sc}
    outflow = {v for sc in tube.scopes[20:] for v in sc}
    assert inflow == outflow == set(range(48))
    ei = tube.factor_graph_edge_index
    assert ei.shape == (2, 192) and int(ei.max()) == 87
    assert tube.series_names[0] == "Mile End-Inflow" and tube.stations[0] == tube.stations[20]
    assert (tube.Y_train >= 0).all() and (tube.Y_train == tube.Y_train.round()).all()


def test_load_tube_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="fhmm"):
        load_tube(tmp_path)
