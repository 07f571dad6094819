import pytest
import torch

from graphsmooth.graph import check_edge_index, is_undirected, simple_undirected, undirected_pairs


def test_check_edge_index_infers_num_nodes():
    assert check_edge_index(torch.tensor([[0, 3], [3, 0]])) == 4
    assert check_edge_index(torch.empty(2, 0, dtype=torch.long)) == 0
    assert check_edge_index(torch.empty(2, 0, dtype=torch.long), 5) == 5


@pytest.mark.parametrize(
    "ei, kwargs, match",
    [
        (torch.tensor([0, 1]), {}, "shape"),
        (torch.zeros(3, 2, dtype=torch.long), {}, "shape"),
        (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), {}, "integer dtype"),
        (torch.tensor([[0, -1], [1, 0]]), {}, "negative"),
        (torch.tensor([[0, 5], [1, 0]]), {"num_nodes": 3}, "out of range"),
        (torch.tensor([[0, 1], [1, 0]]), {"num_nodes": -1}, "num_nodes"),
        (torch.tensor([[0, 1], [1, 0]]), {"edge_weight": torch.tensor([1.0])}, "edge_weight"),
        (
            torch.tensor([[0, 1], [1, 0]]),
            {"edge_weight": torch.tensor([1.0, float("nan")])},
            "NaN",
        ),
        ([[0, 1], [1, 0]], {}, "torch.Tensor"),
    ],
)
def test_check_edge_index_errors(ei, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_edge_index(ei, **kwargs)


def test_simple_undirected_canonical():
    # directed edge, duplicate, self loop, isolated node 4
    ei = torch.tensor([[0, 1, 1, 2, 2], [1, 2, 2, 2, 0]])
    out, w, n = simple_undirected(ei, num_nodes=5)
    assert n == 5 and w is None
    expected = {(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0)}
    assert set(map(tuple, out.T.tolist())) == expected
    assert out.size(1) == len(expected)
    keys = out[0] * 5 + out[1]
    assert torch.all(keys[1:] > keys[:-1])  # sorted, no duplicates
    assert undirected_pairs(out).T.tolist() == [[0, 1], [0, 2], [1, 2]]


def test_simple_undirected_weights_and_policies():
    ei = torch.tensor([[0, 1, 0], [1, 0, 2]])
    w = torch.tensor([1.0, 3.0, 2.0])
    out, ow, _ = simple_undirected(ei, edge_weight=w, reduce="mean")
    d = {tuple(e): x for e, x in zip(out.T.tolist(), ow.tolist(), strict=True)}
    assert d[(0, 1)] == d[(1, 0)] == 2.0
    assert d[(0, 2)] == d[(2, 0)] == 2.0
    with pytest.raises(ValueError, match="directed"):
        simple_undirected(ei, on_directed="error")
    with pytest.warns(UserWarning, match="symmetrising"):
        simple_undirected(ei, on_directed="warn")
    with pytest.raises(ValueError, match="reduce"):
        simple_undirected(ei, reduce="avg")


def test_is_undirected():
    assert is_undirected(torch.tensor([[0, 1], [1, 0]]))
    assert not is_undirected(torch.tensor([[0], [1]]))
    assert not is_undirected(torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([1.0, 2.0]))
    assert is_undirected(torch.empty(2, 0, dtype=torch.long))
