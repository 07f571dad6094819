from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Transform caches of the runner tests go to a private folder."""
    monkeypatch.setenv("GRAPHSMOOTH_CACHE", str(tmp_path_factory.getbasetemp() / "gs_cache"))


def tiny_config(out, **overrides) -> dict:
    """A quickstart-like config that trains in a fraction of a second per trial."""
    config = {
        "task": "node_classification",
        "name": "tiny",
        "output": str(out),
        "device": "cpu",
        "seeds": [0, 1],
        "dataset": [
            {
                "name": "csbm",
                "label": "homo",
                "params": {
                    "num_nodes": 120,
                    "num_classes": 2,
                    "avg_degree": 6,
                    "homophily": 0.9,
                    "num_features": 8,
                    "feature_signal": 0.5,
                },
            },
            {
                "name": "csbm",
                "label": "hetero",
                "params": {
                    "num_nodes": 120,
                    "num_classes": 2,
                    "avg_degree": 6,
                    "homophily": 0.1,
                    "num_features": 8,
                    "feature_signal": 0.5,
                },
            },
        ],
        "transforms": [[], [{"rwpe": {"walk_length": 4}}]],
        "model": {"name": "gcn", "hidden": 16, "layers": 2},
        "optim": {"lr": 0.01},
        "training": {"max_epochs": 15, "patience": 5},
    }
    config.update(overrides)
    return config
