"""``examples/omega_study.py plot``: the learned-omega summary (figure and table) from study
JSONL files and runner records, checked on hand-made inputs."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tests.bench.examples_loader import load_example  # noqa: E402


@pytest.fixture(scope="module")
def mod():
    return load_example("omega_study")


def test_summary_by_hand(mod, tmp_path):
    study = tmp_path / "study.jsonl"
    study.write_text(
        json.dumps(
            {
                "dataset": "Texas",
                "model": "omega_gcn",
                "layers": 2,
                "test_acc": 0.7,
                "omega": [[0.5, 1.5], [-0.5, 1.0]],
            }
        )
        + "\n"
        + json.dumps({"dataset": "Texas", "model": "gcn", "layers": 2, "test_acc": 0.6})
        + "\n"
    )
    run = tmp_path / "run"
    run.mkdir()
    recs = [
        {
            "key": "k1",
            "method": "omegaGCN+normalize_features",
            "dataset": "NCI1",
            "extras": {"omega": [[2.0, 0.0, 0.5]]},
        },
        {
            "key": "k2",
            "method": "omegaGCN+normalize_features",
            "dataset": "NCI1",
            "extras": {"omega": [[1.0, 0.25, 0.25]]},
        },
        {"key": "k3", "method": "GIN", "dataset": "NCI1"},  # no omega: left out
    ]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    groups = mod._omega_groups([str(study)], [str(run)])
    assert sorted(groups) == [("NCI1", "omegaGCN (runner)", 1), ("Texas", "omega_gcn", 2)]
    mod._plot_omega_summary([str(study)], [str(run)], tmp_path, plt)
    assert (tmp_path / "omega_learned_summary.png").stat().st_size > 0
    lines = (tmp_path / "omega_learned_summary.md").read_text().splitlines()
    # heterophilic rows come before graph classification; Texas: mean 0.625, one of 4 above 1
    # (1.0 is not above 1), one below 0
    assert lines[2] == "| Texas | omega_gcn | 2 | 1 | 0.625 | 0.250 | 0.25 | -0.50 | 1.50 |"
    # NCI1, two runs of 3 weights: mean 4 / 6, one of 6 above 1, none below 0
    assert lines[3] == "| NCI1 | omegaGCN (runner) | 1 | 2 | 0.667 | 0.167 | 0.00 | 0.00 | 2.00 |"
