"""Bias of PPG vs PaRIS at equal cost on a linear Gaussian model (issue 9 target).

Target: E[sum_t X_t^2 | y] (exact value from statsmodels' RTS smoother). Per replicate:
- PaRIS with N particles,
- PaRIS with N * (sweeps + 1) particles (same cost as PPG below: PaRIS cost is linear in N),
- PPG with N particles, ``sweeps`` conditional sweeps after one unconditional PaRIS run that draws
  the first reference, the first ``burn_in`` sweeps discarded.
Writes one JSON line per replicate (resumable) and prints bias +- standard error of each.

    PYTHONPATH=. python examples/smc_ppg_bias.py --reps 200 --out /tmp/smc_ppg_bias.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os

import numpy as np
import torch

from graphsmooth.smc import LinearGaussian, kalman_smoother, paris, ppg, simulate, state_outer_sum


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--T", type=int, default=50)
    p.add_argument("--N", type=int, default=16)
    p.add_argument("--sweeps", type=int, default=8)
    p.add_argument("--burn-in", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--backward",
        default="rejection",
        help="backward sampler of every PaRIS run (PaRIS and PPG alike): rejection | mh",
    )
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = LinearGaussian(0.9, 1.0, 1.0, 0.5)
    y = simulate(model, args.T, torch.Generator().manual_seed(args.seed)).observations
    exact = float(kalman_smoother(model, y).statistics[1])
    key = (args.T, args.N, args.sweeps, args.burn_in, args.seed, args.backward)
    rows = []
    if os.path.exists(args.out):
        with open(args.out) as f:
            rows = [r for r in map(json.loads, f) if tuple(r["key"]) == key]
    bw = args.backward
    for rep in range(len(rows), args.reps):
        g = torch.Generator().manual_seed(1_000_003 * (args.seed + 1) + rep)
        n_big = args.N * (args.sweeps + 1)
        row = dict(
            key=key,
            rep=rep,
            exact=exact,
            paris_N=float(
                paris(model, y, state_outer_sum, args.N, backward=bw, generator=g).estimate[0]
            ),
            paris_equal_cost=float(
                paris(model, y, state_outer_sum, n_big, backward=bw, generator=g).estimate[0]
            ),
            ppg=float(
                ppg(
                    model,
                    y,
                    state_outer_sum,
                    args.N,
                    args.sweeps,
                    burn_in=args.burn_in,
                    backward=bw,
                    generator=g,
                ).estimate[0]
            ),  # fmt: skip
        )
        rows.append(row)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
    print(
        f"exact E[sum X_t^2 | y] = {exact:.4f}   (T={args.T}, {len(rows)} replicates, "
        f"backward={bw}); cost in particle-sweeps: PaRIS N={args.N}: {args.N}, "
        f"equal-cost PaRIS and PPG: {args.N * (args.sweeps + 1)}"
    )
    for name, label in [
        ("paris_N", f"PaRIS N={args.N}"),
        ("paris_equal_cost", f"PaRIS N={args.N * (args.sweeps + 1)} (equal cost)"),
        ("ppg", f"PPG N={args.N}, {args.sweeps} sweeps, burn-in {args.burn_in}"),
    ]:
        v = np.array([r[name] for r in rows])
        se = v.std(ddof=1) / math.sqrt(len(v))
        print(
            f"{label:<42} bias {v.mean() - exact:+8.4f} +- {se:.4f}   "
            f"sd {v.std(ddof=1):.4f}   rmse {math.sqrt(((v - exact) ** 2).mean()):.4f}"
        )


if __name__ == "__main__":
    main()
