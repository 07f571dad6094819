"""Small hyperparameter grids for the signal recovery methods (resumable JSONL).

The classical baselines are tuned as GraphTRSS's scripts did (one repetition, error on the
unsampled entries averaged over a few densities); TimeGNN is tuned on its *validation* MSE only
(held-out sampled entries), so its test error never steers its settings.

    OMP_NUM_THREADS=1 PYTHONPATH=. GRAPHSMOOTH_DATA=../shared/data \
        python examples/recovery_tune.py --dataset pm25 --method tikhonov --out runs/tune.jsonl
    python examples/recovery_tune.py --summary runs/tune.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections import defaultdict

import torch

from graphsmooth.data.signals import load_timegnn_signal
from graphsmooth.recovery import evaluation_mask, recover, recovery_metrics, sampling_mask

DENSITIES = {
    "pm25": [0.1, 0.25, 0.4],
    "sst": [0.1, 0.5, 0.9],
    "intel": [0.1, 0.5, 0.9],
    "synthetic": [0.1, 0.3, 0.5],
}

GRIDS = {
    "tikhonov": {
        "graph_weight": [0.01, 0.1, 1.0, 10.0, 100.0],
        "time_weight": [1e-4, 1e-3, 1e-2, 1e-1, 0.5],
    },
    "graphtrss": {"alpha": [1e-3, 1e-2, 0.1, 0.2, 1.0, 10.0], "eps": [0.01, 0.05, 0.2, 1.0]},
    "timegnn": {
        "lr": [0.005, 0.01],
        "lam": [1e-5, 1e-4],
        "hidden_channels": [64, 128],
    },
}


def _key(rec: dict) -> str:
    return json.dumps(
        [rec["dataset"], rec["method"], rec["params"], rec["density"]], sort_keys=True
    )


def tune(dataset: str, method: str, out: str, densities=None, extra=None, grid=None) -> None:
    sig = load_timegnn_signal(dataset)
    done = set()
    if os.path.exists(out):
        with open(out) as fh:
            done = {_key(json.loads(line)) for line in fh if line.strip()}
    grid = grid or GRIDS[method]
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        params.update(extra or {})
        for m in densities or DENSITIES[dataset]:
            rec = {"dataset": dataset, "method": method, "params": params, "density": m}
            if _key(rec) in done:
                continue
            mask = sampling_mask(sig.valid, m, seed=1000)
            start = time.perf_counter()
            res = recover(
                method,
                sig.signal * mask,
                mask,
                edge_index=sig.edge_index,
                edge_weight=sig.edge_weight,
                pos=sig.pos,
                **params,
            )
            met = recovery_metrics(sig.signal, res.x_hat, evaluation_mask(sig.valid, mask))
            rec.update(met.as_dict())
            rec["seconds"] = time.perf_counter() - start
            rec["val_mse"] = res.info.get("best_val_mse")
            with open(out, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
                os.fsync(fh.fileno())


def summary(path: str) -> None:
    groups = defaultdict(list)
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            groups[(r["dataset"], r["method"], json.dumps(r["params"], sort_keys=True))].append(r)
    best = {}
    for (ds, meth, params), recs in sorted(groups.items()):
        mse = sum(r["rmse"] ** 2 for r in recs) / len(recs)
        val = [r["val_mse"] for r in recs if r.get("val_mse") is not None]
        score = sum(val) / len(val) if meth == "timegnn" and val else mse
        print(f"{ds:9s} {meth:9s} {params:70s} n={len(recs)} test_mse={mse:.4f} score={score:.4f}")
        if (ds, meth) not in best or score < best[(ds, meth)][0]:
            best[(ds, meth)] = (score, params)
    for (ds, meth), (score, params) in best.items():
        print(f"BEST {ds} {meth} {params} score={score:.4f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset")
    ap.add_argument("--method")
    ap.add_argument("--out", default="runs/recovery_tune.jsonl")
    ap.add_argument("--densities", type=float, nargs="*")
    ap.add_argument("--extra", default="{}", help="JSON dict of fixed extra parameters")
    ap.add_argument("--grid", default=None, help="JSON dict overriding the method's grid")
    ap.add_argument("--summary")
    args = ap.parse_args()
    if args.summary:
        summary(args.summary)
    else:
        torch.manual_seed(0)
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        tune(
            args.dataset,
            args.method,
            args.out,
            args.densities,
            json.loads(args.extra),
            None if args.grid is None else json.loads(args.grid),
        )
