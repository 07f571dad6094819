"""PPG vs PaRIS: bias (vs Kalman) as a function of the budget, from whole PPG chains (issue 9).

The setting of Cardoso et al. (ICML 2023): PPG with ``N`` particles, ``k`` conditional sweeps and
``k0`` burn-in sweeps (the roll-out estimator, average of the sweeps ``k0 + 1 .. k``) against
PaRIS run once with as many particles as PPG uses in total. Cost is counted in particle-sweeps
(a PaRIS run with ``N`` particles costs ``N``; its cost is linear in ``N``); PPG also pays for
the unconditional PaRIS run that draws its first reference, so PPG(N, k) costs ``N (k + 1)``.

Per replicate (one JSON line, resumable): one PPG chain of ``--sweeps`` sweeps with ``N``
particles (every sweep's estimate is stored, so the estimator for any ``k <= --sweeps`` and
``k0`` is read off the same chain), the first (unconditional) run's estimate (= PaRIS with
``N``), and PaRIS with ``N (k + 1)`` particles for every ``k`` in ``--ks``; CPU seconds of
each. Target: ``E[sum_t X_t^2 | y]`` on a scalar linear Gaussian model (exact value from
statsmodels' RTS smoother). ``--reps 0`` prints the summary of what is stored; ``--plot``
draws bias +- 2 s.e. against the budget for both estimators, and PPG's per-sweep bias.

    PYTHONPATH=. python examples/smc_ppg_budget.py --T 300 --N 16 --sweeps 24 --ks 4,8,16,24 \\
        --reps 300 --out /tmp/smc_ppg_budget.jsonl --plot docs/figures/smc_ppg_budget.png
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
    kalman_smoother,
    paris,
    ppg_sweep,
    simulate,
    state_outer_sum,
)


def run_replicate(model, y, args, ks, rep) -> dict:
    g = torch.Generator().manual_seed(1_000_003 * (args.seed + 1) + rep)
    bw = args.backward
    t0 = time.process_time()
    n0 = args.init_N or args.N
    est0, ref, _ = ppg_sweep(model, y, state_outer_sum, n0, None, backward=bw, generator=g)
    sweeps = []
    for _ in range(args.sweeps):
        est, ref, _ = ppg_sweep(model, y, state_outer_sum, args.N, ref, backward=bw, generator=g)
        sweeps.append(float(est[0]))
    row = dict(rep=rep, paris_N=float(est0[0]), ppg_sweeps=sweeps)
    row["cpu_ppg"] = time.process_time() - t0
    for k in ks:
        t0 = time.process_time()
        n_big = (args.init_N or args.N) + args.N * k
        est = paris(model, y, state_outer_sum, n_big, backward=bw, generator=g).estimate
        row[f"paris_{n_big}"] = float(est[0])
        row[f"cpu_paris_{n_big}"] = time.process_time() - t0
    return row


def summary(rows, exact, args, ks):
    """Bias +- s.e., sd and RMSE of every estimator; paired PPG - PaRIS differences."""

    def stats(v):
        e = np.asarray(v) - exact
        se = e.std(ddof=1) / math.sqrt(len(e))
        return e.mean(), se, e.std(ddof=1), math.sqrt((e**2).mean())

    chains = np.array([r["ppg_sweeps"] for r in rows])  # [R, sweeps]
    out = []
    b, se, sd, rmse = stats([r["paris_N"] for r in rows])
    n0 = args.init_N or args.N
    out.append(dict(budget=n0, est=f"PaRIS N={n0}", bias=b, se=se, sd=sd, rmse=rmse))
    for k in ks:
        n_big = n0 + args.N * k
        paris_v = np.array([r[f"paris_{n_big}"] for r in rows])
        b, se, sd, rmse = stats(paris_v)
        cpu = np.mean([r[f"cpu_paris_{n_big}"] for r in rows])
        out.append(dict(budget=n_big, est=f"PaRIS N={n_big}", bias=b, se=se, sd=sd, rmse=rmse,
                        cpu=cpu))  # fmt: skip
        k0 = int(round(args.burn_in_frac * k))
        ppg_v = chains[:, k0:k].mean(1)
        b, se, sd, rmse = stats(ppg_v)
        d = ppg_v - paris_v
        cpu = np.mean([r["cpu_ppg"] for r in rows]) * (k + 1) / (args.sweeps + 1)
        out.append(dict(budget=n_big, est=f"PPG N={args.N}, k={k}, k0={k0}", bias=b, se=se,
                        sd=sd, rmse=rmse, cpu=cpu, diff=d.mean(),
                        diff_se=d.std(ddof=1) / math.sqrt(len(d))))  # fmt: skip
    return out, chains - exact


def run_key(args) -> list:
    key = [args.T, args.N, args.sweeps, args.ks, args.seed, args.backward]
    return key + [args.init_N] if args.init_N and args.init_N != args.N else key


def load(path, key):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for r in map(json.loads, f) if r["key"] == key]


def print_summary(out, errs, args, exact, reps):
    print(f"exact E[sum X_t^2 | y] = {exact:.3f}  T={args.T}  N={args.N}  {reps} replicates  "
          f"backward={args.backward}  (budget in particle-sweeps)")  # fmt: skip
    print("| budget | estimator | bias ± s.e. | sd | RMSE | CPU s | PPG - PaRIS (paired) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for o in out:
        diff = f"{o['diff']:+.2f} ± {o['diff_se']:.2f}" if "diff" in o else ""
        cpu = f"{o['cpu']:.2f}" if "cpu" in o else ""
        print(f"| {o['budget']} | {o['est']} | {o['bias']:+.2f} ± {o['se']:.2f} | "
              f"{o['sd']:.2f} | {o['rmse']:.2f} | {cpu} | {diff} |")  # fmt: skip
    m, s = errs.mean(0), errs.std(0, ddof=1) / math.sqrt(len(errs))
    print("PPG per-sweep bias (sweep: bias ± s.e.): " + ", ".join(
        f"{i + 1}: {m[i]:+.1f}±{s[i]:.1f}" for i in range(len(m))))  # fmt: skip


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=300)
    p.add_argument("--T", type=int, default=300)
    p.add_argument("--N", type=int, default=16)
    p.add_argument("--sweeps", type=int, default=24)
    p.add_argument("--ks", default="4,8,16,24", help="PPG sweep counts k; PaRIS gets N (k + 1)")
    p.add_argument(
        "--init-N",
        type=int,
        default=None,
        help="particles of the unconditional run that draws the first reference (default: N); "
        "budgets are then init_N + N k",
    )
    p.add_argument("--burn-in-frac", type=float, default=0.5, help="k0 = round(frac * k)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--backward", default="rejection", help="backward sampler of every run")
    p.add_argument("--out", required=True)
    p.add_argument("--plot", default=None)
    p.add_argument(
        "--plot-runs",
        default=None,
        help="stored runs to draw, 'N/sweeps/ks[/init_N];...' (default: this run only)",
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    ks = [int(k) for k in args.ks.split(",")]
    if max(ks) > args.sweeps:
        raise SystemExit("--ks must not exceed --sweeps")
    model = LinearGaussian(0.9, 1.0, 1.0, 0.5)
    y = simulate(model, args.T, torch.Generator().manual_seed(args.seed)).observations
    exact = float(kalman_smoother(model, y).statistics[1])
    key = run_key(args)
    rows = load(args.out, key)
    for rep in range(len(rows), args.reps):
        row = dict(key=key, exact=exact, **run_replicate(model, y, args, ks, rep))
        rows.append(row)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        if (rep + 1) % 10 == 0:
            print(f"{rep + 1} replicates", flush=True)
    if len(rows) >= 2:
        out, errs = summary(rows, exact, args, ks)
        print_summary(out, errs, args, exact, len(rows))
    if args.plot:
        runs = []
        specs = args.plot_runs or f"{args.N}/{args.sweeps}/{args.ks}"
        for spec in specs.split(";"):
            n, sw, kss, *init = spec.split("/")
            a = argparse.Namespace(**{**vars(args), "N": int(n), "sweeps": int(sw), "ks": kss,
                                      "init_N": int(init[0]) if init else None})  # fmt: skip
            r = load(args.out, run_key(a))
            if len(r) >= 2:
                runs.append((a, len(r), *summary(r, exact, a, [int(k) for k in kss.split(",")])))
        plot(runs, args)


def plot(runs, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    par = {}
    for _, _, out, _ in runs:
        for o in out:
            if o["est"].startswith("PaRIS") and "cpu" in o and o["budget"] not in par:
                par[o["budget"]] = o
    par = [par[b] for b in sorted(par)]
    a1.errorbar([o["budget"] for o in par], [o["bias"] for o in par],
                yerr=[2 * o["se"] for o in par], marker="o", capsize=3, color="C0",
                label="PaRIS, N = budget")  # fmt: skip
    for i, (a, reps, out, errs) in enumerate(runs):
        pts = [o for o in out if o["est"].startswith("PPG")]
        a1.errorbar([o["budget"] * (1.02 + 0.02 * i) for o in pts], [o["bias"] for o in pts],
                    yerr=[2 * o["se"] for o in pts], marker="s", capsize=3, color=f"C{i + 1}",
                    label=f"PPG, N = {a.N}, k0 = {a.burn_in_frac:g} k ({reps} reps)"
                    + (f", first ref. N = {a.init_N}" if a.init_N else ""))  # fmt: skip
        m, s = errs.mean(0), errs.std(0, ddof=1) / math.sqrt(len(errs))
        x = (a.init_N or a.N) + a.N * np.arange(1, len(m) + 1)
        a2.errorbar(x, m, yerr=2 * s, marker=".", capsize=2, color=f"C{i + 1}",
                    label=f"N = {a.N} (first reference: PaRIS, N = {a.init_N or a.N})")  # fmt: skip
    a1.axhline(0, color="k", lw=0.8)
    a1.set_xscale("log")
    a1.set_xticks([100, 200, 400, 800], ["100", "200", "400", "800"])
    a1.minorticks_off()
    a1.set_xlabel("budget (particle-sweeps; PPG: first run + N k)")
    a1.set_ylabel("bias of the estimate of E[sum X_t^2 | y]")
    a1.set_title(f"bias ± 2 s.e., linear Gaussian, T = {args.T}")
    a1.legend(fontsize=8)
    a2.axhline(0, color="k", lw=0.8)
    a2.set_xlabel("particle-sweeps used up to and including that sweep")
    a2.set_ylabel("bias of that sweep's estimate")
    a2.set_title("PPG chain transient: bias of each sweep (± 2 s.e.)")
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
