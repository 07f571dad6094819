"""Splits: disjoint, covering, stratified, reproducible, seed-dependent (no shared data)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from graphsmooth.data.splits import (
    geom_gcn_split,
    graph_kfold,
    public_split,
    random_node_split,
    stratified_graph_split,
)


def _labels(n: int = 300, seed: int = 0) -> torch.Tensor:
    # unbalanced classes of sizes about 1/2, 1/3, 1/6
    gen = torch.Generator().manual_seed(seed)
    return torch.multinomial(torch.tensor([3.0, 2.0, 1.0]), n, replacement=True, generator=gen)


def _partition(n, *parts):
    """Index tensors (or masks) are disjoint and cover range(n)."""
    idx = [p.nonzero().view(-1) if p.dtype == torch.bool else p for p in parts]
    allidx = torch.cat(idx)
    assert allidx.numel() == n
    assert torch.equal(allidx.sort().values, torch.arange(n))
    for p in idx:
        assert torch.equal(p, p.sort().values) or p.numel() == 0


def test_public_split_returns_stored_masks():
    train = torch.tensor([True, False, False, False])
    val = torch.tensor([False, True, False, False])
    test = torch.tensor([False, False, True, True])
    data = Data(num_nodes=4, train_mask=train, val_mask=val, test_mask=test)
    split = public_split(data)
    assert torch.equal(split.train_mask, train) and torch.equal(split.test_mask, test)
    tr, va, te = split  # unpacks as a tuple
    assert torch.equal(va, val)
    with pytest.raises(ValueError, match="no train_mask"):
        public_split(Data(num_nodes=3))


def test_geom_gcn_split_column():
    masks = torch.rand(6, 10, generator=torch.Generator().manual_seed(0)) > 0.5
    data = Data(num_nodes=6, train_mask=masks, val_mask=~masks, test_mask=masks.clone())
    split = geom_gcn_split(data, 3)
    assert torch.equal(split.train_mask, masks[:, 3])
    assert torch.equal(split.val_mask, ~masks[:, 3])
    with pytest.raises(ValueError, match=r"split index must be an int in \[0, 10\)"):
        geom_gcn_split(data, -1)
    with pytest.raises(ValueError, match="geom_gcn_split"):
        public_split(data)
    with pytest.raises(ValueError, match="public_split"):
        geom_gcn_split(Data(num_nodes=2, train_mask=masks[:2, 0], val_mask=masks[:2, 0],
                            test_mask=masks[:2, 0]), 0)  # fmt: skip


def test_random_node_split_counts_and_cover():
    split = random_node_split(1000, train=0.6, val=0.2, seed=3)
    _partition(1000, *split)
    assert [int(m.sum()) for m in split] == [600, 200, 200]
    split = random_node_split(Data(num_nodes=7), train=0.5, val=0.25, seed=0)
    assert [int(m.sum()) for m in split] == [round(3.5), round(1.75), 7 - 4 - 2]


def test_random_node_split_stratified_proportions():
    y = _labels(600)
    data = Data(y=y, num_nodes=600)
    split = random_node_split(data, train=0.6, val=0.2, seed=1, stratify=True)
    _partition(600, *split)
    for c in range(3):
        n_c = int((y == c).sum())
        assert int((split.train_mask & (y == c)).sum()) == round(0.6 * n_c)
        assert int((split.val_mask & (y == c)).sum()) == round(0.2 * n_c)
    same = random_node_split(600, 0.6, 0.2, seed=1, stratify=y)
    assert all(torch.equal(a, b) for a, b in zip(split, same, strict=True))


def test_random_node_split_seeds():
    a = random_node_split(500, seed=0)
    b = random_node_split(500, seed=0)
    c = random_node_split(500, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a.train_mask, c.train_mask)
    # the split does not touch the global RNG
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    random_node_split(500, seed=5)
    assert torch.equal(torch.rand(1), before)


def test_random_node_split_uniform_membership():
    # every node is equally likely to be in the training set (checked over seeds)
    hits = torch.zeros(20)
    for seed in range(400):
        hits += random_node_split(20, train=0.5, val=0.25, seed=seed).train_mask.float()
    freq = hits / 400
    assert float((freq - 0.5).abs().max()) < 0.12  # 5 sigma ~ 0.125 for a binomial(400, .5)


def test_numpy_and_torch_integers_accepted():
    import numpy as np

    a = random_node_split(np.int64(50), seed=np.int64(3))
    b = random_node_split(50, seed=torch.tensor(3))
    assert all(torch.equal(x, z) for x, z in zip(a, b, strict=True))
    y = _labels(60)
    assert torch.equal(graph_kfold(y, k=np.int32(3), fold=np.int64(1))[2], graph_kfold(y, 3, 1)[2])
    with pytest.raises(ValueError, match="seed must be an int"):
        random_node_split(10, seed=True)


def test_random_node_split_errors():
    with pytest.raises(ValueError, match="must not exceed 1"):
        random_node_split(10, train=0.8, val=0.3)
    with pytest.raises(ValueError, match="train must be a fraction"):
        random_node_split(10, train=-0.1)
    with pytest.raises(ValueError, match="stratify has 3 labels but there are 10 nodes"):
        random_node_split(10, stratify=torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="stratify=True needs"):
        random_node_split(10, stratify=True)
    with pytest.raises(ValueError, match="seed must be an int"):
        random_node_split(10, seed=1.5)


def test_stratified_graph_split():
    y = _labels(1000, seed=2)
    tr, va, te = stratified_graph_split(y, train=0.8, val=0.1, seed=4)
    _partition(1000, tr, va, te)
    for c in range(3):
        n_c = int((y == c).sum())
        assert int((y[tr] == c).sum()) == round(0.8 * n_c)
        assert int((y[va] == c).sum()) == round(0.1 * n_c)
    tr2, _, _ = stratified_graph_split(y.tolist(), train=0.8, val=0.1, seed=4)
    assert torch.equal(tr, tr2)
    tr3, _, _ = stratified_graph_split(y, train=0.8, val=0.1, seed=5)
    assert not torch.equal(tr, tr3)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_graph_kfold_partitions_and_stratifies(k):
    y = _labels(203, seed=1)
    counts = torch.bincount(y)
    tests = []
    for fold in range(k):
        tr, va, te = graph_kfold(y, k=k, fold=fold, seed=7, val_fraction=0.1)
        _partition(203, tr, va, te)
        tests.append(te)
        assert math.floor(203 / k) <= te.numel() <= math.ceil(203 / k)
        for c in range(3):  # per class, each fold holds floor or ceil of n_c / k
            in_fold = int((y[te] == c).sum())
            assert math.floor(counts[c] / k) <= in_fold <= math.ceil(counts[c] / k)
            pool_c = int(counts[c]) - in_fold
            assert int((y[va] == c).sum()) == round(0.1 * pool_c)
    # the k test folds partition the data
    _partition(203, *tests)


def test_graph_kfold_seeds_and_errors():
    y = _labels(100)
    a = graph_kfold(y, k=5, fold=2, seed=0)
    b = graph_kfold(y, k=5, fold=2, seed=0)
    c = graph_kfold(y, k=5, fold=2, seed=1)
    assert all(torch.equal(x, z) for x, z in zip(a, b, strict=True))
    assert not torch.equal(a[2], c[2])
    tr, va, te = graph_kfold(y, k=5, fold=0, val_fraction=0.0)
    assert va.numel() == 0 and tr.numel() + te.numel() == 100
    with pytest.raises(ValueError, match="fold must be an int in"):
        graph_kfold(y, k=5, fold=5)
    with pytest.raises(ValueError, match="k must be an int >= 2"):
        graph_kfold(y, k=1)
    with pytest.raises(ValueError, match="cannot make 10 folds from 3 items"):
        graph_kfold([0, 1, 0], k=10)
    with pytest.raises(ValueError, match="1-D tensor"):
        graph_kfold(torch.zeros(10, 2, dtype=torch.long))


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=1, max_size=60),
    train=st.floats(0.0, 1.0),
    val=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_random_node_split_property(labels, train, val, seed):
    if train + val > 1.0:
        val = 1.0 - train
    y = torch.tensor(labels)
    split = random_node_split(len(labels), train=train, val=val, seed=seed, stratify=y)
    _partition(len(labels), *split)
    for c in y.unique():
        n_c = int((y == c).sum())
        n_train = round(train * n_c)
        assert int((split.train_mask & (y == c)).sum()) == n_train
        assert int((split.val_mask & (y == c)).sum()) == min(round(val * n_c), n_c - n_train)
