r"""Where data lives: the (read-only) data root and the writable processing cache.

Two folders matter:

* the **data root** holds raw files. It is resolved as

  1. the explicit ``root`` argument,
  2. else the environment variable ``$GRAPHSMOOTH_DATA``,
  3. else PyG's own cache (``$PYG_HOME``, default ``~/.cache/pyg``).

  A data root either follows the graphsmooth layout (``<root>/pyg/<Name>/raw``,
  ``<root>/pyg_approx/PubMed/raw``, ``<root>/timegnn``, ``<root>/fhmm``) or, when ``<root>/pyg``
  does not exist, is itself a PyG root (``<root>/<Name>/raw``), as a user's own PyG cache is.

* the **cache** (``$GRAPHSMOOTH_CACHE``, default ``$XDG_CACHE_HOME/graphsmooth`` or
  ``~/.cache/graphsmooth``) is writable. Shared raw files may be read-only, and PyG writes its
  ``processed/`` folder next to ``raw/``, so datasets are processed in a working root inside the
  cache whose ``raw/`` folder holds *symbolic links* to the raw files (nothing is copied).

Only :func:`data_root` and :func:`cache_dir` are public; :mod:`graphsmooth.data.datasets` uses
the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

#: environment variable naming the data root
ENV_DATA = "GRAPHSMOOTH_DATA"
#: environment variable naming the writable cache
ENV_CACHE = "GRAPHSMOOTH_CACHE"

__all__ = ["ENV_CACHE", "ENV_DATA", "cache_dir", "data_root", "pyg_root"]


def _pyg_home() -> Path:
    # Same rule as ``torch_geometric.get_home_dir()`` without importing torch_geometric.
    return Path(os.path.expanduser(os.getenv("PYG_HOME", os.path.join("~", ".cache", "pyg"))))


def resolve_data_root(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Data root and where it came from: ``"argument"``, ``"environment"`` or ``"default"``."""
    if root is not None:
        return Path(os.path.expanduser(os.fspath(root))), "argument"
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(os.path.expanduser(env)), "environment"
    return _pyg_home(), "default"


def data_root(root: str | os.PathLike | None = None) -> Path:
    r"""The data root holding raw files.

    Args:
        root (str or Path, optional): explicit root; wins over everything else. (default: ``None``)

    Returns:
        ``root`` if given, else ``$GRAPHSMOOTH_DATA`` if set, else PyG's cache folder
        (``$PYG_HOME``, default ``~/.cache/pyg``). The folder need not exist.
    """
    return resolve_data_root(root)[0]


def pyg_root(root: str | os.PathLike | None = None) -> Path:
    """The PyG root inside a data root: ``<root>/pyg`` when it exists, else ``<root>`` itself."""
    base = data_root(root)
    return base / "pyg" if (base / "pyg").is_dir() else base


def cache_dir() -> Path:
    r"""The writable cache folder of graphsmooth (processed datasets, downloads).

    Returns:
        ``$GRAPHSMOOTH_CACHE`` if set, else ``$XDG_CACHE_HOME/graphsmooth``, else
        ``~/.cache/graphsmooth``. The folder is created on first use by the loaders.
    """
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(os.path.expanduser(env))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(os.path.expanduser(xdg)) if xdg else Path(os.path.expanduser("~/.cache"))
    return base / "graphsmooth"


def short_hash(text: str, length: int = 12) -> str:
    """A short, stable hex digest of ``text`` (for cache folder names)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def link_files(source: Path, target: Path) -> None:
    """Make ``target`` a real folder holding a symbolic link to every file of ``source``.

    Existing correct links are kept; stale ones are replaced. Where symbolic links are not
    supported (some Windows setups) the file is copied instead.
    """
    target.mkdir(parents=True, exist_ok=True)
    for src in sorted(source.iterdir()):
        if not src.is_file():
            continue
        dst = target / src.name
        real = src.resolve()
        if dst.is_symlink() or dst.exists():
            if dst.is_symlink() and Path(os.readlink(dst)) == real:
                continue
            dst.unlink()
        try:
            dst.symlink_to(real)
        except OSError:  # pragma: no cover - platforms without symlinks
            shutil.copyfile(real, dst)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock on ``path`` (POSIX ``flock``; a no-op where unavailable).

    Serialises processing of one working root between processes (pytest-xdist workers, several
    runs sharing a cache), so that nobody reads a half-written ``processed/`` file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
