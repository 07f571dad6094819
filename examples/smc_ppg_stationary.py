"""PPG at stationarity: one sweep started from an exact smoothing path is unbiased (check).

If the reference trajectory is an exact draw from the smoothing distribution, one PPG sweep's
estimate is unbiased for E[h(X) | y] (docs/smc.md, "Parisian particle Gibbs — design"). This
script draws exact references by forward filtering backward sampling on the scalar linear
Gaussian model of examples/smc_ppg_bias.py (Kalman filter in numpy, then
X_t | X_{t+1}, y_{0:t} ~ N(m_t + J_t (X_{t+1} - a m_t), P_t - J_t a P_t),
J_t = a P_t / (a^2 P_t + q)), runs one sweep from each and prints the running bias of the
estimate of E[sum_t X_t^2 | y] against the exact RTS value (statsmodels), with its standard
error, every 100 sweeps.

    PYTHONPATH=. python examples/smc_ppg_stationary.py --sweeps 1000 --seed 7
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from graphsmooth.smc import LinearGaussian, kalman_smoother, ppg_sweep, simulate, state_outer_sum

A, Q, R = 0.9, 1.0, 0.5


def kalman_filter(y: np.ndarray, p0: float) -> tuple[np.ndarray, np.ndarray]:
    """Filtering means and variances of the scalar model, X_0 ~ N(0, p0)."""
    m, p = np.zeros(len(y)), np.zeros(len(y))
    mp, pp = 0.0, p0
    for t in range(len(y)):  # sequential in time by nature
        if t > 0:
            mp, pp = A * m[t - 1], A * A * p[t - 1] + Q
        gain = pp / (pp + R)
        m[t], p[t] = mp + gain * (y[t] - mp), (1.0 - gain) * pp
    return m, p


def ffbs(m: np.ndarray, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One exact draw from the smoothing distribution (backward sampling)."""
    x = np.zeros(len(m))
    x[-1] = rng.normal(m[-1], math.sqrt(p[-1]))
    for t in range(len(m) - 2, -1, -1):
        j = p[t] * A / (A * A * p[t] + Q)
        x[t] = rng.normal(m[t] + j * (x[t + 1] - A * m[t]), math.sqrt(p[t] - j * A * p[t]))
    return x


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sweeps", type=int, default=1000)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--N", type=int, default=16)
    p.add_argument("--backward", default="rejection")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    torch.set_num_threads(1)
    model = LinearGaussian(A, 1.0, Q, R)
    y = simulate(model, args.T, torch.Generator().manual_seed(0)).observations
    exact = float(kalman_smoother(model, y).statistics[1])
    m, var = kalman_filter(y[:, 0].numpy(), float(model.P0[0, 0]))
    rng = np.random.default_rng(args.seed)
    g = torch.Generator().manual_seed(args.seed + 100)
    errors = []
    print(f"exact E[sum X_t^2 | y] = {exact:.4f} (T={args.T}, N={args.N}, {args.backward})")
    for s in range(args.sweeps):
        ref = torch.from_numpy(ffbs(m, var, rng)).unsqueeze(1)
        est, _, _ = ppg_sweep(
            model, y, state_outer_sum, args.N, ref, backward=args.backward, generator=g
        )
        errors.append(float(est[0]) - exact)
        if (s + 1) % 100 == 0 or s + 1 == args.sweeps:
            e = np.array(errors)
            print(
                f"{s + 1:>6} sweeps: bias {e.mean():+.3f} +- {e.std(ddof=1) / math.sqrt(len(e)):.3f}"
                f"  (sd {e.std(ddof=1):.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
