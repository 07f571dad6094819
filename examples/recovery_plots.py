"""Tables and plots for the signal recovery runs (reads the runner's results.jsonl files).

    PYTHONPATH=. python examples/recovery_plots.py summary runs/pm25 runs/timegnn_pm25 ...
        # markdown table: mean RMSE / MAE / MAPE per method and density, plus the average
        # over densities (the figure GraphTRSS's repository stores)
    PYTHONPATH=. python examples/recovery_plots.py density runs/pm25 runs/timegnn_pm25 --png docs/img/x.png
        # RMSE vs sampling density, one line per method (mean over seeds, min-max band)
    OMP_NUM_THREADS=1 PYTHONPATH=. GRAPHSMOOTH_DATA=../shared/data \
        python examples/recovery_plots.py series --dataset sst --density 0.3 --node 10 --png docs/img/y.png
        # one node's true vs recovered series (GraphTRSS and TimeGNN, seed 0)
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from pathlib import Path


def _records(dirs: list[str]) -> list[dict]:
    recs = []
    for d in dirs:
        path = Path(d) / "results.jsonl"
        with open(path) as fh:
            recs += [json.loads(line) for line in fh if line.strip()]
    return recs


def _split(dataset_label: str) -> tuple[str, float]:
    m = re.match(r"(.*) m=([0-9.]+)$", dataset_label)
    return (m.group(1), float(m.group(2))) if m else (dataset_label, float("nan"))


def table(dirs: list[str]) -> str:
    cells = defaultdict(list)
    for r in _records(dirs):
        ds, m = _split(r["dataset"])
        cells[(ds, r["method"], m)].append(r["metrics"])
    lines = []
    for ds in sorted({k[0] for k in cells}):
        dens = sorted({k[2] for k in cells if k[0] == ds})
        methods = sorted({k[1] for k in cells if k[0] == ds})
        lines.append(f"\n**{ds}** — RMSE per density (mean over seeds; n = seeds)\n")
        lines.append(
            "| method | "
            + " | ".join(f"m={m:g}" for m in dens)
            + " | avg RMSE | avg MAE | avg MAPE |"
        )
        lines.append("|---" * (len(dens) + 4) + "|")
        for meth in methods:
            row, avg = [], defaultdict(list)
            for m in dens:
                rs = cells.get((ds, meth, m), [])
                if not rs:
                    row.append("—")
                    continue
                mean = {k: sum(r[k] for r in rs) / len(rs) for k in ("rmse", "mae", "mape")}
                row.append(f"{mean['rmse']:.3f} (n={len(rs)})")
                for k, v in mean.items():
                    avg[k].append(v)
            full = len(avg["rmse"]) == len(dens)
            tail = [
                (f"{sum(avg[k]) / len(avg[k]):.3f}" + ("" if full else "*")) if avg[k] else "—"
                for k in ("rmse", "mae", "mape")
            ]
            lines.append(f"| {meth} | " + " | ".join(row) + " | " + " | ".join(tail) + " |")
    return "\n".join(lines)


def density_plot(dirs: list[str], png: str, metric: str = "rmse") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = defaultdict(list)
    for r in _records(dirs):
        ds, m = _split(r["dataset"])
        cells[(ds, r["method"])].append((m, r["metrics"][metric]))
    datasets = sorted({k[0] for k in cells})
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.8), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        for (d, meth), pts in sorted(cells.items()):
            if d != ds:
                continue
            by_m = defaultdict(list)
            for m, v in pts:
                by_m[m].append(v)
            ms = sorted(by_m)
            mean = [sum(by_m[m]) / len(by_m[m]) for m in ms]
            ax.plot(ms, mean, marker="o", label=meth)
            ax.fill_between(ms, [min(by_m[m]) for m in ms], [max(by_m[m]) for m in ms], alpha=0.15)
        ax.set_title(ds)
        ax.set_xlabel("sampling density m")
        ax.set_ylabel(metric.upper())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)


def series_plot(dataset: str, density: float, node: int, png: str, timegnn: dict, gtrss: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from graphsmooth.data.signals import load_timegnn_signal
    from graphsmooth.recovery import (
        evaluation_mask,
        fit_timegnn,
        graphtrss,
        recovery_metrics,
        sampling_mask,
    )

    sig = load_timegnn_signal(dataset)
    mask = sampling_mask(sig.valid, density, seed=0)
    y = sig.signal * mask
    g = graphtrss(y, mask, sig.edge_index, sig.edge_weight, **gtrss)
    t = fit_timegnn(y, mask, sig.edge_index, sig.edge_weight, seed=0, **timegnn)
    ev = evaluation_mask(sig.valid, mask)
    fig, ax = plt.subplots(figsize=(11, 3.6))
    steps = range(sig.num_steps)
    ax.plot(steps, sig.signal[node].numpy(), color="black", lw=1.2, label="true")
    ax.plot(steps, g.x_hat[node].numpy(), lw=1, label="GraphTRSS")
    ax.plot(steps, t.x_hat[node].numpy(), lw=1, label="TimeGNN")
    s = mask[node].nonzero().squeeze(1).numpy()
    ax.scatter(s, sig.signal[node, s].numpy(), s=8, color="red", zorder=3, label="sampled")
    ax.set_title(f"{dataset}, node {node}, m = {density:g}, seed 0")
    ax.set_xlabel("time step")
    ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    for name, res in (("graphtrss", g), ("timegnn", t)):
        met = recovery_metrics(sig.signal, res.x_hat, ev)
        node_rmse = math.sqrt(float(((sig.signal[node] - res.x_hat[node])[ev[node]] ** 2).mean()))
        print(f"{name}: all-node RMSE {met.rmse:.4f}, node {node} RMSE {node_rmse:.4f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["summary", "density", "series"])
    ap.add_argument("dirs", nargs="*")
    ap.add_argument("--png")
    ap.add_argument("--metric", default="rmse")
    ap.add_argument("--dataset", default="sst")
    ap.add_argument("--density", type=float, default=0.3)
    ap.add_argument("--node", type=int, default=10)
    ap.add_argument("--timegnn", default='{"lr": 0.01, "lam": 1e-5}')
    ap.add_argument("--graphtrss", default='{"alpha": 0.001, "eps": 0.02}')
    a = ap.parse_args()
    if a.what == "summary":
        print(table(a.dirs))
    elif a.what == "density":
        density_plot(a.dirs, a.png, a.metric)
    else:
        series_plot(
            a.dataset, a.density, a.node, a.png, json.loads(a.timegnn), json.loads(a.graphtrss)
        )
