"""Tables of the omega networks with the curvature transforms (``configs/omega/curvature_*.yaml``).

Reads a runner output directory and prints, per data set, the test accuracy of every
(model, transform list) cell (mean ± std over splits / folds, mean validation accuracy) and the
paired per-split differences of each transform against a reference transform list of the same
model (mean ± 95 % CI from the t distribution, and on how many splits it is up, tied, down)::

    python examples/omega_curvature.py docs/omega_runs/curvature_webkb \\
        --strip normalize_features --pairs lcp:- borf:- borf:simple_undirected

``--strip`` drops a transform that every cell has from the labels; in ``--pairs`` ``A:B`` is
"transform list A minus transform list B" and ``-`` is the cell without curvature transforms.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

from graphsmooth.bench.report import mean_std_ci, read_records


def _split(method: str, strip: list[str]) -> tuple[str, str]:
    model, *transforms = method.split("+")
    transforms = [t for t in transforms if t not in strip]
    return model, "+".join(transforms) or "-"


def _trial_id(trial: dict) -> tuple:
    return tuple(sorted(trial.items()))


def _ci(diffs: list[float]) -> str:
    n = len(diffs)
    mu, _, half = mean_std_ci(diffs)
    if n < 2:
        return f"{mu:+.1f} (n=1)"
    up, down = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    return f"{mu:+.1f} ± {half:.1f} ({up} up, {n - up - down} tied, {down} down)"


def tables(out: str, strip: list[str], pairs: list[tuple[str, str]]) -> str:
    acc: dict = defaultdict(dict)  # (dataset, model, transforms) -> trial -> (test, val)
    for r in read_records(out):
        model, tr = _split(r["method"], strip)
        m = r["metrics"]
        acc[(r["dataset"], model, tr)][_trial_id(r["trial"])] = (
            100 * m["test_acc"],
            100 * m["val_acc"],
        )
    datasets = sorted({k[0] for k in acc})
    models = list(dict.fromkeys(k[1] for k in acc))
    transforms = sorted({k[2] for k in acc}, key=lambda t: (t != "-", t))
    lines = []
    for ds in datasets:
        lines += [
            f"**{ds}**, test ± std / validation (%), n splits or folds",
            "",
            "| model | " + " | ".join(transforms) + " |",
            "|---|" + "---|" * len(transforms),
        ]
        for m in models:
            cells = []
            for t in transforms:
                v = acc.get((ds, m, t), {})
                if not v:
                    cells.append("–")
                    continue
                test = [a for a, _ in v.values()]
                val = statistics.mean(b for _, b in v.values())
                sd = statistics.stdev(test) if len(test) > 1 else 0.0
                cells.append(f"{statistics.mean(test):.1f} ± {sd:.1f} / {val:.1f} ({len(test)})")
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        if pairs:
            lines += [
                "",
                "| paired test difference (points) | "
                + " | ".join(f"{a} − {b}" for a, b in pairs)
                + " |",
                "|---|" + "---|" * len(pairs),
            ]
            for m in models:
                cells = []
                for a, b in pairs:
                    va, vb = acc.get((ds, m, a), {}), acc.get((ds, m, b), {})
                    common = sorted(set(va) & set(vb))
                    cells.append(_ci([va[k][0] - vb[k][0] for k in common]) if common else "–")
                lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("out", help="a runner output directory (results.jsonl)")
    p.add_argument("--strip", nargs="*", default=[], help="transforms to leave out of the labels")
    p.add_argument("--pairs", nargs="*", default=[], help="A:B differences of transform lists")
    args = p.parse_args()
    pairs = [tuple(x.split(":", 1)) for x in args.pairs]
    print(tables(args.out, args.strip, pairs))


if __name__ == "__main__":
    main()
