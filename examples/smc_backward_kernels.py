"""PaRIS backward kernels compared: accept-reject vs Metropolis-Hastings (1, 2, 4 steps).

For each kernel, ``--reps`` independent PaRIS runs on the same data (K = 2): CPU seconds per
run, the Metropolis-Hastings acceptance rate, the mean, standard deviation and (linear Gaussian
model) the bias and RMSE of the estimate of E[sum_t X_t | y] against the exact Kalman/RTS value
(statsmodels). Writes one JSON line per run (resumable) and prints a summary table.

    PYTHONPATH=. python examples/smc_backward_kernels.py --model lg --N 1000 --T 1000 \\
        --reps 12 --out /tmp/smc_kernels.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import torch

from graphsmooth.smc import (
    LinearGaussian,
    StochasticVolatility,
    kalman_smoother,
    paris,
    simulate,
    state_sum,
)

KERNELS = {
    "rejection": dict(backward="rejection"),
    "mh1": dict(backward="mh", mh_steps=1),
    "mh2": dict(backward="mh", mh_steps=2),
    "mh4": dict(backward="mh", mh_steps=4),
}


def make_model(name: str):
    if name == "lg":  # the model of benchmarks/bench_paris.py
        return LinearGaussian(0.9, 1.0, 1.0, 0.25, P0=1.0)
    if name == "sv":
        return StochasticVolatility(mu=-1.0, rho=0.95, sigma=0.2)
    raise ValueError(f"unknown model {name!r}; valid names: lg, sv")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lg", help="lg | sv")
    p.add_argument("--N", type=int, default=1000)
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--reps", type=int, default=12)
    p.add_argument("--kernels", default="rejection,mh1,mh2,mh4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = make_model(args.model)
    y = simulate(model, args.T, torch.Generator().manual_seed(1000 + args.T)).observations
    exact = float(kalman_smoother(model, y).statistics[0]) if args.model == "lg" else None
    done = set()
    if os.path.exists(args.out):
        with open(args.out) as f:
            done = {(r["model"], r["N"], r["T"], r["kernel"], r["rep"]) for r in map(json.loads, f)}
    kernels = args.kernels.split(",")
    for rep in range(args.reps):  # interleave kernels so that machine load hits all alike
        for name in kernels:
            if (args.model, args.N, args.T, name, rep) in done:
                continue
            g = torch.Generator().manual_seed(7919 * (args.seed + 1) + rep)
            c0 = time.process_time()
            res = paris(model, y, state_sum, args.N, generator=g, **KERNELS[name])
            cpu = time.process_time() - c0
            row = dict(
                model=args.model, N=args.N, T=args.T, kernel=name, rep=rep, cpu_s=cpu,
                estimate=float(res.estimate[0]), exact=exact,
                acceptance=float(res.num_accepted.sum()) / max(1, int(res.num_proposals.sum())),
            )  # fmt: skip
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
    with open(args.out) as f:
        rows = [
            r for r in map(json.loads, f) if (r["model"], r["N"], r["T"]) == (args.model, args.N,
                                                                               args.T)
        ]  # fmt: skip
    print(f"model={args.model} N={args.N} T={args.T} K=2 exact={exact}")
    print(f"{'kernel':<10} {'runs':>4} {'cpu s':>7} {'accept':>7} {'mean':>10} {'sd':>8} "
          f"{'bias+-se':>16} {'rmse':>8} {'sd^2 x cpu':>10}")  # fmt: skip
    for name in kernels:
        rs = [r for r in rows if r["kernel"] == name]
        if not rs:
            continue
        v = np.array([r["estimate"] for r in rs])
        cpu = float(np.median([r["cpu_s"] for r in rs]))
        sd = v.std(ddof=1) if len(v) > 1 else float("nan")
        bias = f"{v.mean() - exact:+.3f}+-{sd / math.sqrt(len(v)):.3f}" if exact else "-"
        rmse = f"{math.sqrt(((v - exact) ** 2).mean()):.3f}" if exact else "-"
        print(
            f"{name:<10} {len(v):>4} {cpu:>7.2f} {np.mean([r['acceptance'] for r in rs]):>7.3f} "
            f"{v.mean():>10.3f} {sd:>8.3f} {bias:>16} {rmse:>8} {sd**2 * cpu:>10.3f}"
        )


if __name__ == "__main__":
    main()
