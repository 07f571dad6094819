"""London tube passenger flow with a Poisson factorial HMM (Rimella & Whiteley, JMLR 2022).

48 hidden chains (one per directed pair of adjacent East-London stations), 40 Poisson factors
(inflow / outflow counts of 20 stations every 10 minutes):

    y_in(i)  ~ Pois(lambda_in(i)  * sum_j X(i, j)),
    y_out(i) ~ Pois(lambda_out(i) * sum_j X(j, i)),

with X(i, j) taking L numeric values (``--values``; default {0, 1, 2, 4, 8, 16}, chosen by the
training-days one-step RMSE, see docs/fhmm.md). Parameters (per-chain transition matrices and initial laws,
per-factor rates) are fitted by EM with the Graph Smoother (m = 0, singleton blocks) on
Monday-Wednesday. On Thursday-Friday the Graph Filter gives one-step posterior predictive
means and 95% bands; RMSE is compared with the per-time-of-day training mean and with
persistence (last observed value).

Run (about five minutes on 2 shared, busy cores):

    GRAPHSMOOTH_DATA=/path/to/data PYTHONPATH=. python examples/london_tube.py \
        --values 0,1,2,4,8,16 --iterations 20 --plot docs/img/fhmm_tube.png --out tube.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from graphsmooth.data.sequences import load_tube
from graphsmooth.hmm import (
    FactorialHMM,
    PoissonFactors,
    factor_predictive,
    fit_em,
    graph_filter,
    graph_filter_plan,
    one_step_predictive,
)


def initial_model(tube, values: torch.Tensor, stay: float = 0.8) -> FactorialHMM:
    M, L = tube.num_chains, values.numel()
    P = torch.full((L, L), (1 - stay) / (L - 1)) + (stay - (1 - stay) / (L - 1)) * torch.eye(L)
    mu = torch.full((L,), 1.0 / L)
    size = torch.tensor([len(s) for s in tube.scopes], dtype=torch.float64)
    rate = (tube.Y_train.mean(0) / (size * values.mean())).clamp(min=1e-3)
    return FactorialHMM(
        mu, P, PoissonFactors(tube.scopes, rate=rate), num_components=M, state_values=values
    )


def rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean().sqrt())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=None, help="data root (default: $GRAPHSMOOTH_DATA)")
    ap.add_argument(
        "--values",
        default="0,1,2,4,8,16",
        help="comma-separated state values of each chain (L of them)",
    )
    ap.add_argument("--iterations", type=int, default=30, help="EM iterations")
    ap.add_argument("--m", type=int, default=0, help="Graph Filter locality radius")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument(
        "--max-local-states", type=int, default=2**16, help="largest L^|N_v^m(K)| accepted"
    )
    ap.add_argument("--plot", default=None, help="save the predictive plot here")
    ap.add_argument("--out", default=None, help="append a JSON line of results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    tube = load_tube(args.root)
    values = torch.tensor([float(v) for v in args.values.split(",")], dtype=torch.float64)
    model0 = initial_model(tube, values)
    plan = graph_filter_plan(model0, args.m, max_local_states=args.max_local_states)
    t0 = time.perf_counter()
    fit = fit_em(model0, tube.Y_train, args.iterations, plan=plan)
    t_em = time.perf_counter() - t0
    model = fit.model

    # one-step posterior predictive on the test days (Graph Filter on the test sequence)
    t0 = time.perf_counter()
    gf = graph_filter(model, tube.Y_test, plan=plan)
    pred = factor_predictive(model, one_step_predictive(model, gf.marginals))
    t_filter = time.perf_counter() - t0
    # the same one-step predictive on the training days (for choosing the state values)
    gf_tr = graph_filter(model, tube.Y_train, plan=plan)
    pred_tr = factor_predictive(model, one_step_predictive(model, gf_tr.marginals))
    y = tube.Y_test
    D = tube.steps_per_day
    tod = tube.Y_train.reshape(-1, D, y.shape[1]).mean(0)  # per-time-of-day training mean
    baseline = tod.repeat(y.shape[0] // D, 1)
    persist = torch.cat([tube.Y_train[-1:], y[:-1]])
    lo, hi = pred.quantiles[0], pred.quantiles[1]
    res = {
        "L": values.numel(),
        "values": values.tolist(),
        "m": args.m,
        "em_iterations": fit.num_iterations,
        "em_seconds": round(t_em, 2),
        "filter_predict_seconds": round(t_filter, 3),
        "rmse_fhmm_train": rmse(pred_tr.mean, tube.Y_train),
        "rmse_fhmm": rmse(pred.mean, y),
        "rmse_time_of_day_mean": rmse(baseline, y),
        "rmse_persistence": rmse(persist, y),
        "coverage_95": float(((y >= lo) & (y <= hi)).double().mean()),
        "threads": args.threads,
    }
    print(json.dumps(res))
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(json.dumps(res) + "\n")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        show = [1, 6, 21, 26]  # Liverpool Street and Canary Wharf, inflow and outflow
        fig, axes = plt.subplots(len(show), 1, figsize=(10, 2.4 * len(show)), sharex=True)
        hours = torch.arange(y.shape[0]) / 6.0
        for ax, f in zip(axes, show, strict=True):
            ax.fill_between(hours, lo[:, f], hi[:, f], color="C0", alpha=0.25, label="95% band")
            ax.plot(hours, pred.mean[:, f], color="C0", lw=1, label="predictive mean")
            ax.plot(hours, y[:, f], "k.", ms=2, label="observed")
            ax.plot(hours, baseline[:, f], color="C3", lw=0.8, ls="--", label="time-of-day mean")
            ax.set_ylabel(tube.series_names[f], fontsize=8)
        axes[0].legend(fontsize=7, ncol=4, loc="upper left")
        axes[-1].set_xlabel("hours since Thursday 00:00")
        fig.suptitle(
            f"London tube, one-step posterior predictive (values {args.values}, m={args.m}); "
            f"RMSE {res['rmse_fhmm']:.2f} vs time-of-day mean {res['rmse_time_of_day_mean']:.2f}",
            fontsize=9,
        )
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)


if __name__ == "__main__":
    main()
