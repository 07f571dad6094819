"""Combined reproduction table (issue 5): every dataset's runner JSONL in one markdown table.

    python examples/reproduction_table.py docs/reproduction_runs

Rows: model x arm (none, BORF, LCP exact, LCP combinatorial, the positional encodings); columns: datasets; cells: test
accuracy mean ± 95% CI (t) with the number of trials. Uses the runner's own report functions.
A second table gives the cost of each run folder: trials, summed trial wall and CPU time, and
when its first and last trials finished.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from graphsmooth.bench.report import read_records, summarize

ARMS = {
    "": "none",
    "borf": "BORF",
    'lcp [transforms=[{"lcp": {"method": "exact"}}]]': "LCP exact",
    'lcp [transforms=[{"lcp": {"method": "combinatorial"}}]]': "LCP comb.",
    "rwpe": "RWPE (16)",
    "lappe": "LapPE (8)",
}


def arm_of(method: str) -> tuple[str, str]:
    model, _, rest = method.partition("+")
    return model.upper(), ARMS.get(rest, rest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="folder holding one runner output folder per dataset")
    ap.add_argument(
        "--pattern",
        nargs="+",
        default=["reproduce_*", "pe_*"],
        help="output folders to include (globs; ablations apart)",
    )
    args = ap.parse_args()
    records = []
    cost = []
    for pattern in args.pattern:
        for path in sorted(Path(args.root).glob(f"{pattern}/results.jsonl")):
            recs = read_records(path)
            records += recs
            done = sorted(r.get("finished_at", "") for r in recs)
            cost.append(
                (
                    path.parent.name,
                    len(recs),
                    sum(r.get("wall_s", 0.0) for r in recs),
                    sum(r["cpu_s"] for r in recs if "cpu_s" in r)
                    if any("cpu_s" in r for r in recs)
                    else None,  # records before the runner stored CPU time
                    done[0] if done else "",
                    done[-1] if done else "",
                )
            )
    stats = summarize(records, "test_acc")
    datasets = list(dict.fromkeys(s.dataset for s in stats))
    rows = list(dict.fromkeys(arm_of(s.method) for s in stats))
    rows.sort(key=lambda r: (r[0], list(ARMS.values()).index(r[1]) if r[1] in ARMS.values() else 9))
    cell = {(arm_of(s.method), s.dataset): s for s in stats}
    print("| model | arm | " + " | ".join(datasets) + " |")
    print("|---|---|" + "---|" * len(datasets))
    for row in rows:
        cells = []
        for d in datasets:
            s = cell.get((row, d))
            cells.append("—" if s is None else f"{100 * s.mean:.1f} ± {100 * s.ci95:.1f} (n={s.n})")
        print(f"| {row[0]} | {row[1]} | " + " | ".join(cells) + " |")
    print()
    print(
        "| run folder | trials | trial wall time (s) | trial CPU time (s) | first finished | last finished |"
    )
    print("|---|---|---|---|---|---|")
    for name, n, wall, cpu, first, last in cost:
        cpu_text = "not recorded" if cpu is None else f"{cpu:,.0f}"
        print(f"| {name} | {n} | {wall:,.0f} | {cpu_text} | {first} | {last} |")


if __name__ == "__main__":
    main()
