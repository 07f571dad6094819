"""End-to-end runner: tiny configs, reproducibility, resume after SIGKILL, reports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from graphsmooth.bench.config import RunConfig
from graphsmooth.bench.report import read_records
from graphsmooth.bench.runner import plan, run
from graphsmooth.bench.tasks import Task, register_task

from .conftest import tiny_config

ROOT = Path(__file__).resolve().parents[2]


def _metrics(out):
    """Metrics per trial key, without timings (keys ending in ``_s``)."""
    return [
        (r["key"], {k: v for k, v in r["metrics"].items() if not k.endswith("_s")})
        for r in read_records(out)
    ]


def test_tiny_end_to_end_and_identical_rerun(tmp_path):
    res = run(tiny_config(tmp_path / "a"), verbose=False)
    assert (res.total, res.skipped, res.ran, res.errors) == (8, 0, 8, [])
    for name in ("results.jsonl", "table.md", "table.csv", "plot.png", "config.yaml"):
        assert (tmp_path / "a" / name).is_file(), name
    table = (tmp_path / "a" / "table.md").read_text()
    assert "| method | homo | hetero |" in table
    assert "| gcn+rwpe |" in table and "over 2 trials per cell" in table
    records = read_records(tmp_path / "a")
    assert {r["device"] for r in records} == {"cpu"}
    for r in records:
        m = r["metrics"]
        assert 0.0 <= m["test_acc"] <= 1.0 and 1 <= m["best_epoch"] <= m["epochs"] <= 15
    # same config + seeds in a fresh directory -> bit-identical metrics
    run(tiny_config(tmp_path / "b"), verbose=False)
    assert _metrics(tmp_path / "a") == _metrics(tmp_path / "b")
    # rerun in the same directory: everything skipped, table unchanged
    again = run(tiny_config(tmp_path / "a"), verbose=False)
    assert (again.skipped, again.ran) == (8, 0)
    assert (tmp_path / "a" / "table.md").read_text() == table


def test_rwpe_changes_inputs_and_results(tmp_path):
    run(tiny_config(tmp_path / "a"), verbose=False)
    records = read_records(tmp_path / "a")
    by = {(r["method"], r["dataset"], r["trial"]["seed"]): r["metrics"]["val_acc"] for r in records}
    assert any(
        by[("gcn", d, s)] != by[("gcn+rwpe", d, s)] for d in ("homo", "hetero") for s in (0, 1)
    )


def test_process_pool_matches_sequential(tmp_path):
    cfg = tiny_config(tmp_path / "seq", transforms=[])
    run(cfg, verbose=False)
    run(tiny_config(tmp_path / "pool", transforms=[]), workers=2, verbose=False)
    assert _metrics(tmp_path / "seq") == _metrics(tmp_path / "pool")


def test_max_trials_and_truncated_line(tmp_path):
    out = tmp_path / "out"
    first = run(tiny_config(out), max_trials=3, verbose=False)
    assert first.ran == 3 and not first.complete
    with open(out / "results.jsonl", "a") as fh:  # a record cut by a kill mid-write
        fh.write('{"key": "abc", "metr')
    second = run(tiny_config(out), verbose=False)
    assert (second.skipped, second.ran) == (3, 5)
    assert len(read_records(out)) == 8


def test_more_seeds_keep_finished_trials_and_old_keys_count(tmp_path):
    out = tmp_path / "out"
    first = run(tiny_config(out, transforms=[]), verbose=False)
    assert (first.total, first.ran) == (4, 4)
    before = {(r["dataset"], r["trial"]["seed"]): r["metrics"] for r in read_records(out)}
    # the same run extended to three seeds: only the new seed's trials run
    more = run(tiny_config(out, transforms=[], seeds=[0, 1, 2]), verbose=False)
    assert (more.total, more.skipped, more.ran) == (6, 4, 2)
    records = read_records(out)
    assert len(records) == 6
    table = (out / "table.md").read_text()
    assert "over 3 trials per cell" in table  # the old and the new records are tabulated
    # the extended run's seed-2 trials equal those of a fresh run with seed 2 alone
    fresh = run(tiny_config(tmp_path / "fresh", transforms=[], seeds=[2]), verbose=False)
    assert fresh.ran == 2
    new = {(r["dataset"], r["trial"]["seed"]): r["metrics"] for r in records}
    for r in read_records(tmp_path / "fresh"):
        a = {k: v for k, v in r["metrics"].items() if not k.endswith("_s")}
        b = {k: v for k, v in new[(r["dataset"], 2)].items() if not k.endswith("_s")}
        assert a == b
    assert all(new[k] == v for k, v in before.items())
    # a record written under an earlier key scheme (a different stored key) still counts
    lines = (out / "results.jsonl").read_text().splitlines()
    old = [json.loads(line) for line in lines]
    for r in old:
        r["key"] = "legacy-" + r["key"]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    again = run(tiny_config(out, transforms=[], seeds=[0, 1, 2]), verbose=False)
    assert (again.skipped, again.ran) == (6, 0)
    assert "over 3 trials per cell" in (out / "table.md").read_text()


def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    cfg = tiny_config(tmp_path / "killed", seeds=list(range(6)))
    cfg["training"] = {"max_epochs": 60, "patience": 60}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphsmooth.cli", "run", str(path), "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results = tmp_path / "killed" / "results.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if results.is_file() and len(results.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(read_records(tmp_path / "killed"))
    assert 2 <= done_before < 24
    resumed = run(path, verbose=False)
    assert resumed.skipped == done_before and resumed.ran == 24 - done_before
    full = dict(cfg, output=str(tmp_path / "full"))
    run(full, verbose=False)
    assert (tmp_path / "killed" / "table.md").read_text() == (
        tmp_path / "full" / "table.md"
    ).read_text()
    assert (tmp_path / "killed" / "table.csv").read_text() == (
        tmp_path / "full" / "table.csv"
    ).read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_exit_when_the_runner_is_killed(tmp_path):
    cfg = tiny_config(tmp_path / "out", seeds=list(range(6)))
    cfg["training"] = {"max_epochs": 400, "patience": 400}  # trials outlive the kill
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphsmooth.cli", "run", str(path), "--quiet", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def children(pid):
        out = []
        for d in Path("/proc").iterdir():
            try:
                if (
                    d.name.isdigit()
                    and int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
                ):
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
        return out

    deadline = time.time() + 120
    workers = []
    while time.time() < deadline and len(workers) < 2:  # two pool workers (+ resource tracker)
        workers = [
            c for c in children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()
        ]
        time.sleep(0.1)
    assert len(workers) >= 2, "the pool did not start"
    time.sleep(2.0)  # workers initialised and training
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    alive = workers
    while time.time() < deadline and alive:
        alive = [
            w
            for w in workers
            if Path(f"/proc/{w}").exists()
            and "spawn_main" in Path(f"/proc/{w}/cmdline").read_text()
        ]
        time.sleep(0.2)
    assert not alive, f"orphaned workers still running: {alive}"


def test_report_cli_regenerates(tmp_path):
    from graphsmooth.cli import main

    out = tmp_path / "out"
    run(tiny_config(out, transforms=[]), verbose=False)
    table = (out / "table.md").read_text()
    (out / "table.md").unlink()
    (out / "plot.png").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "table.md").read_text() == table and (out / "plot.png").is_file()
    assert main(["report", str(tmp_path / "nothing")]) == 2


def test_cli_run_config_error_exit_code(tmp_path, capsys):
    from graphsmooth.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tiny_config(tmp_path / "o", modle={"name": "gcn"})))
    assert main(["run", str(path), "--quiet"]) == 2
    assert "modle: unknown key (did you mean 'model'?)" in capsys.readouterr().err


def test_invalid_dataset_parameters_fail_before_training(tmp_path):
    cfg = tiny_config(tmp_path / "out", transforms=[], seeds=[0])
    bad = {"name": "csbm", "label": "bad", "params": {"homophily": 2.0}}
    cfg["dataset"] = [cfg["dataset"][0], bad]
    with pytest.raises(ValueError):  # prepare() builds every point before any training
        run(cfg, verbose=False)
    assert not (tmp_path / "out" / "results.jsonl").exists()


@dataclass(kw_only=True)
class _FlakyConfig(RunConfig):
    fail_seeds: list[int] = field(default_factory=list)
    scale: float = 1.0


@register_task("_test_flaky")
class _FlakyTask(Task):
    """A task defined in a test: adding a task is one class and one registration."""

    Config = _FlakyConfig
    metrics = ("score",)

    def trials(self, config):
        return [{"seed": s} for s in config.seed_list]

    def run_trial(self, config, trial):
        if trial["seed"] in config.fail_seeds:
            raise RuntimeError(f"boom {trial['seed']}")
        return {"score": config.scale * trial["seed"]}

    def labels(self, config):
        return f"scale={config.scale}", "synthetic"


def test_custom_task_failed_trial_recorded_and_retried(tmp_path):
    out = tmp_path / "out"
    cfg = {
        "task": "_test_flaky",
        "output": str(out),
        "seeds": [1, 2, 3],
        "fail_seeds": [2],
        "scale": [1.0, 2.0],
    }
    res = run(cfg, verbose=False)
    assert res.ran == 4 and len(res.errors) == 2 and not res.complete
    assert "boom 2" in res.errors[0]["error"]
    assert len((out / "errors.jsonl").read_text().splitlines()) == 2
    table = (out / "table.md").read_text()
    # mean of seeds 1, 3 scaled: 2.0 and 4.0; CI = t_{0.975,1} * sqrt(2) * scale / sqrt(2)
    assert "| scale=1.0 | 2 ± 12.71 |" in table and "| scale=2.0 | 4 ± 25.41 |" in table
    cfg["fail_seeds"] = []  # a changed config is a new point: nothing is reused
    res2 = run(cfg, verbose=False)
    assert res2.skipped == 0 and res2.ran == 6 and res2.complete
    # the table holds only the current config's trials: seeds 1, 2, 3 -> mean 2, s = 1,
    # CI = t_{0.975,2} / sqrt(3) = 4.302653 / 1.732051 = 2.484
    table = (out / "table.md").read_text()
    assert "| scale=1.0 | 2 ± 2.484 |" in table and "| scale=2.0 | 4 ± 4.968 |" in table
    assert len(read_records(out)) == 10


def _mutag_config(out, **overrides) -> dict:
    """A graph-classification config on MUTAG that trains for a few epochs."""
    cfg = {
        "task": "graph_classification",
        "output": str(out),
        "device": "cpu",
        "seeds": [0],
        "dataset": "MUTAG",
        "training": {"max_epochs": 3, "patience": 3, "batch_size": 32},
    }
    cfg.update(overrides)
    return cfg


@pytest.mark.data
def test_graph_classification_on_mutag(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("GRAPHSMOOTH_DATA", str(data_root))
    cfg = _mutag_config(
        tmp_path / "g",
        transforms=[[], ["rwpe"]],
        model={"name": ["gin", "gcn"], "hidden": 16, "layers": 2},
    )
    res = run(cfg, verbose=False)
    assert res.ran == 4 and not res.errors
    rec = read_records(tmp_path / "g")
    assert {r["method"] for r in rec} == {"gin", "gin+rwpe", "gcn", "gcn+rwpe"}
    assert all(0 <= r["metrics"]["test_acc"] <= 1 for r in rec)
    json.dumps(rec)


@pytest.mark.data
def test_node_protocols_on_real_data(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("GRAPHSMOOTH_DATA", str(data_root))
    base = {
        "task": "node_classification",
        "device": "cpu",
        "seeds": [0],
        "model": {"name": "gcn", "hidden": 8, "layers": 2},
        "training": {"max_epochs": 2, "patience": 2},
    }
    public = run(
        dict(base, output=str(tmp_path / "p"), dataset="Cora", split={"protocol": "public"}),
        verbose=False,
    )
    geom = run(
        dict(
            base,
            output=str(tmp_path / "g"),
            dataset="Texas",
            split={"protocol": "geom_gcn", "indices": [0, 3]},
        ),
        verbose=False,
    )
    assert public.ran == 1 and geom.ran == 2 and not public.errors and not geom.errors
    trials = [r["trial"] for r in read_records(tmp_path / "g")]
    assert trials == [{"seed": 0, "split": 0}, {"seed": 0, "split": 3}]


def test_model_extras_are_recorded_with_the_trial(tmp_path):
    # the omega networks report their learned omega (final weights) through trial_extras();
    # the runner stores it in the record, outside the metrics; GCN reports nothing
    import torch

    from graphsmooth.bench.config import from_dict
    from graphsmooth.bench.tasks import get_task
    from graphsmooth.bench.tasks.classification import with_extras
    from graphsmooth.nn.omega_models import OmegaGCN

    cfg = tiny_config(
        tmp_path / "o",
        seeds=[0],
        transforms=[[]],
        model=[
            {"name": "omega_gcn", "hidden": 8, "layers": 3},
            {"name": "gcn", "hidden": 8, "layers": 2},
        ],
    )
    run(cfg, verbose=False)
    records = read_records(tmp_path / "o")
    assert len(records) == 4
    for r in records:
        assert "extras" not in r["metrics"]
        if r["method"].startswith("gcn"):
            assert "extras" not in r
            continue
        omega = torch.tensor(r["extras"]["omega"])
        assert omega.shape == (3, 8)
        assert not torch.allclose(omega, omega[0, 0].expand_as(omega))  # trained per channel
    # the same trial run directly: its model's omega after training is what was recorded
    task = get_task("node_classification")
    _, trials = plan(cfg)
    t = next(t for t in trials if t.method.startswith("omega") and t.dataset == "homo")
    rec = next(r for r in records if r["key"] == t.key)
    point = from_dict(task.Config, t.payload()["config"])
    again = task.run_trial(point, t.payload()["trial"])
    assert again["extras"] == rec["extras"]
    # with_extras: nothing added for models without the hook
    assert with_extras({"a": 1.0}, torch.nn.Linear(2, 2)) == {"a": 1.0}
    m = OmegaGCN(task="node", in_channels=4, out_channels=2, hidden=5, layers=2)
    assert with_extras({}, m)["extras"]["omega"] == m.omega_values().tolist()


def test_omega_networks_train_on_borf_rewired_graphs_with_lcp(tmp_path):
    # issue 6: the omega networks combine with the curvature transforms. The model must see the
    # BORF-rewired graph and the 5 LCP columns after the 8 raw features, exactly as the two
    # transforms applied by hand give them
    import torch

    from graphsmooth.bench.config import from_dict
    from graphsmooth.bench.tasks import get_task
    from graphsmooth.bench.tasks.classification import _build, prepared_graphs
    from graphsmooth.curvature import LocalCurvatureProfile
    from graphsmooth.rewiring import BORF

    borf = {"iterations": 2, "add": 4, "remove": 2}
    cfg = tiny_config(
        tmp_path / "c",
        seeds=[0],
        transforms=[[], [{"borf": borf}, "lcp"]],
        model=[
            {"name": "omega_gcn", "hidden": 8, "layers": 2},
            {"name": "omega_gat", "hidden": 8, "layers": 2, "heads": 2},
        ],
    )
    res = run(cfg, verbose=False)
    assert res.ran == 8 and not res.errors
    records = read_records(tmp_path / "c")
    assert all(torch.tensor(r["extras"]["omega"]).shape == (2, 8) for r in records)
    curv = [r for r in records if r["method"].endswith("+borf+lcp")]
    assert len(curv) == 4
    task = get_task("node_classification")
    _, trials = plan(cfg)
    for ds in ("homo", "hetero"):
        plain = next(t for t in trials if t.dataset == ds and "+" not in t.method)
        both = next(t for t in trials if t.dataset == ds and t.method == "omega_gat+borf+lcp")
        (raw,), _ = prepared_graphs(from_dict(task.Config, plain.point), "node")
        point = from_dict(task.Config, both.point)
        (seen,), _ = prepared_graphs(point, "node")
        expected = LocalCurvatureProfile()(BORF(**borf)(raw.clone()))
        assert seen.x.shape == (120, 8 + 5)
        torch.testing.assert_close(seen.x, expected.x)
        assert torch.equal(seen.edge_index, expected.edge_index)
        assert not torch.equal(seen.edge_index, raw.edge_index)  # rewired
        model = _build(point, "node", seen.x.size(1), 2)
        assert model.lin_open.in_features == 13
    # the transforms changed what was learned
    by = {(r["method"], r["dataset"]): r["metrics"]["val_acc"] for r in records}
    assert any(
        by[(m, d)] != by[(m + "+borf+lcp", d)]
        for m in ("omega_gcn", "omega_gat")
        for d in ("homo", "hetero")
    )


@pytest.mark.data
def test_omega_graph_network_with_lcp_on_mutag(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("GRAPHSMOOTH_DATA", str(data_root))
    cfg = _mutag_config(
        tmp_path / "m",
        split={"protocol": "kfold", "folds": 10, "val": 0.1, "fold_indices": [0]},
        transforms=[["lcp"]],
        model=[
            {"name": "omega_gcn", "hidden": 8, "layers": 2},
            {"name": "omega_gat", "hidden": 8, "layers": 2, "heads": 2},
        ],
    )
    res = run(cfg, verbose=False)
    assert res.ran == 2 and not res.errors
    import torch

    for r in read_records(tmp_path / "m"):
        assert r["method"].endswith("+lcp") and 0 <= r["metrics"]["test_acc"] <= 1
        assert torch.tensor(r["extras"]["omega"]).shape == (2, 8)
