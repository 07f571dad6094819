r"""Result tables and plots from a run's JSONL file.

For every (method, dataset) cell with :math:`n` trials of a metric with values
:math:`a_1..a_n`: mean :math:`\bar a`, sample standard deviation :math:`s` (ddof 1) and the
95% confidence half-width of the mean from Student's t distribution,

.. math::
    \mathrm{CI}_{95} = t_{0.975,\,n-1}\, s / \sqrt{n}

(``nan`` for :math:`n = 1`). Accuracies (metrics ending in ``acc``) are shown in percent.
Rows are methods, columns datasets, both in the order of the config's sweep. Records are
aggregated in their enumeration order, so a resumed run and an uninterrupted one give
bit-identical tables.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CellStats",
    "markdown_table",
    "read_records",
    "summarize",
    "timing_summary",
    "write_report",
]

RESULTS = "results.jsonl"
#: keys of the trials of the config last run in a directory (written by the runner)
PLAN = "trials.json"


@dataclass(frozen=True)
class CellStats:
    method: str
    dataset: str
    metric: str
    n: int
    mean: float
    std: float
    ci95: float


def record_key(record: dict) -> str:
    """The trial key of a result record, recomputed from its stored config and trial dict (so
    records written under an earlier key scheme, which hashed the seed list too, still count
    as the trial they are); the stored ``key`` where the record has no config."""
    from graphsmooth.bench.config import trial_key

    if isinstance(record.get("config"), dict) and "trial" in record:
        return trial_key(record["config"], record["trial"])
    return record["key"]


def read_records(path: str | Path) -> list[dict]:
    """Records of a results file (a directory or the JSONL path); a truncated last line (a run
    killed mid-write) is ignored. Sorted by enumeration order."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    seen, unique = set(), []
    for r in records:
        if r["key"] not in seen:
            seen.add(r["key"])
            unique.append(r)
    return sorted(unique, key=lambda r: tuple(r.get("order", (0, 0))))


def _t975(df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def mean_std_ci(values: list[float]) -> tuple[float, float, float]:
    """``(mean, std, ci)`` of a sample: the sample standard deviation and the 95% confidence
    half-width of the mean from Student's t distribution; ``std`` and ``ci`` are NaN for n = 1."""
    n = len(values)
    if n == 0:
        raise ValueError("mean_std_ci: empty sample")
    mean = math.fsum(values) / n
    if n == 1:
        return mean, math.nan, math.nan
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, std, _t975(n - 1) * std / math.sqrt(n)


def summarize(records: list[dict], metric: str) -> list[CellStats]:
    """Mean, std and 95% CI of ``metric`` per (method, dataset), in first-appearance order."""
    groups: dict[tuple[str, str], list[float]] = {}
    for r in records:
        value = r["metrics"].get(metric)
        if value is None:
            continue
        groups.setdefault((r["method"], r["dataset"]), []).append(float(value))
    out = []
    for (method, dataset), values in groups.items():
        mean, std, ci = mean_std_ci(values)
        out.append(CellStats(method, dataset, metric, len(values), mean, std, ci))
    return out


def _scale(metric: str) -> float:
    return 100.0 if metric.endswith("acc") else 1.0


def _fmt(x: float, metric: str) -> str:
    if math.isnan(x):
        return "nan"
    x *= _scale(metric)
    return f"{x:.1f}" if _scale(metric) == 100.0 else f"{x:.4g}"


def markdown_table(stats: list[CellStats]) -> str:
    """Rows = methods, columns = datasets, cells ``mean ± CI95`` (``(n=..)`` when counts vary)."""
    if not stats:
        return "(no results)\n"
    metric = stats[0].metric
    methods = list(dict.fromkeys(s.method for s in stats))
    datasets = list(dict.fromkeys(s.dataset for s in stats))
    cell = {(s.method, s.dataset): s for s in stats}
    counts = {s.n for s in stats}
    lines = [
        "| method | " + " | ".join(datasets) + " |",
        "|---|" + "---|" * len(datasets),
    ]
    for m in methods:
        row = []
        for d in datasets:
            s = cell.get((m, d))
            if s is None:
                row.append("—")
                continue
            text = f"{_fmt(s.mean, metric)} ± {_fmt(s.ci95, metric)}"
            if len(counts) > 1:
                text += f" (n={s.n})"
            row.append(text)
        lines.append(f"| {m} | " + " | ".join(row) + " |")
    unit = " (%)" if _scale(metric) == 100.0 else ""
    note = f"{metric}{unit}: mean ± 95% CI (t-distribution)"
    if len(counts) == 1:
        note += f" over {counts.pop()} trials per cell"
    return note + "\n\n" + "\n".join(lines) + "\n"


def _plot(stats: list[CellStats], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metric = stats[0].metric
    methods = list(dict.fromkeys(s.method for s in stats))
    datasets = list(dict.fromkeys(s.dataset for s in stats))
    cell = {(s.method, s.dataset): s for s in stats}
    scale = _scale(metric)
    width = 0.8 / len(methods)
    width_in = max(5.0, 1.0 + len(datasets) * (0.9 + 0.35 * len(methods)))
    fig, ax = plt.subplots(figsize=(width_in, 4.0))
    xs = np.arange(len(datasets))
    for i, m in enumerate(methods):
        means = [cell[(m, d)].mean * scale if (m, d) in cell else np.nan for d in datasets]
        errs = [
            0.0
            if (m, d) not in cell or math.isnan(cell[(m, d)].ci95)
            else cell[(m, d)].ci95 * scale
            for d in datasets
        ]
        ax.bar(
            xs + (i - (len(methods) - 1) / 2) * width, means, width, yerr=errs, capsize=3, label=m
        )
    long = max(len(d) for d in datasets) > 12
    ax.set_xticks(xs, datasets, rotation=20 if long else 0, ha="right" if long else "center")
    ax.set_ylabel(metric + (" (%)" if scale == 100.0 else ""))
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def timing_summary(records: list[dict]) -> str:
    """One line: trial count, summed trial wall time, devices, median seconds per epoch
    (kept out of ``table.md``, which must be identical across reruns)."""
    import statistics

    if not records:
        return "no trials\n"
    wall = math.fsum(float(r.get("wall_s", 0.0)) for r in records)
    devices = ", ".join(sorted({str(r.get("device")) for r in records}))
    text = f"{len(records)} trials, {wall:.1f} s of trial wall time in total ({devices})"
    cpu = [float(r["cpu_s"]) for r in records if "cpu_s" in r]
    if cpu:
        text += f", {math.fsum(cpu):.1f} s CPU time"
    epochs = [r["metrics"]["epoch_time_s"] for r in records if "epoch_time_s" in r["metrics"]]
    if epochs:
        text += f"; median {statistics.median(epochs) * 1e3:.1f} ms per epoch"
    return text + "\n"


def write_report(
    out_dir: str | Path, metrics: list[str] | None = None, title: str | None = None
) -> str:
    """Write ``table.md``, ``table.csv``, ``plot.png`` and ``timing.txt`` into ``out_dir`` from its
    ``results.jsonl``; return the markdown text. When the directory holds ``trials.json`` (the
    trial keys of the config last run there), only those trials are tabulated, so records of
    an earlier, different config in the same directory never mix into the table.

    Args:
        out_dir: the run's output directory.
        metrics (list of str, optional): metrics to tabulate, primary first. (default: the
            ``metrics`` stored in the records, else ``test_acc``)
        title (str, optional): title. (default: ``name`` in the directory's ``config.yaml``,
            else the directory name)
    """
    out_dir = Path(out_dir)
    records = read_records(out_dir)
    if (out_dir / PLAN).is_file():  # only the trials of the config last run here, in its order
        position = {k: i for i, k in enumerate(json.loads((out_dir / PLAN).read_text()))}
        keyed = [(position.get(record_key(r)), r) for r in records]  # one hash per record
        records = [
            r for _, r in sorted((kr for kr in keyed if kr[0] is not None), key=lambda kr: kr[0])
        ]
    if title is None and (out_dir / "config.yaml").is_file():
        import yaml

        title = (yaml.safe_load((out_dir / "config.yaml").read_text()) or {}).get("name")
    if metrics is None:
        metrics = records[0].get("report_metrics") if records else None
        metrics = metrics or ["test_acc"]
    parts, rows = [], []
    for metric in metrics:
        stats = summarize(records, metric)
        parts.append(markdown_table(stats))
        rows.extend(stats)
        if metric == metrics[0] and stats:
            _plot(stats, out_dir / "plot.png", title or out_dir.name)
    text = f"# {title or out_dir.name}\n\n" + "\n".join(parts)
    (out_dir / "timing.txt").write_text(timing_summary(records))
    (out_dir / "table.md").write_text(text)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["metric", "method", "dataset", "n", "mean", "std", "ci95"])
    for s in rows:
        writer.writerow(
            [s.metric, s.method, s.dataset, s.n, repr(s.mean), repr(s.std), repr(s.ci95)]
        )
    (out_dir / "table.csv").write_text(buf.getvalue())
    return text
