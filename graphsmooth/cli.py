"""Command-line interface: ``graphsmooth <command> ...``.

Each command lives in the module that owns it and exposes ``register(subparsers)``, which adds
its sub-parser and sets ``func`` (called with the parsed ``argparse.Namespace``; it returns an
exit code). Modules are imported lazily so that ``graphsmooth --help`` stays fast and a broken
optional part cannot break the other commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command name -> module providing ``register(subparsers)``
COMMANDS: dict[str, str] = {
    "run": "graphsmooth.bench.cli",
    "report": "graphsmooth.bench.cli",
    "datasets": "graphsmooth.data.cli",
    "curvature": "graphsmooth.curvature.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphsmooth",
        description="Graph and sequential smoothing: curvature, rewiring, omega-GNNs, "
        "signal recovery, factorial HMMs and particle smoothers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in dict.fromkeys(COMMANDS.values()):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command whose module is not built yet
            if exc.name is not None and exc.name.startswith("graphsmooth"):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
