"""Time one TimeGNN training and one GraphTRSS solve on SST (100 x 600) at one density.

Reports wall-clock and process CPU seconds: on a shared machine the CPU time is what the run
would take on a dedicated core (single thread), the wall time what it took here.

    PYTHONPATH=. GRAPHSMOOTH_DATA=../shared/data python examples/recovery_timing.py --threads 1
"""

from __future__ import annotations

import argparse
import time

import torch

from graphsmooth.data.signals import load_timegnn_signal
from graphsmooth.recovery import (
    evaluation_mask,
    fit_timegnn,
    graphtrss,
    recovery_metrics,
    sampling_mask,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="sst")
    ap.add_argument("--density", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    sig = load_timegnn_signal(a.dataset)
    mask = sampling_mask(sig.valid, a.density, seed=0)
    ev = evaluation_mask(sig.valid, mask)
    y = sig.signal * mask
    for name, fn in [
        (
            "graphtrss",
            lambda: graphtrss(y, mask, sig.edge_index, sig.edge_weight, alpha=0.001, eps=0.02),
        ),
        (
            "timegnn",
            lambda: fit_timegnn(
                y, mask, sig.edge_index, sig.edge_weight, lr=0.005, lam=1e-5, max_epochs=a.epochs
            ),
        ),
    ]:
        w0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        met = recovery_metrics(sig.signal, res.x_hat, ev)
        extra = {k: res.info[k] for k in ("iterations", "epochs", "best_epoch") if k in res.info}
        print(
            f"{name}: {a.dataset} m={a.density} threads={a.threads} wall {wall:.1f} s, "
            f"cpu {cpu:.1f} s, RMSE {met.rmse:.4f}, {extra}"
        )


if __name__ == "__main__":
    main()
