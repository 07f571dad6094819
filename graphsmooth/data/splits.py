r"""Standard and seeded train / validation / test splits.

Pure functions: no global random state; every random split takes a ``seed`` and gives the same
answer for the same seed. Node splits return boolean masks (:class:`NodeSplit`); graph splits
return sorted index tensors ``(train_idx, val_idx, test_idx)``.

Stratification is vectorised: items are ordered by ``(label, random key)``, so each item's rank
:math:`r` within its class :math:`c` (of size :math:`n_c`) is a uniformly random permutation of
:math:`0, \dots, n_c - 1`. Items with :math:`r < \operatorname{round}(p_{train} n_c)` train,
the next :math:`\operatorname{round}(p_{val} n_c)` validate, the rest test. Per class, the
proportions are therefore exact up to rounding.

References:
    Kipf and Welling, *Semi-Supervised Classification with Graph Convolutional Networks*,
    ICLR 2017 (Planetoid public split).
    Pei et al., *Geom-GCN: Geometric Graph Convolutional Networks*, ICLR 2020 (10 splits
    60/20/20 for WebKB, Wikipedia, Actor).
    Errica et al., *A Fair Comparison of Graph Neural Networks for Graph Classification*,
    ICLR 2020 (stratified 10-fold CV with a validation hold-out from the training folds).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "NodeSplit",
    "geom_gcn_split",
    "graph_kfold",
    "public_split",
    "random_node_split",
    "stratified_graph_split",
]


class NodeSplit(NamedTuple):
    """Boolean node masks ``[N]``; unpacks as ``train_mask, val_mask, test_mask = split``."""

    train_mask: Tensor
    val_mask: Tensor
    test_mask: Tensor


def _masks(data: Any) -> tuple[Tensor, Tensor, Tensor]:
    masks = []
    for attr in ("train_mask", "val_mask", "test_mask"):
        m = getattr(data, attr, None)
        if m is None:
            raise ValueError(f"data has no {attr}; this dataset stores no standard split")
        masks.append(m.bool())
    return masks[0], masks[1], masks[2]


def public_split(data: Any) -> NodeSplit:
    r"""The Planetoid public split (20 labelled nodes per class, 500 validation, 1000 test).

    Args:
        data (torch_geometric.data.Data): a Planetoid graph (``dataset[0]``).

    Returns:
        :class:`NodeSplit` with the masks as stored by PyG.

    Raises:
        ValueError: no masks stored, or masks with several columns (use
            :func:`geom_gcn_split`).
    """
    train, val, test = _masks(data)
    if train.dim() != 1:
        raise ValueError(
            f"public_split expects one mask per node, got masks of shape {tuple(train.shape)}; "
            f"this dataset stores {train.shape[-1]} splits: use geom_gcn_split(data, index)"
        )
    return NodeSplit(train.clone(), val.clone(), test.clone())


def geom_gcn_split(data: Any, index: int) -> NodeSplit:
    r"""One of the 10 geom-gcn splits (60/20/20 per class) stored as ``[N, 10]`` masks.

    Args:
        data (torch_geometric.data.Data): a WebKB / WikipediaNetwork / Actor graph.
        index (int): split number, ``0 <= index < 10``.

    Returns:
        :class:`NodeSplit` of column ``index``.

    Raises:
        ValueError: no ``[N, K]`` masks stored, or ``index`` out of range.
    """
    train, val, test = _masks(data)
    if train.dim() != 2:
        raise ValueError(
            f"geom_gcn_split expects [N, K] masks, got shape {tuple(train.shape)}; "
            f"use public_split(data) for a single stored split"
        )
    k = train.shape[1]
    try:
        i = _as_int(index, "split index")
    except ValueError:
        i = -1
    if not 0 <= i < k:
        raise ValueError(f"split index must be an int in [0, {k}), got {index!r}")
    return NodeSplit(train[:, i].clone(), val[:, i].clone(), test[:, i].clone())


def _check_fractions(**fractions: float) -> None:
    total = 0.0
    for name, value in fractions.items():
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}")
        total += float(value)
    if total > 1.0 + 1e-9:
        names = " + ".join(fractions)
        raise ValueError(f"{names} must not exceed 1, got {total:g}")


def _as_labels(labels: Any, name: str = "labels") -> Tensor:
    y = torch.as_tensor(labels)
    if y.dim() == 2 and y.shape[1] == 1:
        y = y.view(-1)
    if y.dim() != 1:
        raise ValueError(f"{name} must be a 1-D tensor of class labels, got shape {tuple(y.shape)}")
    if y.is_floating_point():
        if not torch.equal(y, y.round()):
            raise ValueError(f"{name} must be integer class labels")
        y = y.long()
    return y.long()


def _ranks(y: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    r"""Random rank of each item within its class, class sizes per item, and the order.

    Returns ``(rank [n], class_size [n], order [n])``, where ``order`` sorts items by
    ``(class, random key)`` and ``rank[i]`` is the position of ``i`` within its class in it.
    """
    n = y.numel()
    if n == 0:
        empty = torch.zeros(0, dtype=torch.long)
        return empty, empty, empty
    _, inverse, counts = torch.unique(y, return_inverse=True, return_counts=True)
    key = torch.rand(n, generator=generator, dtype=torch.float64)
    # sort by random key, then stably by class: equal classes keep the random order
    perm = torch.argsort(key)
    order = perm[torch.argsort(inverse[perm], stable=True)]
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n) - starts[inverse[order]]
    return rank, counts[inverse], order


def _as_int(value: Any, name: str) -> int:
    """``value`` as a Python int (accepts numpy / torch integers), else ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an int, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an int, got {value!r}") from None


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(_as_int(seed, "seed"))


def _split_by_rank(rank: Tensor, size: Tensor, train: float, val: float) -> tuple[Tensor, Tensor]:
    n_train = torch.round(size.double() * train).long()
    n_val = torch.round(size.double() * val).long()
    n_val = torch.minimum(n_val, size - n_train)
    is_train = rank < n_train
    is_val = (rank >= n_train) & (rank < n_train + n_val)
    return is_train, is_val


def random_node_split(
    num_nodes_or_data: int | Any,
    train: float = 0.5,
    val: float = 0.25,
    seed: int = 0,
    stratify: Tensor | Sequence[int] | bool | None = None,
) -> NodeSplit:
    r"""Seeded random node split with given fractions; the remaining nodes are the test set.

    Without stratification, :math:`\operatorname{round}(p_{train} N)` random nodes train and
    :math:`\operatorname{round}(p_{val} N)` validate. With stratification the same rounding is
    applied within each class (see the module docstring), so every class keeps its proportion.

    Args:
        num_nodes_or_data (int or Data): number of nodes, or a graph (``data.num_nodes``).
        train (float): training fraction. (default: ``0.5``)
        val (float): validation fraction; ``train + val <= 1``. (default: ``0.25``)
        seed (int): random seed. (default: ``0``)
        stratify (Tensor, sequence, bool or None): class labels ``[N]`` to stratify by;
            ``True`` uses ``data.y``. (default: ``None``)

    Returns:
        :class:`NodeSplit` of disjoint masks covering all nodes.

    Example::

        >>> train_mask, val_mask, test_mask = random_node_split(data, 0.6, 0.2, seed=1,
        ...                                                     stratify=True)
    """
    _check_fractions(train=train, val=val)
    data = None
    if isinstance(num_nodes_or_data, int | np.integer) and not isinstance(num_nodes_or_data, bool):
        n = int(num_nodes_or_data)
    elif hasattr(num_nodes_or_data, "num_nodes"):
        data = num_nodes_or_data
        n = int(data.num_nodes)
    else:
        raise ValueError(
            f"num_nodes_or_data must be an int or a graph with num_nodes, "
            f"got {type(num_nodes_or_data).__name__}"
        )
    if n < 0:
        raise ValueError(f"num_nodes must be non-negative, got {n}")
    if stratify is True:
        if data is None or getattr(data, "y", None) is None:
            raise ValueError("stratify=True needs a graph with labels y")
        stratify = data.y
    elif stratify is False:
        stratify = None
    if stratify is None:
        y = torch.zeros(n, dtype=torch.long)
    else:
        y = _as_labels(stratify, "stratify")
        if y.numel() != n:
            raise ValueError(f"stratify has {y.numel()} labels but there are {n} nodes")
    rank, size, _ = _ranks(y, _generator(seed))
    is_train, is_val = _split_by_rank(rank, size, train, val)
    return NodeSplit(is_train, is_val, ~(is_train | is_val))


def stratified_graph_split(
    labels: Tensor | Sequence[int],
    train: float = 0.8,
    val: float = 0.1,
    seed: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Seeded stratified hold-out split of graphs (e.g. 80/10/10).

    Args:
        labels (Tensor or sequence): one class label per graph, e.g. ``dataset.y``.
        train (float): training fraction. (default: ``0.8``)
        val (float): validation fraction; the rest is the test set. (default: ``0.1``)
        seed (int): random seed. (default: ``0``)

    Returns:
        ``(train_idx, val_idx, test_idx)``: sorted, disjoint ``long`` index tensors covering
        ``range(len(labels))``.
    """
    _check_fractions(train=train, val=val)
    y = _as_labels(labels)
    rank, size, _ = _ranks(y, _generator(seed))
    is_train, is_val = _split_by_rank(rank, size, train, val)
    is_test = ~(is_train | is_val)
    return is_train.nonzero().view(-1), is_val.nonzero().view(-1), is_test.nonzero().view(-1)


def graph_kfold(
    labels: Tensor | Sequence[int],
    k: int = 10,
    fold: int = 0,
    seed: int = 0,
    val_fraction: float = 0.1,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Stratified k-fold cross-validation split, with a validation set carved from training.

    Items are shuffled within each class and dealt round-robin to the folds, continuing the
    deal from one class to the next, so every fold holds :math:`\lfloor n_c / k \rfloor` or
    :math:`\lceil n_c / k \rceil` items of each class :math:`c` and fold sizes differ by at
    most one. Fold ``fold`` is the test set; from the other :math:`k-1` folds a stratified
    fraction ``val_fraction`` (of the training folds) is held out for validation (model
    selection, as in Errica et al. 2020). The fold assignment depends only on ``seed`` and
    ``k``, so the ``k`` test sets of one seed partition the data.

    Args:
        labels (Tensor or sequence): one class label per graph.
        k (int): number of folds, ``k >= 2``. (default: ``10``)
        fold (int): which fold is the test set, ``0 <= fold < k``. (default: ``0``)
        seed (int): random seed. (default: ``0``)
        val_fraction (float): fraction of the training folds used for validation.
            (default: ``0.1``)

    Returns:
        ``(train_idx, val_idx, test_idx)``: sorted, disjoint ``long`` index tensors covering
        ``range(len(labels))``.
    """
    k = _as_int(k, "k")
    if k < 2:
        raise ValueError(f"k must be an int >= 2, got {k!r}")
    fold = _as_int(fold, "fold")
    if not 0 <= fold < k:
        raise ValueError(f"fold must be an int in [0, {k}), got {fold!r}")
    _check_fractions(val_fraction=val_fraction)
    y = _as_labels(labels)
    n = y.numel()
    if n < k:
        raise ValueError(f"cannot make {k} folds from {n} items")
    gen = _generator(seed)
    _, _, order = _ranks(y, gen)
    # dealing the class-sorted order round-robin gives per-class and total balance
    fold_of = torch.empty(n, dtype=torch.long)
    fold_of[order] = torch.arange(n) % k
    is_test = fold_of == fold
    pool = (~is_test).nonzero().view(-1)
    rank, size, _ = _ranks(y[pool], gen)
    in_val, _ = _split_by_rank(rank, size, val_fraction, 0.0)
    val_idx = pool[in_val].sort().values
    train_idx = pool[~in_val].sort().values
    return train_idx, val_idx, is_test.nonzero().view(-1)
