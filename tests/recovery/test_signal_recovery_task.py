"""The runner's signal_recovery task: strict config, one small run equal to direct calls."""

from __future__ import annotations

import json

import pytest

from graphsmooth.bench.config import ConfigError, load_config
from graphsmooth.data.signals import load_timegnn_signal
from graphsmooth.recovery import evaluation_mask, graphtrss, recovery_metrics, sampling_mask


def _cfg(tmp_path, **over):
    cfg = {
        "task": "signal_recovery",
        "name": "t",
        "output": str(tmp_path / "out"),
        "device": "cpu",
        "seeds": [3],
        "dataset": {"name": "pm25", "num_steps": 40},
        "density": [0.3, 0.4],
        "method": [
            {"name": "graphtrss", "params": {"alpha": 0.2, "eps": 0.05}},
            {"name": "interp_nearest"},
        ],
    }
    cfg.update(over)
    return cfg


def test_config_is_strict(tmp_path):
    with pytest.raises(ConfigError, match="densty"):
        load_config({**_cfg(tmp_path), "densty": 0.3})
    with pytest.raises(ConfigError, match="density"):
        load_config(_cfg(tmp_path, density=1.5))


@pytest.mark.data
def test_validation_names_the_bad_method(tmp_path, data_root):
    from graphsmooth.bench.runner import plan

    with pytest.raises(ConfigError, match="unknown method 'kriging'"):
        plan(_cfg(tmp_path, method={"name": "kriging"}))


@pytest.mark.data
def test_small_run_matches_direct_calls(tmp_path, data_root, monkeypatch):
    from graphsmooth.bench.runner import run

    monkeypatch.setenv("GRAPHSMOOTH_DATA", str(data_root))
    result = run(_cfg(tmp_path), verbose=False)
    assert result.ran == 4 and not result.errors
    recs = [json.loads(line) for line in open(tmp_path / "out" / "results.jsonl")]
    by = {(r["method"], r["dataset"]): r["metrics"] for r in recs}
    sig = load_timegnn_signal("pm25", str(data_root), num_steps=40)
    mask = sampling_mask(sig.valid, 0.4, seed=3)
    res = graphtrss(sig.signal * mask, mask, sig.edge_index, sig.edge_weight, alpha=0.2, eps=0.05)
    direct = recovery_metrics(sig.signal, res.x_hat, evaluation_mask(sig.valid, mask))
    assert by[("graphtrss", "pm25 m=0.4")]["rmse"] == pytest.approx(direct.rmse, rel=1e-9)
    assert set(by) == {
        ("graphtrss", "pm25 m=0.3"),
        ("graphtrss", "pm25 m=0.4"),
        ("interp_nearest", "pm25 m=0.3"),
        ("interp_nearest", "pm25 m=0.4"),
    }
    # a rerun skips every finished trial
    again = run(_cfg(tmp_path), verbose=False)
    assert again.ran == 0 and again.skipped == 4
