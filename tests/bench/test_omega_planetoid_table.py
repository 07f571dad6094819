"""``examples/omega_planetoid.py``: the per-seed Planetoid table of docs/omega.md, checked on a
hand-made results file."""

import json

import pytest

from tests.bench.examples_loader import load_example


@pytest.fixture(scope="module")
def mod():
    return load_example("omega_planetoid")


def _record(key, method, seed, test, val, best, cpu):
    return {
        "key": key,
        "method": method,
        "dataset": "PubMed",
        "trial": {"seed": seed},
        "metrics": {"test_acc": test, "val_acc": val, "best_epoch": best},
        "cpu_s": cpu,
    }


def test_table_by_hand(mod, tmp_path):
    recs = [
        _record("a0", "GCN+normalize_features", 0, 0.80, 0.78, 10, 100.0),
        _record("a1", "GCN+normalize_features", 1, 0.78, 0.80, 30, 50.0),
        _record("a2", "GCN+normalize_features", 3, 0.79, 0.79, 20, 50.0),
        _record("b0", "omegaGCN+normalize_features", 0, 0.81, 0.80, 5, 10.0),
        _record("b1", "omegaGCN+normalize_features", 1, 0.76, 0.81, 7, 10.0),
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    by_model = mod.collect([str(tmp_path)], ["normalize_features"])
    assert sorted(by_model) == ["GCN", "omegaGCN"]
    lines = mod.table(by_model, [("omegaGCN", "GCN")]).splitlines()
    # GCN: mean 79.0, sd 1.0, t(0.975, 2) = 4.303 -> half width 4.303 / sqrt(3) = 2.48
    assert (
        lines[2]
        == "| GCN | 79.0 ± 2.5 | 79.0 ± 2.5 | 80.0 78.0 79.0 | 3 (0–1, 3) | 20 (max 30) | 200 |"
    )
    # paired on seeds 0 and 1: test +1, -2 -> mean -0.5, sd 2.121, t(0.975, 1) = 12.706
    # -> 12.706 * 2.121 / sqrt(2) = 19.06; val +2, +1 -> +1.5 ± 12.706 * 0.7071 / 1.4142 = 6.35
    assert lines[-1] == "| omegaGCN − GCN | -0.5 ± 19.1 | +1.5 ± 6.4 | 1 / 0 / 1 | 2 |"
    with pytest.raises(SystemExit, match="unknown model label"):
        mod.table(by_model, [("omegaGAT", "GAT")])


def test_seed_ranges(mod):
    assert mod._seed_ranges([0, 1, 2, 5, 7, 8]) == "0–2, 5, 7–8"
    assert mod._seed_ranges([4]) == "4"
