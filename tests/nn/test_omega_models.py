"""Tests of the omega-GCN / omega-GAT networks and their registration."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphsmooth.nn.models import MODELS, build_model
from graphsmooth.nn.omega_models import OmegaGAT, OmegaGCN


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny graphs: one intra-op thread avoids oversubscribing the shared CPU (restored after)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _graph(n: int = 10, seed: int = 0):
    g = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    e = np.array(list(g.edges()), dtype=np.int64).T
    ei = torch.from_numpy(np.concatenate([e, e[::-1]], axis=1).copy())
    a = torch.tensor(nx.to_numpy_array(g, nodelist=range(n)), dtype=torch.float64)
    return ei, a


def test_registered_for_both_tasks():
    assert MODELS["omega_gcn"].accepted_kwargs() is not None
    for name in ("omega_gcn", "omega_gat"):
        assert set(MODELS[name].tasks) == {"node", "graph"}
    m = build_model("omega_gat", task="node", in_channels=5, out_channels=3, hidden=16, heads=4)
    assert isinstance(m, OmegaGAT) and m.num_layers == 2 and m.heads == 4
    assert repr(m) == (
        "OmegaGAT(5, 3, task='node', hidden=16, layers=2, dropout=0.5, omega='channel', heads=4)"
    )
    assert m.layer_dropout == 0.5 and m.alpha == 1.0  # 2 layers: the plain parametrisation
    with pytest.raises(ValueError, match="unknown option"):
        build_model("omega_gcn", task="node", in_channels=5, out_channels=3, heads=4)


def _gcn_dense(a: torch.Tensor) -> torch.Tensor:
    a_hat = a + torch.eye(a.size(0), dtype=a.dtype)
    d = a_hat.sum(1).rsqrt()
    return d[:, None] * a_hat * d[None, :]


@pytest.mark.parametrize("depth_scaling", [False, True])
def test_untrained_omega_gcn_is_repeated_diffusion(depth_scaling):
    """K_l = I: f^(L) = ((1 - a) I + a S)^L ReLU(K_open x), with a = 1 (plain) or 2/L (scaled)."""
    ei, a = _graph()
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    net = OmegaGCN(
        task="node",
        in_channels=6,
        out_channels=3,
        hidden=8,
        layers=5,
        dropout=0.0,
        k_init_std=0.0,
        depth_scaling=depth_scaling,
    ).double()
    net.eval()
    step = 0.4 if depth_scaling else 1.0
    assert net.alpha == step
    torch.testing.assert_close(net.omega_values(), torch.full((5, 8), step, dtype=torch.float64))
    s = (1 - step) * torch.eye(10, dtype=torch.float64) + step * _gcn_dense(a)
    f = torch.relu(net.lin_open(x))
    expected = torch.linalg.matrix_power(s, 5) @ f
    torch.testing.assert_close(net.hidden_states(x, ei), expected)
    states = net.hidden_states(x, ei, all_layers=True)
    assert len(states) == 6
    torch.testing.assert_close(states[2], s @ s @ f)
    torch.testing.assert_close(net(x, ei), net.lin_close(expected))


def test_depth_scaled_network_equals_dense_formula():
    """Random theta and W: f_l = ReLU(K_l ((1 - w_l) f + w_l S f)), w = a theta, K_l = I + a W_l."""
    ei, a = _graph()
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(10, 6, generator=gen, dtype=torch.float64)
    net = OmegaGCN(task="node", in_channels=6, out_channels=3, hidden=8, layers=8).double().eval()
    assert net.alpha == 0.25 and repr(net).endswith("omega='channel')")
    with torch.no_grad():
        net.omega.copy_(torch.randn(8, 8, generator=gen, dtype=torch.float64) * 3)
        for m in net.mix:
            m.weight.copy_(torch.randn(8, 8, generator=gen, dtype=torch.float64))
    s = _gcn_dense(a)
    omega = 0.25 * net.omega.detach()
    ks = [torch.eye(8, dtype=torch.float64) + 0.25 * m.weight.detach() for m in net.mix]
    torch.testing.assert_close(net.omega_values(), omega)
    torch.testing.assert_close(net.mixing_matrices(), torch.stack(ks))
    f = torch.relu(net.lin_open(x))
    for w, k in zip(omega, ks, strict=True):
        f = torch.relu(((1 - w) * f + w * (s @ f)) @ k.T)
    torch.testing.assert_close(net.hidden_states(x, ei), f)
    # omega_init is the effective initial omega; without depth scaling K_l is the weight itself
    assert torch.allclose(
        OmegaGCN(
            task="node", in_channels=6, out_channels=3, layers=8, omega_init=0.7
        ).omega_values(),
        torch.tensor(0.7),
    )
    plain = OmegaGCN(task="node", in_channels=6, out_channels=3, layers=8, depth_scaling=False)
    assert plain.alpha == 1.0 and repr(plain).endswith("depth_scaling=False)")
    torch.testing.assert_close(plain.mixing_matrices(), torch.stack([m.weight for m in plain.mix]))


@pytest.mark.parametrize("layers", [1, 2, 8, 64])
def test_depth_scaled_layer_dropout_keeps_the_noise_of_two_layers(layers):
    """p_L = 1 - (1 - p)^(2/L): the L inverted-dropout scalings have second moment (1-p)^-2."""
    net = OmegaGCN(task="node", in_channels=3, out_channels=2, layers=layers, dropout=0.6)
    p_l = net.layer_dropout
    assert p_l == pytest.approx(0.6 if layers <= 2 else 1 - 0.4 ** (2 / layers))
    assert (1 - p_l) ** -max(layers, 2) == pytest.approx(0.4**-2)
    plain = OmegaGCN(
        task="node", in_channels=3, out_channels=2, layers=layers, dropout=0.6, depth_scaling=False
    )
    assert plain.layer_dropout == 0.6
    fixed = OmegaGCN(task="node", in_channels=3, out_channels=2, layers=layers, layer_dropout=0.1)
    assert fixed.layer_dropout == 0.1


def test_depth_scaling_keeps_one_adam_step_small_at_64_layers():
    """Adam moves every entry by ~lr, so without depth scaling one step changes each K_l by up to
    lr * C in norm and the 64-layer product by (1 + lr C)^64; with it the change stays O(lr)."""
    ei, _ = _graph(30, seed=3)
    gen = torch.Generator().manual_seed(12)
    x = torch.rand(30, 6, generator=gen)
    y = torch.randint(0, 3, (30,), generator=gen)
    change = {}
    for scaled in (True, False):
        torch.manual_seed(0)
        net = OmegaGCN(
            task="node",
            in_channels=6,
            out_channels=3,
            hidden=16,
            layers=64,
            dropout=0.0,
            depth_scaling=scaled,
        )
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        before = net.hidden_states(x, ei).detach()
        torch.nn.functional.cross_entropy(net(x, ei), y).backward()
        opt.step()
        after = net.hidden_states(x, ei).detach()
        change[scaled] = float((after - before).norm() / before.norm())
    assert change[True] < 0.5
    assert change[False] > 10 * change[True]


def test_omega_zero_ignores_the_graph():
    ei, _ = _graph()
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(1))
    for cls in (OmegaGCN, OmegaGAT):
        kw = {"heads": 2} if cls is OmegaGAT else {}
        net = cls(
            task="node", in_channels=6, out_channels=3, hidden=8, layers=3, omega_init=0.0, **kw
        )
        net.eval()
        torch.testing.assert_close(net(x, ei), net(x, ei[:, :0]))


@pytest.mark.parametrize(
    ("mode", "shape"),
    [("channel", (4, 8)), ("layer", (4, 1)), ("shared", (1, 8)), ("shared_scalar", (1, 1))],
)
def test_omega_modes(mode, shape):
    ei, _ = _graph()
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(2))
    net = OmegaGCN(task="node", in_channels=6, out_channels=3, hidden=8, layers=4, omega=mode)
    assert net.omega.shape == shape
    assert net.omega_values().shape == (4, 8)
    net(x, ei).sum().backward()
    assert net.omega.grad is not None and net.omega.grad.abs().sum() > 0


def test_graph_task_batches_and_is_permutation_invariant():
    ei, _ = _graph()
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(3))
    for cls in (OmegaGCN, OmegaGAT):
        kw = {"heads": 4} if cls is OmegaGAT else {}
        torch.manual_seed(0)  # only for the default initialisation
        net = cls(task="graph", in_channels=6, out_channels=2, hidden=8, layers=2, **kw).eval()
        perm = torch.randperm(10, generator=torch.Generator().manual_seed(4))
        inv = torch.empty_like(perm)
        inv[perm] = torch.arange(10)
        single = net(x, ei)
        torch.testing.assert_close(net(x[perm], inv[ei]), single)
        # a batch of two copies gives the single-graph logits twice
        xb = torch.cat([x, x])
        eib = torch.cat([ei, ei + 10], dim=1)
        batch = torch.arange(2).repeat_interleave(10)
        torch.testing.assert_close(net(xb, eib, batch), single.repeat(2, 1))


def test_cached_network_reuses_the_operator():
    ei, _ = _graph()
    x = torch.randn(10, 6, generator=torch.Generator().manual_seed(5))
    net = OmegaGCN(task="node", in_channels=6, out_channels=3, hidden=8, cached=True).eval()
    out = net(x, ei)
    torch.testing.assert_close(net(x, ei[:, :4]), out)
    net.reset_parameters()
    assert net._cache is None


def test_networks_fit_a_small_graph():
    """A few Adam steps drive the training loss down (learning reaches omega and K_l)."""
    ei, _ = _graph(30, seed=1)
    gen = torch.Generator().manual_seed(6)
    x = torch.randn(30, 6, generator=gen)
    y = torch.randint(0, 3, (30,), generator=gen)
    for cls in (OmegaGCN, OmegaGAT):
        torch.manual_seed(0)
        net = cls(task="node", in_channels=6, out_channels=3, hidden=16, layers=4, dropout=0.0)
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        losses = []
        omega0 = net.omega_values()
        for _ in range(60):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x, ei), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.7 * losses[0]
        assert not torch.equal(net.omega_values(), omega0)


@pytest.mark.parametrize("cls", [OmegaGCN, OmegaGAT])
@pytest.mark.parametrize("cached", [False, True])  # cached one-hot features take the CSR path
def test_input_dropout_zero_keeps_the_input_in_train_mode(cls, cached):
    """input_dropout=0: in train mode the opening layer sees the raw one-hot labels, f0 =
    ReLU(K_open x) exactly, while the head / layer dropout (``dropout``) stays active; the
    default (input_dropout = dropout) drops input entries (every 9 of 10 at p = 0.9)."""
    ei, _ = _graph(40, seed=2)
    x = torch.nn.functional.one_hot(torch.arange(40) % 7, 7).float()  # MUTAG-like node labels
    kw = {"heads": 4} if cls is OmegaGAT else {}
    for task in ("node", "graph"):
        common = dict(task=task, in_channels=7, out_channels=2, hidden=8, layers=2, dropout=0.9)
        torch.manual_seed(0)
        net = cls(**common, input_dropout=0.0, cached=cached, **kw).train()
        assert net.input_dropout == 0.0 and net.dropout == 0.9
        with torch.no_grad():
            expected = torch.relu(x @ net.lin_open.weight.t() + net.lin_open.bias)
            for _ in range(3):
                f0 = net.hidden_states(x, ei, all_layers=True)[0]
                torch.testing.assert_close(f0, expected, rtol=0, atol=1e-6)
            assert not torch.equal(net(x, ei), net(x, ei))  # dropout after the opening layer
        default = cls(**common, cached=cached, **kw).train()
        default.load_state_dict(net.state_dict())
        assert default.input_dropout == 0.9 and "input_dropout" not in repr(default)
        assert "input_dropout=0.0" in repr(net)
        with torch.no_grad():
            f0 = default.hidden_states(x, ei, all_layers=True)[0]
        bias_only = torch.relu(net.lin_open.bias).expand_as(f0)  # a node whose label was dropped
        dropped = torch.isclose(f0, bias_only).all(dim=1)
        assert 20 <= int(dropped.sum()) < 40  # about 36 of 40 nodes lose their only feature
    with pytest.raises(ValueError, match="input_dropout"):
        cls(task="graph", in_channels=3, out_channels=2, hidden=8, input_dropout=1.0, **kw)


def test_invalid_network_arguments():
    with pytest.raises(ValueError, match="omega must be one of"):
        OmegaGCN(task="node", in_channels=3, out_channels=2, omega="per_layer")
    with pytest.raises(ValueError, match="divide hidden"):
        OmegaGAT(task="node", in_channels=3, out_channels=2, hidden=10, heads=4)
    with pytest.raises(ValueError, match="task must be"):
        OmegaGCN(task="edge", in_channels=3, out_channels=2)


def test_csr_propagation_equals_edge_propagation_on_directed_graph():
    gen = torch.Generator().manual_seed(8)
    ei = torch.randint(0, 12, (2, 40), generator=gen)  # directed, with duplicates and loops
    w = torch.rand(40, generator=gen)
    x = torch.randn(12, 5, generator=gen)
    torch.manual_seed(0)
    a = OmegaGCN(task="node", in_channels=5, out_channels=3, hidden=8, layers=3, sparse=True)
    b = OmegaGCN(task="node", in_channels=5, out_channels=3, hidden=8, layers=3, sparse=False)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        a.omega.uniform_(-1.0, 2.0, generator=gen)
        b.omega.copy_(a.omega)
    a.eval()
    b.eval()
    torch.testing.assert_close(a(x, ei, edge_weight=w), b(x, ei, edge_weight=w))


def test_sparse_feature_path_equals_dense_path():
    gen = torch.Generator().manual_seed(9)
    ei, _ = _graph(20, seed=2)
    x = (torch.rand(20, 50, generator=gen) < 0.05).float() * torch.rand(20, 50, generator=gen)
    torch.manual_seed(0)
    a = OmegaGCN(task="node", in_channels=50, out_channels=3, hidden=8, layers=2, cached=True)
    b = OmegaGCN(task="node", in_channels=50, out_channels=3, hidden=8, layers=2, cached=False)
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    torch.testing.assert_close(a(x, ei), b(x, ei))
    assert a._x_cache[1] is not None  # the CSR path was taken
    a.train()
    # training mode: dropout keeps a non-zero value, scaled by 1/(1-p), or drops it
    h = a.open(x)
    w, bias = a.lin_open.weight, a.lin_open.bias
    assert torch.isfinite(h).all() and not torch.allclose(h, x @ w.t() + bias)
    loss = a(x, ei).sum()
    loss.backward()
    assert a.lin_open.weight.grad is not None and a.lin_open.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("cls", [OmegaGCN, OmegaGAT])
def test_param_groups_partition_and_default_equals_plain_adam(cls):
    """Every parameter is in exactly one group; without ``optim_groups`` the runner's optimiser
    (``make_optimizer``) takes the same Adam steps as ``Adam(model.parameters())``."""
    from graphsmooth.bench.tasks.classification import make_optimizer

    ei, _ = _graph(12, seed=3)
    x = torch.randn(12, 5, generator=torch.Generator().manual_seed(1))
    y = torch.arange(12) % 3
    nets = []
    for use_runner in (True, False):
        torch.manual_seed(0)
        net = cls(task="node", in_channels=5, out_channels=3, hidden=8, layers=4, dropout=0.0)
        groups = net.group_parameters()
        ids = [id(p) for ps in groups.values() for p in ps]
        assert sorted(ids) == sorted(id(p) for p in net.parameters())
        assert len(set(ids)) == len(ids)
        if use_runner:
            opt = make_optimizer(net, lr=0.01, weight_decay=1e-3)
            assert len(opt.param_groups) == 1
        else:
            opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-3)
        for _ in range(3):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x, ei), y).backward()
            opt.step()
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_param_groups_apply_their_own_lr_and_weight_decay():
    """Zero loss gradient: Adam's first step is then lr * sign(p) where weight decay > 0 (the
    decay term wd * p is the whole gradient) and 0 elsewhere, so each group's settings can be
    read off the step (hand computation)."""
    from graphsmooth.bench.tasks.classification import make_optimizer

    ei, _ = _graph(12, seed=3)
    x = torch.randn(12, 5, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(0)
    groups = {"io": {"weight_decay": 0.1}, "mix": {"lr": 0.0, "weight_decay": 0.1}}
    net = build_model(
        "omega_gat",
        task="node",
        in_channels=5,
        out_channels=3,
        hidden=8,
        heads=2,
        layers=4,
        dropout=0.0,
        optim_groups=groups,
    )
    before = {k: [p.detach().clone() for p in ps] for k, ps in net.group_parameters().items()}
    opt = make_optimizer(net, lr=0.05, weight_decay=0.0)
    assert {g["name"]: (g["lr"], g["weight_decay"]) for g in opt.param_groups} == {
        "io": (0.05, 0.1),
        "mix": (0.0, 0.1),
        "omega": (0.05, 0.0),
        "attention": (0.05, 0.0),
    }
    (net(x, ei) * 0.0).sum().backward()
    opt.step()
    after = net.group_parameters()
    for p0, p1 in zip(before["io"], after["io"], strict=True):
        step = p1.detach() - p0
        torch.testing.assert_close(step, -0.05 * torch.sign(p0), atol=1e-6, rtol=0)
    for name in ("mix", "omega", "attention"):  # lr 0, or no decay and no gradient
        for p0, p1 in zip(before[name], after[name], strict=True):
            torch.testing.assert_close(p1.detach(), p0, atol=0, rtol=0)
    with pytest.raises(ValueError, match="optim_groups"):
        OmegaGCN(task="node", in_channels=3, out_channels=2, optim_groups={"K": {"lr": 0.1}})
    with pytest.raises(ValueError, match="optim_groups"):
        OmegaGCN(task="node", in_channels=3, out_channels=2, optim_groups={"mix": {"wd": 0.1}})


class _AutogradOmegaGCN(OmegaGCN):
    """The network before the cached transposes: the opening layer by ``torch.addmm`` and the
    propagation by the conv (PyG's ``spmm``), autograd transposing both in every backward."""

    def open(self, x):
        sp = self._sparse_features(x)[0]
        if self.training and self.input_dropout > 0:
            values = torch.nn.functional.dropout(sp.values(), p=self.input_dropout, training=True)
            sp = torch.sparse_csr_tensor(sp.crow_indices(), sp.col_indices(), values, sp.shape)
        return torch.addmm(self.lin_open.bias, sp, self.lin_open.weight.t())

    def run_conv(self, conv, x, graph, omega):
        return conv(x, graph[0], graph[1], omega=omega)


def test_cached_transposes_give_the_autograd_gradients_bitwise():
    """Sparse features + CSR operator on a directed graph (S != S^T), train mode with dropout:
    the same loss and every gradient to the bit as autograd through addmm / spmm."""
    gen = torch.Generator().manual_seed(11)
    ei = torch.randint(0, 30, (2, 90), generator=gen)  # directed, some repeats
    x = (torch.rand(30, 60, generator=gen) < 0.05).float() * torch.rand(30, 60, generator=gen)
    y = torch.randint(0, 3, (30,), generator=gen)
    nets = []
    for cls in (OmegaGCN, _AutogradOmegaGCN):
        torch.manual_seed(0)
        net = cls(task="node", in_channels=60, out_channels=3, hidden=8, layers=4, cached=True)
        torch.manual_seed(1)  # same dropout masks in both
        loss = torch.nn.functional.cross_entropy(net(x, ei), y)
        loss.backward()
        nets.append((loss, net))
    (loss_a, a), (loss_b, b) = nets
    assert len(a._cache) == 3 and a._x_cache[1] is not None  # both cached transposes in use
    assert torch.equal(loss_a, loss_b)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p.grad, q.grad), name
