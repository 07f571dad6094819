"""``graphsmooth datasets`` command."""

from __future__ import annotations

import argparse
import shutil

import pytest

from graphsmooth.data import cli as data_cli


def _run(argv, capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="graphsmooth")
    data_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def _row(out: str, name: str) -> list[str]:
    for line in out.splitlines():
        if line.split() and line.split()[0] == name:
            return line.split()
    raise AssertionError(f"no row for {name} in:\n{out}")


def test_datasets_quick_empty_root(tmp_path, capsys):
    code, out = _run(["datasets", "--root", str(tmp_path), "--quick"], capsys)
    assert code == 0
    assert f"data root: {tmp_path} (from argument)" in out
    assert _row(out, "Cora")[:3] == ["Cora", "node", "no"]
    assert _row(out, "NCI1")[:3] == ["NCI1", "graph", "no"]


@pytest.mark.data
def test_datasets_quick_plain_pyg_root(tmp_path, capsys, data_root):
    shutil.copytree(data_root / "pyg" / "MUTAG", tmp_path / "MUTAG")
    code, out = _run(["datasets", "--root", str(tmp_path), "--quick"], capsys)
    assert _row(out, "MUTAG")[:8] == ["MUTAG", "graph", "yes", "188*", "3371*", "7442*", "7*", "2*"]
    assert _row(out, "Cora")[2] == "no"


@pytest.mark.data
def test_datasets_full_counts(data_root, gs_cache, capsys):
    code, out = _run(["datasets", "--root", str(data_root), "--cache", str(gs_cache)], capsys)
    assert code == 0
    assert _row(out, "Cora")[2:8] == ["yes", "1", "2708", "10556", "1433", "7"]
    assert _row(out, "PubMed")[2:8] == ["approx", "1", "19717", "88648", "500", "3"]
    assert _row(out, "IMDB-BINARY")[2:8] == ["yes", "1000", "19773", "193062", "136", "2"]
    assert _row(out, "Squirrel")[-1] == str(data_root / "pyg/squirrel/geom_gcn/raw")


def test_registered_in_main_cli(tmp_path, capsys):
    from graphsmooth.cli import main

    assert main(["datasets", "--root", str(tmp_path), "--quick"]) == 0
    assert "Texas" in capsys.readouterr().out
