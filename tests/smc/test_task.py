import pytest

from graphsmooth.bench.config import ConfigError
from graphsmooth.bench.tasks import get_task


def test_smoothing_task_runs_against_kalman():
    task = get_task("smoothing")
    cfg = task.Config(task="smoothing", method="ppg", num_particles=8, num_steps=10,
                      ppg_sweeps=3, ppg_burn_in=1, seeds=[0])  # fmt: skip
    out = task.run_trial(cfg, task.trials(cfg)[0])
    assert set(out) >= {"abs_error", "error", "cpu_s", "exact"}
    assert out["abs_error"] == pytest.approx(abs(out["error"]))
    assert out["abs_error"] < 0.5 * out["exact"]  # E[sum x^2] > 0, a rough sanity bound
    assert task.labels(cfg)[0].startswith("ppg N=8")
    with pytest.raises(ConfigError):
        task.Config(task="smoothing", method="ffbs")


def test_smoothing_task_backward_kernel_option():
    task = get_task("smoothing")
    cfg = task.Config(task="smoothing", method="paris", num_particles=8, num_steps=10,
                      backward="rejection", seeds=[0])  # fmt: skip
    out = task.run_trial(cfg, task.trials(cfg)[0])
    assert out["abs_error"] < 0.5 * out["exact"]
    assert task.labels(cfg)[0] == "paris N=8 backward=rejection"
    with pytest.raises(ConfigError, match="unknown backward kernel"):
        task.Config(task="smoothing", backward="magic")
    with pytest.raises(ConfigError, match="ppg needs backward draws"):
        task.Config(task="smoothing", method="ppg", backward="exact")


def test_smoothing_configs_load():
    from pathlib import Path

    from graphsmooth.bench.config import expand, load_config

    root = Path(__file__).resolve().parents[2] / "configs" / "smc"
    points = [p for f in sorted(root.glob("*.yaml")) for p, _ in expand(load_config(f))]
    assert len(points) == 3 and {p.backward for p in points} == {"rejection"}
