import pytest

from graphsmooth.bench.config import ConfigError
from graphsmooth.bench.tasks import get_task


def test_hmm_task_trial_runs_and_errors_fall_with_m():
    task = get_task("hmm")
    errs = []
    for m in (0, 1):
        cfg = task.Config(
            task="hmm", model="ring_triples", num_components=6, num_steps=40, m=m, seeds=[0]
        )
        assert task.trials(cfg) == [{"seed": 0}]
        assert task.labels(cfg) == (f"graph_filter m={m}", "ring_triples M=6")
        out = task.run_trial(cfg, {"seed": 0})
        assert set(out) == {"tv_mean", "tv_max", "sec_per_step"}
        errs.append(out["tv_mean"])
    assert errs[0] > errs[1] >= 0


def test_hmm_task_config_errors():
    task = get_task("hmm")
    with pytest.raises(ConfigError, match="unknown model"):
        task.Config(task="hmm", model="grid")
    with pytest.raises(ConfigError, match=">= 0"):
        task.Config(task="hmm", m=-1)
