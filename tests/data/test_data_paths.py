"""Root and cache resolution, raw-file linking (no shared data needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graphsmooth.data.datasets import _callable_key, _processing_key, find_raw_dir
from graphsmooth.data.paths import cache_dir, data_root, link_files, pyg_root, resolve_data_root


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHSMOOTH_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("PYG_HOME", str(tmp_path / "pyg_home"))
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_root(tmp_path / "explicit")[1] == "argument"
    assert data_root() == tmp_path / "env"
    assert resolve_data_root()[1] == "environment"
    monkeypatch.delenv("GRAPHSMOOTH_DATA")
    assert data_root() == tmp_path / "pyg_home"
    assert resolve_data_root()[1] == "default"
    monkeypatch.delenv("PYG_HOME")
    assert data_root() == Path(os.path.expanduser("~/.cache/pyg"))


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHSMOOTH_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("GRAPHSMOOTH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "graphsmooth"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path(os.path.expanduser("~/.cache/graphsmooth"))


def test_pyg_root_layouts(tmp_path):
    # a plain PyG root (a user's own cache) is used as is ...
    assert pyg_root(tmp_path) == tmp_path
    # ... and the graphsmooth layout has its PyG roots under pyg/
    (tmp_path / "pyg").mkdir()
    assert pyg_root(tmp_path) == tmp_path / "pyg"


def _fake_cora(folder: Path) -> Path:
    raw = folder / "Cora" / "raw"
    raw.mkdir(parents=True)
    for suffix in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index"):
        (raw / f"ind.cora.{suffix}").write_bytes(b"fake")
    return raw


def test_find_raw_dir_in_both_layouts(tmp_path):
    assert find_raw_dir("Cora", tmp_path) == (None, False)
    raw = _fake_cora(tmp_path)  # plain PyG root
    assert find_raw_dir("cora", tmp_path) == (raw, False)
    (raw / "ind.cora.allx").unlink()  # incomplete: not found
    assert find_raw_dir("Cora", tmp_path) == (None, False)
    raw2 = _fake_cora(tmp_path / "other" / "pyg")  # graphsmooth layout
    assert find_raw_dir("Cora", tmp_path / "other") == (raw2, False)


def test_find_raw_dir_pubmed_prefers_complete_copy(tmp_path):
    names = [f"ind.pubmed.{s}" for s in ("x", "tx", "allx", "y", "ty", "ally", "graph")]
    names.append("ind.pubmed.test.index")
    approx = tmp_path / "pyg_approx" / "PubMed" / "raw"
    approx.mkdir(parents=True)
    exact = tmp_path / "pyg" / "PubMed" / "raw"
    exact.mkdir(parents=True)
    for name in names:
        (approx / name).write_bytes(b"a")
        if name != "ind.pubmed.allx":
            (exact / name).write_bytes(b"e")
    assert find_raw_dir("PubMed", tmp_path) == (approx, True)
    (exact / "ind.pubmed.allx").write_bytes(b"e")
    assert find_raw_dir("PubMed", tmp_path) == (exact, False)


def test_link_files_links_not_copies(tmp_path):
    raw = _fake_cora(tmp_path / "src")
    (raw / "subdir").mkdir()
    target = tmp_path / "work" / "Cora" / "raw"
    link_files(raw, target)
    linked = sorted(p.name for p in target.iterdir())
    assert linked == sorted(p.name for p in raw.iterdir() if p.is_file())
    assert all((target / n).is_symlink() for n in linked)
    assert (target / "ind.cora.x").resolve() == (raw / "ind.cora.x").resolve()
    link_files(raw, target)  # idempotent
    assert sorted(p.name for p in target.iterdir()) == linked
    # a stale link (raw folder moved) is replaced
    raw2 = _fake_cora(tmp_path / "src2")
    link_files(raw2, target)
    assert (target / "ind.cora.x").resolve() == (raw2 / "ind.cora.x").resolve()


def test_processing_key_separates_pre_transforms():
    import torch_geometric.transforms as T

    assert _processing_key(None, None, None) == "default"
    a = _processing_key(T.OneHotDegree(3), None, None)
    b = _processing_key(T.OneHotDegree(4), None, None)
    assert a != b and a.startswith("pre-")
    assert a == _processing_key(T.OneHotDegree(3), None, None)  # stable across instances
    f = lambda d: d  # noqa: E731
    g = lambda d: d.clone()  # noqa: E731
    assert _callable_key(f) != _callable_key(g)  # lambdas print alike but differ
    assert _processing_key(f, None, None) != _processing_key(g, None, None)
    assert _processing_key(f, None, "mine") == "mine"

    # a transform whose repr hides its parameters is told apart by its attributes
    class Scale(T.BaseTransform):
        def __init__(self, factor):
            self.factor = factor

        def forward(self, data):
            data.x = data.x * self.factor
            return data

    assert repr(Scale(1)) == repr(Scale(2))
    assert _processing_key(Scale(1), None, None) != _processing_key(Scale(2), None, None)
    assert _processing_key(Scale(1), None, None) == _processing_key(Scale(1), None, None)
    composed = [
        _processing_key(T.Compose([T.AddSelfLoops(), Scale(i)]), None, None) for i in (1, 2)
    ]
    assert composed[0] != composed[1]
    assert _processing_key(None, f, None) != _processing_key(None, g, None)  # pre_filter
    with pytest.raises(ValueError, match="cache_key"):
        _processing_key(None, None, "../escape")


def test_file_lock_excludes_second_holder(tmp_path):
    import threading

    from graphsmooth.data.paths import file_lock

    lock = tmp_path / "work" / ".lock"
    held, release, acquired = threading.Event(), threading.Event(), threading.Event()

    def first():
        with file_lock(lock):
            held.set()
            release.wait(10)

    def second():
        with file_lock(lock):
            acquired.set()

    a = threading.Thread(target=first)
    a.start()
    assert held.wait(10)
    b = threading.Thread(target=second)
    b.start()
    assert not acquired.wait(0.3)  # blocked while the first holder keeps the lock
    release.set()
    assert acquired.wait(10)  # and gets it once released
    a.join()
    b.join()
