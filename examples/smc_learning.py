"""Parameter learning with PaRIS / PPG scores on simulated data (issue 9, item 5).

Recovers (a, log q, log r) of a scalar LinearGaussian model and (mu, atanh rho, log sigma) of a
StochasticVolatility model by score ascent (fresh PaRIS score each step) and Markov score
climbing (one PPG sweep per step, reference carried over). For the linear Gaussian model the
statsmodels MLE and its standard errors (numerical Hessian) are the reference. Writes one JSON
line per (model, method, seed) to --out (skipped when already there: resumable) and plots the
parameter trajectories to --plot.

    PYTHONPATH=. python examples/smc_learning.py --seed 0 --out /tmp/smc_learning.jsonl \
        --plot /tmp/smc_learning.png
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from graphsmooth.smc import (
    LinearGaussian,
    StochasticVolatility,
    markov_score_climbing,
    observed_information,
    score_ascent,
    simulate,
)
from graphsmooth.smc.kalman import scalar_lg_mlemodel

LG_TRUE = {"a": 0.8, "log_q": 0.0, "log_r": float(np.log(0.5))}
LG_INIT = {"a": 0.3, "log_q": float(np.log(0.3)), "log_r": float(np.log(2.0))}
SV_TRUE = {"mu": -1.0, "atanh_rho": float(np.arctanh(0.9)), "log_sigma": float(np.log(0.3))}
SV_INIT = {"mu": 0.0, "atanh_rho": float(np.arctanh(0.5)), "log_sigma": float(np.log(0.8))}


def lg_model(p):
    q = torch.exp(p["log_q"])
    return LinearGaussian(p["a"], 1.0, q, torch.exp(p["log_r"]), P0=q)


def sv_model(p):
    return StochasticVolatility(p["mu"], torch.tanh(p["atanh_rho"]), torch.exp(p["log_sigma"]))


def statsmodels_mle(y: np.ndarray):
    """MLE of (a, log q, log r) with statsmodels, same initialisation X_0 ~ N(0, q)."""
    start = [LG_INIT["a"], LG_INIT["log_q"], LG_INIT["log_r"]]
    res = scalar_lg_mlemodel(y, start).fit(disp=False, cov_type="approx", maxiter=500)
    return res.params, res.bse, float(res.llf)


def add_opg(row, fn, y, args, true):
    """OPG standard errors from PaRIS' online score at the estimate: the reference for SV,
    where no exact MLE exists (for LG they can be compared with statsmodels')."""
    oi = observed_information(
        fn, to_tensors(row["estimate"]), y, args.se_particles,
        generator=torch.Generator().manual_seed(20_000 + args.seed),
    )  # fmt: skip
    row["opg_se"] = dict(zip(oi.names, oi.standard_errors.tolist(), strict=True))
    row["opg_particles"] = args.se_particles
    row["z_vs_true"] = {k: (row["estimate"][k] - true[k]) / row["opg_se"][k] for k in oi.names}
    # convergence check: the last online score is the full-data score at the estimate; the
    # Newton step I^-1 S to the MLE, in standard errors, should be well under 1
    step = torch.linalg.solve(oi.information, oi.online_scores[-1]) / oi.standard_errors
    row["newton_step_in_se"] = dict(zip(oi.names, step.tolist(), strict=True))


def to_tensors(d):
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in d.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--T", type=int, default=300)
    p.add_argument("--N", type=int, default=100)
    p.add_argument("--iterations", type=int, default=150)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--lr-decay", type=float, default=0.6, help="gamma_k = lr (1 + k)^-decay")
    p.add_argument("--models", default="lg,sv")
    p.add_argument("--methods", default="paris,msc")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--plot", default=None)
    p.add_argument(
        "--se-particles",
        type=int,
        default=3000,
        help="N of the PaRIS run giving OPG standard errors at the estimate (0: skip)",
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    key = lambda name, method: (name, method, args.seed, args.T, args.N, args.iterations)  # noqa: E731
    done = {}
    if os.path.exists(args.out):
        with open(args.out) as f:
            for r in map(json.loads, f):
                done[(r["model"], r["method"], r["seed"], r["T"], r["N"], r["iterations"])] = r
    trajectories = {}
    for name in args.models.split(","):
        fn, true, init = (
            (lg_model, LG_TRUE, LG_INIT) if name == "lg" else (sv_model, SV_TRUE, SV_INIT)
        )
        sim = simulate(fn(to_tensors(true)), args.T, torch.Generator().manual_seed(args.seed))
        y = sim.observations
        ref = None
        if name == "lg":
            ref = statsmodels_mle(y[:, 0].numpy())
        for method in args.methods.split(","):
            if key(name, method) in done:  # resume: reuse the stored run
                r = done[key(name, method)]
                trajectories[(name, method)] = (np.array(r["trajectory"]), r["names"], true, ref)
                if args.se_particles and "newton_step_in_se" not in r:  # stored before the SEs
                    add_opg(r, fn, y, args, true)
                    with open(args.out, "a") as f:
                        f.write(json.dumps(r) + "\n")
                print(json.dumps({k: v for k, v in r.items() if k != "trajectory"}), flush=True)
                continue
            g = torch.Generator().manual_seed(10_000 + args.seed)
            learner = score_ascent if method == "paris" else markov_score_climbing
            c0 = time.process_time()
            res = learner(
                fn, to_tensors(init), y, args.N, args.iterations, lr=args.lr,
                lr_decay=args.lr_decay, generator=g,
            )  # fmt: skip
            cpu = time.process_time() - c0
            trajectories[(name, method)] = (res.trajectory.numpy(), res.names, true, ref)
            est = {k: float(v) for k, v in res.params.items()}
            row = dict(
                model=name, method=method, seed=args.seed, T=args.T, N=args.N,
                iterations=args.iterations, lr=args.lr, lr_decay=args.lr_decay, cpu_s=cpu,
                estimate=est, true=true, names=res.names,
                trajectory=res.trajectory.tolist(),
            )  # fmt: skip
            if args.se_particles:
                add_opg(row, fn, y, args, true)
            if ref is not None:
                sm_params, sm_se, sm_llf = ref
                row["statsmodels_mle"] = dict(zip(res.names, map(float, sm_params), strict=True))
                row["statsmodels_se"] = dict(zip(res.names, map(float, sm_se), strict=True))
                row["z_vs_statsmodels"] = {
                    k: (est[k] - float(m)) / float(s)
                    for k, m, s in zip(res.names, sm_params, sm_se, strict=True)
                }
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: v for k, v in row.items() if k != "trajectory"}), flush=True)
    if args.plot and trajectories:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(trajectories), 3, figsize=(12, 2.6 * len(trajectories)))
        axes = np.atleast_2d(axes)
        for row_axes, ((name, method), (traj, names, true, ref)) in zip(
            axes, trajectories.items(), strict=True
        ):
            for j, (ax, k) in enumerate(zip(row_axes, names, strict=True)):
                ax.plot(traj[:, j], lw=1, label=method)
                ax.axhline(true[k], color="k", ls=":", label="true")
                if ref is not None:
                    ax.axhline(ref[0][j], color="r", ls="--", label="statsmodels MLE")
                ax.set_title(f"{name}: {k} ({method})", fontsize=9)
            row_axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()
