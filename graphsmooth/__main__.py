"""``python -m graphsmooth``: the same command line as the ``graphsmooth`` script."""

from graphsmooth.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
