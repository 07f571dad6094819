"""Model registry and the GCN/GIN/GAT baselines."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.utils import to_dense_adj

from graphsmooth.nn.models import GCN, MODELS, build_model, model_names, register_model


def _graph(n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.arange(n - 1)
    edges = torch.stack([src, src + 1])  # a path plus two chords
    edges = torch.cat([edges, torch.tensor([[0, n - 3], [2, n - 1]])], dim=1)
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)
    x = torch.randn(n, 5, generator=g)
    return x, edge_index


def test_registry_contents_and_defaults():
    assert {"gcn", "gin", "gat"} <= set(model_names("node")) & set(model_names("graph"))
    node = build_model("GCN", task="node", in_channels=5, out_channels=3)
    graph = build_model("gcn", task="graph", in_channels=5, out_channels=3)
    assert (node.hidden, node.num_layers, node.dropout) == (128, 3, 0.5)  # LCP node setting
    assert (graph.hidden, graph.num_layers, graph.dropout) == (64, 4, 0.5)  # LCP graph setting
    assert len(node.convs) == 3 and len(graph.convs) == 4
    assert repr(node) == "GCN(5, 3, task='node', hidden=128, layers=3, dropout=0.5)"
    assert repr(build_model("gat", task="graph", in_channels=5, out_channels=2, heads=4)) == (
        "GAT(5, 2, task='graph', hidden=64, layers=4, dropout=0.5, pool='mean', heads=4)"
    )


def test_build_errors():
    with pytest.raises(ValueError, match="unknown model 'gnc'"):
        build_model("gnc", task="node", in_channels=2, out_channels=2)
    with pytest.raises(ValueError, match="unknown option"):
        build_model("gcn", task="node", in_channels=2, out_channels=2, heads=2)
    with pytest.raises(ValueError, match="GAT: heads"):
        build_model("gat", task="node", in_channels=2, out_channels=2, hidden=10, heads=4)
    with pytest.raises(ValueError, match="dropout"):
        build_model("gin", task="node", in_channels=2, out_channels=2, dropout=1.5)
    with pytest.raises(ValueError, match="layers must be >= 1"):
        build_model("gcn", task="graph", in_channels=2, out_channels=2, layers=0)


def test_register_model_and_task_restriction():
    @register_model("_test_node_only", tasks=("node",))
    def factory(*, task, in_channels, out_channels, hidden=None, layers=None, dropout=None):
        return torch.nn.Linear(in_channels, out_channels)

    try:
        assert isinstance(
            build_model("_test_node_only", task="node", in_channels=3, out_channels=2),
            torch.nn.Linear,
        )
        with pytest.raises(ValueError, match="does not support task 'graph'"):
            build_model("_test_node_only", task="graph", in_channels=3, out_channels=2)
        with pytest.raises(ValueError, match="already registered"):
            register_model("_test_node_only")(lambda **kw: None)
        with pytest.raises(ValueError, match="non-empty subset"):
            register_model("_x", tasks=("edge",))
    finally:
        MODELS.pop("_test_node_only")


def test_one_layer_gcn_equals_dense_formula():
    x, edge_index = _graph()
    torch.manual_seed(0)
    model = GCN(task="node", in_channels=5, out_channels=3, layers=1).eval()
    conv = model.convs[0]
    a = to_dense_adj(edge_index, max_num_nodes=7)[0] + torch.eye(7)
    d = a.sum(1).pow(-0.5)
    expected = (d[:, None] * a * d[None, :]) @ x @ conv.lin.weight.T + conv.bias
    torch.testing.assert_close(model(x, edge_index), expected, rtol=1e-5, atol=1e-5)


def test_two_layer_gcn_dense_relu_composition():
    x, edge_index = _graph()
    torch.manual_seed(1)
    model = GCN(task="node", in_channels=5, out_channels=2, layers=2, hidden=4).eval()
    a = to_dense_adj(edge_index, max_num_nodes=7)[0] + torch.eye(7)
    d = a.sum(1).pow(-0.5)
    p = d[:, None] * a * d[None, :]
    c1, c2 = model.convs
    h = torch.relu(p @ x @ c1.lin.weight.T + c1.bias)
    torch.testing.assert_close(model(x, edge_index), p @ h @ c2.lin.weight.T + c2.bias)


@pytest.mark.parametrize("name", ["gcn", "gin", "gat"])
def test_node_equivariance_and_graph_invariance(name):
    x, edge_index = _graph()
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(3))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(7)
    x_p, ei_p = x[perm], inv[edge_index]
    torch.manual_seed(0)
    node = (
        build_model(name, task="node", in_channels=5, out_channels=3, hidden=8, heads=2)
        if name == "gat"
        else build_model(name, task="node", in_channels=5, out_channels=3, hidden=8)
    )
    node.eval()
    torch.testing.assert_close(node(x, edge_index)[perm], node(x_p, ei_p), rtol=1e-4, atol=1e-5)
    torch.manual_seed(0)
    kw = {"heads": 2} if name == "gat" else {}
    graph = build_model(name, task="graph", in_channels=5, out_channels=3, hidden=8, **kw).eval()
    out = graph(x, edge_index)
    assert out.shape == (1, 3)
    torch.testing.assert_close(out, graph(x_p, ei_p), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("pool", ["mean", "sum", "max"])
def test_graph_batching_equals_separate_graphs(pool):
    x1, e1 = _graph(7, seed=1)
    x2, e2 = _graph(5, seed=2)
    x = torch.cat([x1, x2])
    edge_index = torch.cat([e1, e2 + 7], dim=1)
    batch = torch.tensor([0] * 7 + [1] * 5)
    torch.manual_seed(0)
    model = build_model("gin", task="graph", in_channels=5, out_channels=2, hidden=8, pool=pool)
    model.eval()
    out = model(x, edge_index, batch)
    torch.testing.assert_close(out[0:1], model(x1, e1), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out[1:2], model(x2, e2), rtol=1e-4, atol=1e-5)


def test_dropout_only_in_training():
    x, edge_index = _graph()
    model = build_model(
        "gcn", task="node", in_channels=5, out_channels=3, dropout=0.5, input_dropout=0.5
    )
    model.eval()
    torch.testing.assert_close(model(x, edge_index), model(x, edge_index))
    model.train()
    torch.manual_seed(0)
    a = model(x, edge_index)
    torch.manual_seed(1)
    assert not torch.allclose(a, model(x, edge_index))


@pytest.mark.parametrize("name", ["gcn", "gin", "gat"])
def test_graph_model_without_head_pools_node_logits(name):
    # head="none": the last layer maps to the classes and the graph logits are the mean of the
    # node logits -- the node-task network with the same weights, mean-pooled per graph
    x1, e1 = _graph(7, seed=1)
    x2, e2 = _graph(5, seed=2)
    x, edge_index = torch.cat([x1, x2]), torch.cat([e1, e2 + 7], dim=1)
    batch = torch.tensor([0] * 7 + [1] * 5)
    kw = dict(in_channels=5, out_channels=3, hidden=8, layers=3)
    if name == "gat":
        kw["heads"] = 2
    torch.manual_seed(0)
    graph = build_model(name, task="graph", head="none", **kw).eval()
    node = build_model(name, task="node", **kw).eval()
    node.load_state_dict(graph.state_dict())
    assert graph.head is None and "head='none'" in repr(graph)
    logits = node(x, edge_index)
    want = torch.stack([logits[:7].mean(0), logits[7:].mean(0)])
    torch.testing.assert_close(graph(x, edge_index, batch), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="head"):
        build_model(name, task="graph", head="linear", **kw)


def test_wide_input_gin_layer_equals_plain_ginconv():
    # the linear-first evaluation of GIN's first layer (wide inputs) is the same function, with
    # the same parameters and gradients, as PyG's GINConv
    from torch_geometric.nn import GINConv

    from graphsmooth.nn.models import _LinearFirstGINConv

    torch.manual_seed(0)
    x = torch.rand(30, 50) * (torch.rand(30, 50) < 0.1)
    edge_index = torch.randint(0, 30, (2, 120))
    model = build_model("gin", task="node", in_channels=50, out_channels=3, hidden=8, layers=2)
    first = model.convs[0]
    assert isinstance(first, _LinearFirstGINConv)
    plain = GINConv(first.nn, train_eps=False)
    for train in (True, False):
        model.train(train)
        plain.train(train)
        a = first(x, edge_index)
        b = plain(x, edge_index)
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        ga = torch.autograd.grad(a.square().sum(), first.nn[0].weight)[0]
        gb = torch.autograd.grad(b.square().sum(), first.nn[0].weight)[0]
        torch.testing.assert_close(ga, gb, atol=1e-4, rtol=1e-4)
    # narrow inputs keep PyG's layer
    narrow = build_model("gin", task="graph", in_channels=4, out_channels=2, hidden=8, layers=2)
    assert all(type(c) is GINConv for c in narrow.convs)
