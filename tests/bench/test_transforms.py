"""Transform registry: PE concatenation against dense references, disk cache behaviour."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

import graphsmooth.bench.transforms as T


def _cycle_with_tail():
    # 5-cycle 0..4 plus a pendant node 5 attached to 0
    src = torch.tensor([0, 1, 2, 3, 4, 0])
    dst = torch.tensor([1, 2, 3, 4, 0, 5])
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    return Data(
        x=torch.arange(12, dtype=torch.float).view(6, 2), edge_index=edge_index, num_nodes=6
    )


def test_rwpe_is_concatenated_and_matches_dense_return_probabilities(tmp_path):
    data = _cycle_with_tail()
    specs = T.normalize_specs([{"rwpe": {"walk_length": 4}}])
    (out,) = T.apply_transforms([data], specs, dataset_spec={"t": 1}, cache=tmp_path)
    assert out.x.shape == (6, 2 + 4) and "random_walk_pe" not in out
    torch.testing.assert_close(out.x[:, :2], data.x)
    a = torch.zeros(6, 6)
    a[data.edge_index[0], data.edge_index[1]] = 1
    p = a / a.sum(1, keepdim=True)
    expected = torch.stack([torch.linalg.matrix_power(p, k).diagonal() for k in range(1, 5)], 1)
    torch.testing.assert_close(out.x[:, 2:], expected)
    assert data.x.shape == (6, 2)  # input untouched


def test_lappe_pads_small_graphs_to_k_columns(tmp_path):
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    small = Data(x=torch.ones(3, 1), edge_index=edge_index, num_nodes=3)
    (out,) = T.apply_transforms(
        [small], T.normalize_specs(["lappe"]), dataset_spec={"t": 2}, cache=tmp_path
    )
    assert out.x.shape == (3, 1 + 8)
    # the path on 3 nodes has 2 non-trivial eigenvectors; the other 6 columns are zero
    assert torch.count_nonzero(out.x[:, 3:]) == 0
    lap = torch.tensor([[1.0, -1, 0], [-1, 2, -1], [0, -1, 1]])
    d = torch.tensor([1.0, 2, 1]).pow(-0.5)
    sym = d[:, None] * lap * d[None, :]
    # each PE column is an eigenvector of the symmetric normalised Laplacian
    for j in (1, 2):
        v = out.x[:, j]
        lam = (v @ sym @ v) / (v @ v)
        torch.testing.assert_close(sym @ v, lam * v, atol=1e-5, rtol=1e-5)


def test_cache_hit_skips_computation(tmp_path, monkeypatch):
    data = _cycle_with_tail()
    specs = T.normalize_specs(["rwpe"])
    first = T.apply_transforms([data], specs, dataset_spec={"d": "x"}, cache=tmp_path)
    assert len(list(tmp_path.glob("*.pt"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite a cached result")

    monkeypatch.setattr(T, "build_transform", fail)
    second = T.apply_transforms([data], specs, dataset_spec={"d": "x"}, cache=tmp_path)
    torch.testing.assert_close(first[0].x, second[0].x)
    with pytest.raises(AssertionError, match="recomputed"):  # other params: a new entry
        T.apply_transforms(
            [data],
            T.normalize_specs([{"rwpe": {"walk_length": 3}}]),
            dataset_spec={"d": "x"},
            cache=tmp_path,
        )


def test_cache_key_depends_on_params_dataset_and_version(monkeypatch):
    import torch_geometric

    a = T.transform_cache_key({"d": 1}, T.normalize_specs(["rwpe"]))
    assert a == T.transform_cache_key({"d": 1}, T.normalize_specs([{"rwpe": {"walk_length": 16}}]))
    assert a != T.transform_cache_key({"d": 1}, T.normalize_specs([{"rwpe": {"walk_length": 8}}]))
    assert a != T.transform_cache_key({"d": 2}, T.normalize_specs(["rwpe"]))
    assert a != T.transform_cache_key({"d": 1}, T.normalize_specs(["normalize_features", "rwpe"]))
    monkeypatch.setattr(torch_geometric, "__version__", "0.0.0-test")
    assert a != T.transform_cache_key({"d": 1}, T.normalize_specs(["rwpe"]))


def test_spec_errors():
    with pytest.raises(ValueError, match=r"unknown transform 'rwp' \(did you mean 'rwpe'\?\)"):
        T.normalize_specs(["rwp"])
    with pytest.raises(ValueError, match="one-key mapping"):
        T.normalize_specs([{"rwpe": {}, "lappe": {}}])
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['steps'\]"):
        T.build_transform("rwpe", {"walk_length": 2, "attr_name": "x", "steps": 3})
    assert T.normalize_specs([{"lappe": None}])[0] == ("lappe", T.TRANSFORMS["lappe"].defaults)


def test_list_transforms_equal_one_by_one_on_mutag(data_root, tmp_path):
    """LCP and BORF run on all graphs at once (transform_list); same result as graph by graph."""
    from graphsmooth.bench.transforms import TRANSFORMS, _concat, apply_transforms, build_transform
    from graphsmooth.data import load_dataset

    graphs = [g for g in load_dataset("MUTAG", root=str(data_root))][:40]
    specs = [("borf", {"iterations": 1, "add": 3, "remove": 1}), ("lcp", {})]
    got = apply_transforms(graphs, specs, dataset_spec="mutag40", use_cache=False)
    for g, h in zip(graphs, got, strict=True):
        ref = g.clone()
        for name, kw in specs:
            ref = _concat(build_transform(name, kw)(ref), TRANSFORMS[name], kw)
        assert torch.equal(ref.edge_index, h.edge_index)
        torch.testing.assert_close(ref.x, h.x)


def test_simple_undirected_is_the_graph_curvature_works_on(tmp_path):
    from graphsmooth.graph import simple_undirected

    # directed 0->1, 1->2 (twice, attrs 2 and 5), 2->2 self loop, and 3->0 with its reverse
    ei = torch.tensor([[0, 1, 1, 2, 3, 0], [1, 2, 2, 2, 0, 3]])
    attr = torch.tensor([[1.0], [2.0], [5.0], [9.0], [3.0], [4.0]])
    data = Data(x=torch.ones(4, 1), edge_index=ei, edge_attr=attr, num_nodes=4)
    (out,) = T.apply_transforms(
        [data], T.normalize_specs(["simple_undirected"]), dataset_spec={"su": 1}, cache=tmp_path
    )
    expected, _, _ = simple_undirected(ei, 4)
    assert torch.equal(out.edge_index, expected)
    # by hand: edges {0,1}, {1,2}, {0,3}, both directions, sorted; the self loop is gone;
    # attributes max-merged over duplicates and the two directions
    assert out.edge_index.tolist() == [[0, 0, 1, 1, 2, 3], [1, 3, 0, 2, 1, 0]]
    assert out.edge_attr.view(-1).tolist() == [1.0, 4.0, 1.0, 5.0, 5.0, 4.0]
    assert torch.equal(data.edge_index, ei)  # input untouched
