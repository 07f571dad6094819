"""Strict config parsing: errors name the file and key, before any training."""

from __future__ import annotations

import pytest
import yaml

from graphsmooth.bench.config import ConfigError, Sweep, config_hash, expand, load_config
from graphsmooth.bench.runner import plan, run

from .conftest import tiny_config


def _write(tmp_path, data, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_unknown_key_names_file_key_and_suggestion(tmp_path):
    cfg = tiny_config(tmp_path / "out")
    cfg["model"] = {"name": "gcn", "hiden": 16}
    path = _write(tmp_path, cfg)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg and "model.hiden" in msg and "did you mean 'hidden'" in msg


def test_unknown_top_level_key(tmp_path):
    cfg = tiny_config(tmp_path / "out", trails=3)
    with pytest.raises(
        ConfigError, match=r"cfg.yaml: trails: unknown key \(did you mean 'trials'\?\)"
    ):
        load_config(_write(tmp_path, cfg))


def test_wrong_type(tmp_path):
    cfg = tiny_config(tmp_path / "out")
    cfg["training"] = {"max_epochs": "many"}
    with pytest.raises(ConfigError, match=r"training.max_epochs: expected int, got str 'many'"):
        load_config(_write(tmp_path, cfg))
    cfg["training"] = {"patience": 2.5}
    with pytest.raises(ConfigError, match="training.patience: expected int"):
        load_config(_write(tmp_path, cfg))


def test_bool_is_not_int_and_literal_suggestion(tmp_path):
    cfg = tiny_config(tmp_path / "out", split={"protocol": "randon"})
    with pytest.raises(ConfigError, match=r"split.protocol: .*did you mean 'random'"):
        load_config(_write(tmp_path, cfg))
    cfg = tiny_config(tmp_path / "out", trials=True)
    cfg.pop("seeds")
    with pytest.raises(ConfigError, match="trials: expected int, got bool"):
        load_config(_write(tmp_path, cfg))


def test_missing_required_field(tmp_path):
    cfg = tiny_config(tmp_path / "out")
    del cfg["dataset"]
    with pytest.raises(ConfigError, match=r"cfg.yaml: dataset: missing required field"):
        load_config(_write(tmp_path, cfg))
    with pytest.raises(ConfigError, match="task: missing required field"):
        load_config(_write(tmp_path, {"dataset": "Cora"}))


def test_unknown_task_suggests(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'node_classification'"):
        load_config(_write(tmp_path, {"task": "node_clasification", "dataset": "Cora"}))


def test_value_checks(tmp_path):
    cfg = tiny_config(tmp_path / "out", device="tpu")
    with pytest.raises(ConfigError, match="device: must be auto, cpu, cuda"):
        load_config(_write(tmp_path, cfg))
    cfg = tiny_config(tmp_path / "out", split={"train": 0.8, "val": 0.3})
    with pytest.raises(ConfigError, match="split.train"):
        load_config(_write(tmp_path, cfg))
    cfg = tiny_config(tmp_path / "out", trials=3)
    with pytest.raises(ConfigError, match="either 'seeds' or 'trials'"):
        load_config(_write(tmp_path, cfg))


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"dataset": "Coraa"}, r"dataset: unknown dataset 'Coraa'"),
        ({"dataset": "MUTAG"}, r"dataset: MUTAG is a graph-classification dataset"),
        ({"model": {"name": "gcnn"}}, r"model: unknown model 'gcnn'"),
        ({"model": {"name": "gcn", "options": {"heads": 2}}}, r"model: .*unknown option"),
        (
            {"transforms": [["lpc"]]},
            r"transforms: unknown transform 'lpc' \(did you mean 'lcp'\?\)",
        ),
        (
            {"transforms": [[{"rwpe": {"walk_len": 3}}]]},
            r"transforms: .*unknown option\(s\) \['walk_len'\]",
        ),
    ],
)
def test_semantic_errors_before_training(tmp_path, change, pattern):
    out = tmp_path / "out"
    cfg = tiny_config(out, **change)
    with pytest.raises(ConfigError, match=pattern) as err:
        run(_write(tmp_path, cfg), verbose=False)
    assert str(err.value).startswith(str(tmp_path / "cfg.yaml") + ": ")
    assert not out.exists()  # nothing was written, nothing trained


def test_cuda_request_without_cuda_fails_early(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="device: 'cuda' requested but CUDA is not available"):
        plan(load_config(tiny_config(tmp_path / "o", device="cuda")))


def test_sweeps_expand_cartesian(tmp_path):
    cfg = tiny_config(tmp_path / "out")
    cfg["model"] = {"name": ["gcn", "gin"], "hidden": 16}
    config = load_config(cfg)
    assert isinstance(config.dataset, Sweep) and isinstance(config.transforms, Sweep)
    points = expand(config)
    assert len(points) == 2 * 2 * 2
    combos = {(p.dataset.label, tuple(map(str, p.transforms)), p.model.name) for p, _ in points}
    assert len(combos) == 8
    _, swept = points[-1]
    assert set(swept) == {"dataset", "transforms", "model.name"}


def test_list_valued_field_is_not_a_sweep(tmp_path):
    cfg = tiny_config(tmp_path / "out", transforms=["normalize_features", "rwpe"])
    config = load_config(cfg)
    assert config.transforms == ["normalize_features", "rwpe"]
    assert len(expand(config)) == 2  # only the dataset sweep


def test_model_list_sweep_and_label_disambiguation(tmp_path):
    cfg = tiny_config(tmp_path / "out", transforms=[])
    cfg["model"] = [{"name": "gcn", "hidden": 8}, {"name": "gcn", "hidden": 16}]
    _, trials = plan(load_config(cfg))
    methods = sorted({t.method for t in trials})
    assert len(methods) == 2 and all(m.startswith("gcn [model=") for m in methods)
    cfg = tiny_config(tmp_path / "out", transforms=[[{"rwpe": {"walk_length": 2}}], ["rwpe"]])
    _, trials = plan(load_config(cfg))
    assert sorted({t.method for t in trials}) == [
        'gcn+rwpe [transforms=["rwpe"]]',
        'gcn+rwpe [transforms=[{"rwpe": {"walk_length": 2}}]]',
    ]


def test_float_from_yaml_exponent_string(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("task: node_classification\ndataset: csbm\noptim: {lr: 1e-3}\n")
    assert load_config(path).optim.lr == pytest.approx(1e-3)


def test_config_hash_ignores_output_and_device(tmp_path):
    a = load_config(tiny_config(tmp_path / "a", transforms=[], dataset="csbm"))
    b = load_config(tiny_config(tmp_path / "b", transforms=[], dataset="csbm", device="auto"))
    c = load_config(tiny_config(tmp_path / "c", transforms=[], dataset="csbm", optim={"lr": 0.02}))
    assert config_hash(a, {"seed": 0}) == config_hash(b, {"seed": 0})
    assert config_hash(a, {"seed": 0}) != config_hash(a, {"seed": 1})
    assert config_hash(a, {"seed": 0}) != config_hash(c, {"seed": 0})


def test_trial_enumeration_per_protocol(tmp_path):
    graph = {
        "task": "graph_classification",
        "output": str(tmp_path / "g"),
        "seeds": [0, 1],
        "dataset": ["MUTAG", "ENZYMES"],
        "split": {"protocol": "kfold", "folds": 5, "fold_indices": [0, 4]},
    }
    _, trials = plan(load_config(graph))
    assert len(trials) == 2 * 2 * 2
    assert [t.trial for t in trials[:4]] == [
        {"fold": 0, "seed": 0},
        {"fold": 0, "seed": 1},
        {"fold": 4, "seed": 0},
        {"fold": 4, "seed": 1},
    ]
    assert [t.dataset for t in trials] == ["MUTAG"] * 4 + ["ENZYMES"] * 4
    with pytest.raises(ConfigError, match=r"split.fold_indices: indices \[5\] outside 0..4"):
        load_config(dict(graph, split={"protocol": "kfold", "folds": 5, "fold_indices": [5]}))
    node = {
        "task": "node_classification",
        "trials": 3,
        "dataset": "Texas",
        "split": {"protocol": "geom_gcn"},
    }
    _, trials = plan(load_config(node))
    assert len(trials) == 10 * 3 and trials[-1].trial == {"split": 9, "seed": 2}
    assert len({t.key for t in trials}) == 30


def test_trials_override_from_the_command_line(tmp_path):
    import yaml

    from graphsmooth.bench.runner import plan
    from graphsmooth.cli import main

    cfg = {
        "task": "node_classification",
        "trials": 100,
        "dataset": {"name": "csbm", "params": {"num_nodes": 60, "num_features": 4}},
        "model": {"name": "gcn", "hidden": 8, "layers": 2},
        "training": {"max_epochs": 2, "patience": 1},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert len(plan(str(path))[1]) == 100
    out = tmp_path / "out"
    assert main(["run", str(path), "--trials", "2", "--out", str(out), "--quiet"]) == 0
    lines = (out / "results.jsonl").read_text().strip().splitlines()
    assert len(lines) == 2
    # the same override resumes: nothing left to run
    assert main(["run", str(path), "--trials", "2", "--out", str(out), "--quiet"]) == 0
    assert len((out / "results.jsonl").read_text().strip().splitlines()) == 2
