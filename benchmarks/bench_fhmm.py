"""Graph Filter benchmark: accuracy vs the exact filter, and time per step vs M.

No peer library implements factorial HMMs (hmmlearn, pomegranate, dynamax have none; Pyro
enumerates the joint), so the reference is our exact joint-chain filter (``exact_filter``,
tested against brute-force enumeration); the ratio exact / graph is printed where both run.

Three parts (each writes JSON lines to ``--out``):

* ``accuracy``: local total-variation error of the filtering marginals,
  ``TV_t^v = 0.5 * sum_x |pi_t^v(x) - exact_t^v(x)|``, for m = 0, 1, 2 on the Gaussian chain
  (M = 10, L = 2, T = 200, paper parameters) and on a denser "ring of triples" factor graph
  (factor f has scope {f, f+1, f+2 mod M}), averaged over seeds;
* ``scaling``: seconds per time step vs M for the Graph Filter (m = 0, 1) and the exact filter
  (while feasible), and a log-log plot;
* ``target``: M = 1000, L = 2, m = 1, T = 1000 (plan + filter), median of repeats.

Run (threads: 1 is fastest on a shared 2-core machine; see docs/fhmm.md):

    PYTHONPATH=. python benchmarks/bench_fhmm.py --parts accuracy scaling target \
        --out bench_fhmm.jsonl --plot docs/fhmm_timing.png
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from graphsmooth.data.sequences import simulate_fhmm
from graphsmooth.hmm import (
    FactorialHMM,
    GaussianFactors,
    exact_filter,
    gaussian_chain,
    graph_filter,
    graph_filter_plan,
)


def ring_triples(M: int) -> FactorialHMM:
    f = torch.arange(M)
    scopes = torch.stack([f, (f + 1) % M, (f + 2) % M], dim=1)
    P = torch.tensor([[0.4, 0.6], [0.8, 0.2]])
    return FactorialHMM(
        torch.tensor([1.0, 0.0]),
        P,
        GaussianFactors(scopes, c=2.0, sigma2=4.0),
        num_components=M,
    )


def emit(out, rec: dict) -> None:
    print(json.dumps(rec), flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps(rec) + "\n")


def accuracy(args) -> None:
    for name, make in (("chain", gaussian_chain), ("ring_triples", ring_triples)):
        model = make(10)
        for m in (0, 1, 2):
            means, maxes = [], []
            for seed in range(args.seeds):
                _, y = simulate_fhmm(model, 200, torch.Generator().manual_seed(seed))
                ex = exact_filter(model, y).marginals
                gf = graph_filter(model, y, m).marginals
                tv = 0.5 * (gf - ex).abs().sum(-1)  # [T, M]
                means.append(float(tv.mean()))
                maxes.append(float(tv.max(-1).values.mean()))
            plan = graph_filter_plan(model, m)
            emit(
                args.out,
                {
                    "part": "accuracy",
                    "graph": name,
                    "M": 10,
                    "L": 2,
                    "T": 200,
                    "m": m,
                    "seeds": args.seeds,
                    "tv_mean": statistics.mean(means),
                    "tv_max_over_components": statistics.mean(maxes),
                    "max_local_components": int(plan.num_local_components.max()),
                },
            )


def _time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def scaling(args) -> list[dict]:
    recs = []
    for M in args.sizes:
        model = gaussian_chain(M)
        T = args.steps
        _, y = simulate_fhmm(model, T, torch.Generator().manual_seed(0))
        for m in (0, 1):
            plan = graph_filter_plan(model, m)
            s = _time(
                lambda plan=plan, y=y, model=model: graph_filter(model, y, plan=plan), args.repeats
            )
            rec = {
                "part": "scaling",
                "method": f"graph m={m}",
                "M": M,
                "T": T,
                "sec_per_step": s / T,
            }
            recs.append(rec)
            emit(args.out, rec)
        if M <= args.exact_max:
            Te = max(5, min(T, 20))
            s = _time(lambda y=y, model=model, Te=Te: exact_filter(model, y[:Te]), 1)
            rec = {"part": "scaling", "method": "exact", "M": M, "T": Te, "sec_per_step": s / Te}
            recs.append(rec)
            emit(args.out, rec)
            g1 = [r for r in recs if r["M"] == M and r["method"] == "graph m=1"][0]
            print(
                f"  M={M}: exact / graph(m=1) time per step = {rec['sec_per_step'] / g1['sec_per_step']:.1f}x"
            )
    return recs


def target(args) -> None:
    M, T = 1000, 1000
    model = gaussian_chain(M)
    _, y = simulate_fhmm(model, T, torch.Generator().manual_seed(0))

    def run():
        graph_filter(model, y, plan=graph_filter_plan(model, 1))

    ts, cpu = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        run()
        ts.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    load = os.getloadavg()[0]
    emit(
        args.out,
        {
            "part": "target",
            "M": M,
            "L": 2,
            "m": 1,
            "T": T,
            "seconds_median": statistics.median(ts),
            "seconds_all": ts,
            "cpu_seconds_median": statistics.median(cpu),
            "load_average_1min": load,
            "threads": torch.get_num_threads(),
            "target_seconds": 10.0,
        },
    )


def plot(recs: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for meth, style in (("graph m=0", "o-"), ("graph m=1", "s-"), ("exact", "^-")):
        rr = sorted((r for r in recs if r["method"] == meth), key=lambda r: r["M"])
        if rr:
            ax.loglog([r["M"] for r in rr], [r["sec_per_step"] for r in rr], style, label=meth)
    ax.set_xlabel("number of components M (Gaussian chain, L = 2)")
    ax.set_ylabel("seconds per time step")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description="Graph Filter benchmark")
    ap.add_argument("--parts", nargs="+", default=["accuracy", "scaling", "target"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10, 12, 14, 16, 18, 30, 100, 300, 1000, 3000, 10000],
    )
    ap.add_argument("--steps", type=int, default=100, help="T for the scaling part")
    ap.add_argument("--exact-max", type=int, default=18, help="largest M for the exact filter")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--plot", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if "accuracy" in args.parts:
        accuracy(args)
    recs = scaling(args) if "scaling" in args.parts else []
    if "target" in args.parts:
        target(args)
    if args.plot and recs:
        plot(recs, args.plot)


if __name__ == "__main__":
    main()
