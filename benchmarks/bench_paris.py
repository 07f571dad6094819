"""PaRIS speed: graphsmooth.smc.paris vs the `particles` library's `collectors.Paris`.

Same scalar linear Gaussian model (rho = 0.9, sigma_x = 1, sigma_y = 0.5, sigma_0 = 1), same
data, same functional (h_t = x_t, so the target is E[sum_t X_t | y]), K = 2, bootstrap filter
with systematic resampling at ESS < N/2, in one run. Prints wall and CPU seconds, the ratio,
both estimates and the exact Kalman/RTS value (statsmodels).

Ours is timed ``--repeats`` times per backward kernel (``--backward``, default the library's
``mh``; ``rejection`` is the hybrid accept-reject) and per torch thread count (``--threads``);
the medians are printed.

The peer's cost is linear in T (a Python loop over particles at each step), so when its run
would exceed ``--peer-budget`` CPU seconds it is stopped after the steps that fit and its time
is extrapolated linearly to the full T (rows marked ``peer_extrapolated``; no peer estimate).

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/bench_paris.py --repeats 3 \
        --sizes 200x100,1000x100,200x1000,1000x1000 --backward mh,rejection --peer-budget 45
    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/bench_paris.py --sizes 10000x1000 \
        --repeats 3 --threads 1,2 --backward mh

(``OMP_WAIT_POLICY=PASSIVE``: on a busy shared CPU, torch's spinning OpenMP threads made the
2-thread runs 40x slower; see docs/smc.md.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import torch

from graphsmooth.smc import LinearGaussian, kalman_smoother, paris, simulate, state_sum

RHO, SX, SY, S0 = 0.9, 1.0, 0.5, 1.0


def make_peer_model():
    import particles.distributions as dists
    from particles import state_space_models as ssm

    class PeerLG(ssm.StateSpaceModel):
        default_params = {"rho": RHO, "sigmaX": SX, "sigmaY": SY, "sigma0": S0}

        def PX0(self):
            return dists.Normal(scale=self.sigma0)

        def PX(self, t, xp):
            return dists.Normal(loc=self.rho * xp, scale=self.sigmaX)

        def PY(self, t, xp, x):
            return dists.Normal(loc=x, scale=self.sigmaY)

        def upper_bound_log_pt(self, t):
            return -0.5 * math.log(2 * math.pi) - math.log(self.sigmaX)

        def add_func(self, t, xp, x):
            return x

    return PeerLG()


def run_peer(y: np.ndarray, n: int, budget: float, seed: int):
    import particles
    from particles import collectors
    from particles import state_space_models as ssm

    np.random.seed(seed)  # noqa: NPY002 (the peer only draws from numpy's global RNG)
    fk = ssm.Bootstrap(ssm=make_peer_model(), data=y)
    alg = particles.SMC(
        fk=fk, N=n, resampling="systematic", ESSrmin=0.5, collect=[collectors.Paris(Nparis=2)]
    )
    c0, w0, steps = time.process_time(), time.perf_counter(), 0
    for _ in alg:
        steps += 1
        if time.process_time() - c0 > budget and steps < len(y):
            break
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    full = steps == len(y)
    est = float(np.asarray(alg.summaries.paris[-1]).reshape(-1)[0]) if full else None
    scale = len(y) / steps
    return dict(
        peer_cpu_s=cpu * scale,
        peer_wall_s=wall * scale,
        peer_steps=steps,
        peer_extrapolated=not full,
        peer_estimate=est,
    )


def run_ours(model, y, n, seed, backward, mh_steps, repeats):
    cpus, walls = [], []
    for r in range(repeats):
        g = torch.Generator().manual_seed(seed + r)
        c0, w0 = time.process_time(), time.perf_counter()
        res = paris(
            model, y, state_sum, n, num_backward=2, backward=backward, mh_steps=mh_steps,
            generator=g,
        )  # fmt: skip
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return dict(
        backward=backward,
        mh_steps=mh_steps if backward == "mh" else None,
        repeats=repeats,
        ours_cpu_s=float(np.median(cpus)),
        ours_wall_s=float(np.median(walls)),
        ours_cpu_all=cpus,
        ours_wall_all=walls,
        ours_estimate=float(res.estimate[0]),
        ours_proposals_per_draw=float(res.num_proposals.float().mean()) / (2 * n),
        ours_fallback_per_step=float(res.num_fallback.float().mean()),
        ours_acceptance=float(res.num_accepted.sum()) / max(1, int(res.num_proposals.sum())),
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="200x100,1000x100,200x1000,1000x1000,10000x1000")
    p.add_argument("--peer-max-n", type=int, default=1000, help="skip the peer above this N")
    p.add_argument("--peer-budget", type=float, default=60.0, help="peer CPU seconds per run")
    p.add_argument("--threads", default="1", help="torch intra-op thread counts, e.g. 1,2")
    p.add_argument("--backward", default="mh", help="backward kernels, e.g. mh,rejection")
    p.add_argument("--mh-steps", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1, help="timed runs of ours (median)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="append JSON lines here")
    args = p.parse_args()
    model = LinearGaussian(RHO, 1.0, SX**2, SY**2, P0=S0**2)
    print(
        f"{'N':>6} {'T':>5} {'kernel':>9} {'thr':>3} {'ours cpu':>9} {'ours wall':>9} "
        f"{'peer cpu':>9} {'peer wall':>9} {'ratio cpu':>9} {'ratio wall':>10} {'ours est':>9} "
        f"{'peer est':>9} {'kalman':>9}"
    )
    for size in args.sizes.split(","):
        n, t = (int(v) for v in size.split("x"))
        sim = simulate(model, t, torch.Generator().manual_seed(1000 + t))
        y = sim.observations
        exact = float(kalman_smoother(model, y).statistics[0])
        peer = None
        if n <= args.peer_max_n:
            torch.set_num_threads(1)
            peer = run_peer(y[:, 0].numpy(), n, args.peer_budget, args.seed)
        for backward in args.backward.split(","):
            for threads in (int(v) for v in args.threads.split(",")):
                torch.set_num_threads(threads)
                row = dict(N=n, T=t, K=2, threads=threads, seed=args.seed, kalman=exact)
                row.update(run_ours(model, y, n, args.seed, backward, args.mh_steps, args.repeats))
                if peer is not None:
                    row.update(peer)
                    row["ratio_cpu"] = row["peer_cpu_s"] / row["ours_cpu_s"]
                    row["ratio_wall"] = row["peer_wall_s"] / row["ours_wall_s"]
                row["load_avg_1min"] = os.getloadavg()[0]
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(json.dumps(row) + "\n")
                fmt = lambda k, spec, r=row: format(r[k], spec) if r.get(k) is not None else "-"
                ext = "*" if row.get("peer_extrapolated") else ""
                print(
                    f"{n:>6} {t:>5} {backward:>9} {threads:>3} {fmt('ours_cpu_s', '9.2f')} "
                    f"{fmt('ours_wall_s', '9.2f')} {fmt('peer_cpu_s', '8.1f')}{ext:1} "
                    f"{fmt('peer_wall_s', '9.1f')} {fmt('ratio_cpu', '9.0f')} "
                    f"{fmt('ratio_wall', '10.0f')} {fmt('ours_estimate', '9.3f')} "
                    f"{fmt('peer_estimate', '9.3f')} {exact:9.3f}",
                    flush=True,
                )
    print("* peer time extrapolated linearly in T from the steps run within --peer-budget")


if __name__ == "__main__":
    main()
