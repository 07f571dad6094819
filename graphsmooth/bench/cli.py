"""``graphsmooth run CONFIG`` and ``graphsmooth report DIR`` (registered by ``graphsmooth.cli``)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from graphsmooth.bench.config import ConfigError
    from graphsmooth.bench.runner import run

    try:
        result = run(
            args.config,
            workers=args.workers,
            device=args.device,
            output=args.out,
            max_trials=args.max_trials,
            threads=args.threads or None,
            verbose=not args.quiet,
            trials=args.trials,
        )
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted; finished trials are saved, run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(result.table)
    print((result.output / "timing.txt").read_text().strip())
    print(
        f"{result.ran} trials run, {result.skipped} already done, {result.total} in total; "
        f"results in {result.output}"
    )
    if result.errors:
        print(
            f"{len(result.errors)} trials failed; see {result.output / 'errors.jsonl'}",
            file=sys.stderr,
        )
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from graphsmooth.bench.report import RESULTS, write_report

    if not (Path(args.dir) / RESULTS).is_file():
        print(f"no {RESULTS} in {args.dir}", file=sys.stderr)
        return 2
    print(write_report(args.dir))
    print((Path(args.dir) / "timing.txt").read_text().strip())
    return 0


def register(subparsers) -> None:
    """Add the ``run`` and ``report`` sub-commands."""
    p = subparsers.add_parser("run", help="run (or resume) a benchmark config")
    p.add_argument("config", help="YAML config file")
    p.add_argument("--workers", type=int, default=1, help="parallel trial processes (default 1)")
    p.add_argument("--device", default=None, help="override the config: auto | cpu | cuda[:N]")
    p.add_argument("--out", default=None, help="override the output directory")
    p.add_argument("--max-trials", type=int, default=None, help="run at most N missing trials")
    p.add_argument(
        "--trials",
        type=int,
        default=None,
        help="override the config's number of trials (e.g. 10 of a paper's 100); "
        "rerun with the same value to resume",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per trial process (default 1; 0: torch default)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
    r = subparsers.add_parser("report", help="rebuild table.md/table.csv/plot.png of a run")
    r.add_argument("dir", help="a run's output directory (holding results.jsonl)")
    r.set_defaults(func=_report)
