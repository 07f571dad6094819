"""Per-seed table of a Planetoid runner run (``configs/omega/planetoid_*.yaml``).

Reads one or more runner output directories (their ``results.jsonl``) and prints one markdown
row per model: test and validation accuracy (mean ± 95 % CI, t distribution), the test
accuracy of every seed, the seeds present, the median (and largest) best-validation epoch and
the summed CPU time; then the paired per-seed differences of each pair ``A:B`` (model label A
minus model label B, on the seeds both have)::

    python examples/omega_planetoid.py docs/omega_runs/planetoid_pubmed \\
        --strip normalize_features --pairs omegaGCN:GCN omegaGAT:GAT omegaGAT:omegaGCN
"""

from __future__ import annotations

import argparse
import statistics

from graphsmooth.bench.report import mean_std_ci, read_records


def _mean_ci(values: list[float], sign: bool = False) -> str:
    mu, _, half = mean_std_ci(values)
    fmt = "+.1f" if sign else ".1f"
    if len(values) < 2:
        return f"{mu:{fmt}} (n=1)"
    return f"{mu:{fmt}} ± {half:.1f}"


def _seed_ranges(seeds: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0–2, 5"``."""
    out, start = [], None
    for i, s in enumerate(seeds):
        if start is None:
            start = s
        if i + 1 == len(seeds) or seeds[i + 1] != s + 1:
            out.append(str(start) if start == s else f"{start}–{s}")
            start = None
    return ", ".join(out)


def collect(outs: list[str], strip: list[str]) -> dict[str, dict[int, dict]]:
    """model label -> seed -> record (the last record of a seed wins)."""
    by_model: dict[str, dict[int, dict]] = {}
    for out in outs:
        for r in read_records(out):
            label = "+".join(p for p in r["method"].split("+") if p not in strip)
            by_model.setdefault(label, {})[int(r["trial"]["seed"])] = r
    return by_model


def table(by_model: dict[str, dict[int, dict]], pairs: list[tuple[str, str]]) -> str:
    lines = [
        "| model | test acc | val acc | per seed (test) | seeds | median best epoch | CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, seeds in by_model.items():
        order = sorted(seeds)
        test = [100 * seeds[s]["metrics"]["test_acc"] for s in order]
        val = [100 * seeds[s]["metrics"]["val_acc"] for s in order]
        best = [seeds[s]["metrics"]["best_epoch"] for s in order]
        cpu = sum(seeds[s]["cpu_s"] for s in order)
        lines.append(
            f"| {label} | {_mean_ci(test)} | {_mean_ci(val)} | {' '.join(f'{t:.1f}' for t in test)} "
            f"| {len(order)} ({_seed_ranges(order)}) | {statistics.median(best):g} (max {max(best)}) "
            f"| {cpu:.0f} |"
        )
    if pairs:
        lines += [
            "",
            "| paired difference (per seed) | test acc | val acc | test up / tied / down | seeds |",
            "|---|---|---|---|---|",
        ]
    for a, b in pairs:
        if a not in by_model or b not in by_model:
            raise SystemExit(f"--pairs {a}:{b}: unknown model label; have {sorted(by_model)}")
        common = sorted(set(by_model[a]) & set(by_model[b]))
        if not common:
            continue
        dt, dv = (
            [100 * (by_model[a][s]["metrics"][m] - by_model[b][s]["metrics"][m]) for s in common]
            for m in ("test_acc", "val_acc")
        )
        up, down = sum(d > 0 for d in dt), sum(d < 0 for d in dt)
        lines.append(
            f"| {a} − {b} | {_mean_ci(dt, sign=True)} | {_mean_ci(dv, sign=True)} "
            f"| {up} / {len(dt) - up - down} / {down} | {len(common)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("outs", nargs="+", help="runner output directories (or results.jsonl files)")
    p.add_argument("--strip", nargs="*", default=[], help="transforms to drop from the labels")
    p.add_argument("--pairs", nargs="*", default=[], help="A:B model-label pairs, A minus B")
    a = p.parse_args(argv)
    pairs = [tuple(x.split(":", 1)) for x in a.pairs]
    print(table(collect(a.outs, a.strip), pairs))


if __name__ == "__main__":
    main()
