"""Every dataset loads from $GRAPHSMOOTH_DATA with the counts of the shared data README."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from graphsmooth.data import DATASETS, available_datasets, dataset_info, load_dataset
from graphsmooth.data.splits import geom_gcn_split, public_split

# Counts copied from shared/data/README.md (independent of the registry in datasets.py):
# name -> (graphs, nodes, directed edges, node features, classes)
README_COUNTS = {
    "Cora": (1, 2708, 10556, 1433, 7),
    "CiteSeer": (1, 3327, 9104, 3703, 6),
    "PubMed": (1, 19717, 88648, 500, 3),
    "Texas": (1, 183, 325, 1703, 5),
    "Cornell": (1, 183, 298, 1703, 5),
    "Wisconsin": (1, 251, 515, 1703, 5),
    "Chameleon": (1, 2277, 36101, 2325, 5),
    "Squirrel": (1, 5201, 217073, 2089, 5),
    "Actor": (1, 7600, 30019, 932, 5),
    "MUTAG": (188, 3371, 7442, 7, 2),
    "ENZYMES": (600, 19580, 74564, 3, 6),
    "PROTEINS": (1113, 43471, 162088, 3, 2),
    "IMDB-BINARY": (1000, 19773, 193062, 0, 2),
    "NCI1": (4110, 122747, 265506, 37, 2),
    "PTC_MR": (344, 4915, 10108, 18, 2),
}
PUBLIC_MASKS = {"Cora": (140, 500, 1000), "CiteSeer": (120, 500, 1000), "PubMed": (60, 500, 1000)}


def _load(name, root, cache, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PubMed", category=UserWarning)
        return load_dataset(name, root, cache=cache, **kwargs)


def test_registry_matches_readme():
    assert list(DATASETS) == list(README_COUNTS)
    for name, counts in README_COUNTS.items():
        info = DATASETS[name]
        assert (info.num_graphs, info.num_nodes, info.num_edges) == counts[:3]
        assert (info.num_features, info.num_classes) == counts[3:]
        assert info.kind == ("node" if counts[0] == 1 else "graph")


@pytest.mark.parametrize(
    "alias,name",
    [("cora", "Cora"), ("CITESEER", "CiteSeer"), ("imdb_binary", "IMDB-BINARY"),
     ("imdb-binary", "IMDB-BINARY"), ("ptc-mr", "PTC_MR"), ("film", "Actor"),
     ("squirrel", "Squirrel")],
)  # fmt: skip
def test_names_case_insensitive(alias, name):
    assert dataset_info(alias).name == name


def test_unknown_name_lists_known():
    with pytest.raises(ValueError, match="unknown dataset 'Coraa'.*Cora, CiteSeer.*PTC_MR"):
        dataset_info("Coraa")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("REDDIT-BINARY")


def test_missing_configured_root_raises_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="raw files of Cora not found.*download=True"):
        load_dataset("Cora", tmp_path / "empty", cache=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.pt"))


@pytest.mark.data
@pytest.mark.parametrize("name", list(README_COUNTS))
def test_dataset_counts(name, data_root, gs_cache):
    graphs, nodes, edges, features, classes = README_COUNTS[name]
    ds = _load(name, data_root, gs_cache, node_features="constant" if features == 0 else None)
    assert len(ds) == graphs
    assert ds.num_classes == classes
    collated = ds._data  # all graphs concatenated (PyG InMemoryDataset storage)
    assert (collated.num_nodes, collated.edge_index.shape[1]) == (nodes, edges)
    if graphs > 1:  # per-graph access agrees with the collated totals on a few graphs
        sizes = ds.slices["edge_index"].diff()
        for i in (0, graphs // 2, graphs - 1):
            assert ds[i].edge_index.shape[1] == int(sizes[i])
    assert ds.num_node_features == (features if features else 1)
    data = ds[0]
    assert int(data.edge_index.max()) < data.num_nodes
    if graphs == 1:
        y = data.y
        assert y.shape == (nodes,) and int(y.max()) == classes - 1
        if name in PUBLIC_MASKS:
            split = public_split(data)
            assert tuple(int(m.sum()) for m in split) == PUBLIC_MASKS[name]
        else:
            assert data.train_mask.shape == (nodes, 10)


@pytest.mark.data
def test_raw_files_are_linked_and_shared_data_untouched(data_root, gs_cache):
    ds = _load("Cora", data_root, gs_cache)
    raw = Path(ds.raw_dir)
    assert str(raw).startswith(str(gs_cache))
    assert all(p.is_symlink() for p in raw.iterdir())
    assert (raw / "ind.cora.x").resolve() == (data_root / "pyg/Cora/raw/ind.cora.x").resolve()
    assert Path(ds.processed_dir).is_dir() and not Path(ds.processed_dir).is_symlink()
    assert not (data_root / "pyg" / "Cora" / "processed").exists()


@pytest.mark.data
def test_pubmed_uses_approximate_copy_with_warning(data_root, gs_cache):
    with pytest.warns(UserWarning, match="PubMed.*approximate copy"):
        ds = load_dataset("pubmed", data_root, cache=gs_cache)
    assert (
        Path(ds.raw_dir, "ind.pubmed.allx").resolve()
        == (data_root / "pyg_approx/PubMed/raw/ind.pubmed.allx").resolve()
    )


@pytest.mark.data
def test_geom_gcn_split_equals_raw_npz(data_root, gs_cache):
    data = _load("Texas", data_root, gs_cache)[0]
    for index in (0, 7):
        with np.load(data_root / f"pyg/texas/raw/texas_split_0.6_0.2_{index}.npz") as ref:
            expected = [
                torch.from_numpy(ref[k].astype(bool))
                for k in ("train_mask", "val_mask", "test_mask")
            ]
        for mask, ref_mask in zip(geom_gcn_split(data, index), expected, strict=True):
            assert torch.equal(mask, ref_mask)
    with pytest.raises(ValueError, match="geom_gcn_split"):
        public_split(data)
    with pytest.raises(ValueError, match="index"):
        geom_gcn_split(data, 10)


@pytest.mark.data
def test_imdb_node_features(data_root, gs_cache):
    ds = _load("IMDB-BINARY", data_root, gs_cache)  # default: one-hot degree
    assert ds.num_node_features == 136  # maximum degree 135, computed independently below
    max_deg = 0
    for i in (0, 17, 999):
        g = ds[i]
        deg = torch.bincount(g.edge_index[0], minlength=g.num_nodes)
        assert torch.equal(g.x.argmax(1), deg)
        assert torch.equal(g.x.sum(1), torch.ones(g.num_nodes))
    for g in _load("IMDB-BINARY", data_root, gs_cache, node_features="constant"):
        max_deg = max(max_deg, int(torch.bincount(g.edge_index[0]).max()))
    assert max_deg == 135
    g = _load("IMDB-BINARY", data_root, gs_cache, node_features="constant")[3]
    assert torch.equal(g.x, torch.ones(g.num_nodes, 1))
    with pytest.raises(ValueError, match="node_features"):
        _load("MUTAG", data_root, gs_cache, node_features="ones")
    with pytest.raises(ValueError, match="node dataset"):
        _load("Cora", data_root, gs_cache, node_features="degree")


@pytest.mark.data
def test_pre_transform_variants_do_not_collide(data_root, gs_cache):
    import torch_geometric.transforms as T

    plain = _load("MUTAG", data_root, gs_cache)
    looped = _load("MUTAG", data_root, gs_cache, pre_transform=T.AddSelfLoops())
    assert Path(plain.processed_dir) != Path(looped.processed_dir)
    assert sum(g.edge_index.shape[1] for g in looped) == 7442 + 3371
    again = _load("MUTAG", data_root, gs_cache)  # the plain variant is still plain
    assert sum(g.edge_index.shape[1] for g in again) == 7442
    keyed = _load("MUTAG", data_root, gs_cache, pre_transform=T.AddSelfLoops(), cache_key="sl")
    assert Path(keyed.processed_dir).parts[-3] == "sl"


@pytest.mark.data
def test_transform_and_kwargs_pass_through(data_root, gs_cache):
    import torch_geometric.transforms as T

    ds = _load("Cora", data_root, gs_cache, transform=T.NormalizeFeatures(), split="full")
    data = ds[0]
    rows = data.x.sum(1)
    assert torch.allclose(rows[rows > 0], torch.ones(int((rows > 0).sum())))
    assert int(data.train_mask.sum()) == 2708 - 1500  # split="full" reached Planetoid
    enz = _load("ENZYMES", data_root, gs_cache, use_node_attr=True)
    assert enz.num_node_features == 21


@pytest.mark.data
@pytest.mark.parametrize(
    "name,kwargs",
    [("Cora", {"split": "geom-gcn"}), ("MUTAG", {"cleaned": True}),
     ("Chameleon", {"geom_gcn_preprocess": False})],
)  # fmt: skip
def test_variants_needing_other_raw_files_refused_offline(name, kwargs, data_root, gs_cache):
    with pytest.raises(ValueError, match="download=True"):
        load_dataset(name, data_root, cache=gs_cache, **kwargs)


@pytest.mark.data
def test_available_datasets(data_root, tmp_path):
    rows = available_datasets(data_root)
    assert [r.name for r in rows] == list(README_COUNTS)
    assert all(r.found for r in rows)
    assert dict((r.name, r.path) for r in rows)["PubMed"] == data_root / "pyg_approx/PubMed/raw"
    assert not any(r.found for r in available_datasets(tmp_path))
    # a user's own PyG root (no pyg/ sub-folder) is searched directly
    shutil.copytree(data_root / "pyg" / "MUTAG", tmp_path / "MUTAG")
    found = {r.name for r in available_datasets(tmp_path) if r.found}
    assert found == {"MUTAG"}
    ds = load_dataset("MUTAG", tmp_path, cache=tmp_path / "cache")
    assert len(ds) == 188


@pytest.mark.data
def test_env_root_is_used(data_root, gs_cache, monkeypatch):
    monkeypatch.setenv("GRAPHSMOOTH_DATA", os.fspath(data_root))
    monkeypatch.setenv("GRAPHSMOOTH_CACHE", os.fspath(gs_cache))
    ds = load_dataset("texas")
    assert ds[0].num_nodes == 183
    assert str(ds.raw_dir).startswith(str(gs_cache))
