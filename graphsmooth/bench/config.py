"""Strict, typed YAML configs with sweeps.

A config file is a YAML mapping. ``task`` selects the schema: the task's ``Config`` dataclass
(a subclass of :class:`RunConfig`). Parsing is strict: an unknown key (with a "did you mean"
suggestion), a wrong type or a missing required field raises :class:`ConfigError` naming the
file and the dotted key, before anything runs.

**Sweeps.** Where a field's value does not have the field's type but is a *list of values that
do*, the field is swept: ``dataset: [Cora, CiteSeer]``, ``transforms: [[], [lcp], [borf]]``
(``transforms`` is itself a list, so a list of lists is a sweep), ``model: {name: [gcn, gin]}``,
``model: [{name: gcn}, {name: gin, hidden: 64}]``. :func:`expand` returns the cartesian product
of all sweeps; each element is one *sweep point* (a plain config without sweeps). Run-level
fields (``task``, ``name``, ``output``, ``device``, ``seeds``, ``trials``...) are never swept.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

__all__ = [
    "ConfigError",
    "RunConfig",
    "Sweep",
    "config_hash",
    "expand",
    "from_dict",
    "load_config",
    "parse_dataclass",
    "to_dict",
]

NO_SWEEP = {"sweep": False}


class ConfigError(ValueError):
    """A config problem, with the file and the dotted key it concerns."""

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None):
        self.key, self.source, self.problem = key, source, message
        where = ": ".join(p for p in (source, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Sweep:
    """A swept field: the values it takes (one sweep point each)."""

    values: tuple


@dataclass(kw_only=True)
class RunConfig:
    """Fields common to every task (never swept).

    Args:
        task (str): task name (``node_classification``, ``graph_classification``, ...).
        name (str, optional): run name. (default: the config file's stem)
        description (str): free text. (default: ``""``)
        output (str, optional): output directory. (default: ``runs/<name>``)
        device (str): ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
            (default: ``auto``)
        seeds (list of int, optional): explicit trial seeds. (default: ``range(trials)``)
        trials (int): number of seeds when ``seeds`` is not given. (default: 10)
        deterministic (bool): ask torch for deterministic algorithms. (default: ``True``)
    """

    task: str = field(metadata=NO_SWEEP)
    name: str | None = field(default=None, metadata=NO_SWEEP)
    description: str = field(default="", metadata=NO_SWEEP)
    output: str | None = field(default=None, metadata=NO_SWEEP)
    device: str = field(default="auto", metadata=NO_SWEEP)
    seeds: list[int] | None = field(default=None, metadata=NO_SWEEP)
    trials: int = field(default=10, metadata=NO_SWEEP)
    deterministic: bool = field(default=True, metadata=NO_SWEEP)

    def __post_init__(self):
        if self.device != "auto" and self.device != "cpu" and not self.device.startswith("cuda"):
            raise ConfigError(
                f"must be auto, cpu, cuda or cuda:N, got {self.device!r}", key="device"
            )
        if self.trials < 1:
            raise ConfigError(f"must be >= 1, got {self.trials}", key="trials")
        if self.seeds is not None and len(self.seeds) == 0:
            raise ConfigError("must not be empty", key="seeds")
        if self.seeds is not None and len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"duplicate seeds in {self.seeds}", key="seeds")

    @property
    def seed_list(self) -> list[int]:
        return list(self.seeds) if self.seeds is not None else list(range(self.trials))


# Fields that identify where/how a run happens but not what it computes: excluded from trial keys.
NON_SEMANTIC = ("name", "description", "output", "device")


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    if tp is type(None):
        return "null"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return f"list of ({_type_name(arg)})"
    if origin is dict:
        return "mapping"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _describe(value) -> str:
    return (
        f"{type(value).__name__} {value!r}"
        if not isinstance(value, dict | list)
        else type(value).__name__
    )


def _convert(value, tp, key: str, source: str | None, *, sweep: bool):
    """Return ``value`` checked against type ``tp`` (dataclasses built recursively)."""
    try:
        return _convert_exact(value, tp, key, source)
    except ConfigError as first:
        if (
            sweep
            and isinstance(value, list)
            and value
            and not first.problem.startswith("unknown key")
        ):
            try:
                return Sweep(
                    tuple(_convert_exact(v, tp, f"{key}[{i}]", source) for i, v in enumerate(value))
                )
            except ConfigError as inner:
                if dataclasses.is_dataclass(tp) or "unknown key" in inner.problem:
                    raise inner from None
        raise


def _convert_exact(value, tp, key: str, source: str | None):
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"expected null, got {_describe(value)}", key=key, source=source)
    if origin in (Union, types.UnionType):
        errors = []
        for arg in typing.get_args(tp):
            try:
                return _convert_exact(value, arg, key, source)
            except ConfigError as exc:
                errors.append(exc)
        unknown = [e for e in errors if e.problem.startswith("unknown key")]
        if unknown and isinstance(value, dict):
            raise unknown[0]
        raise ConfigError(
            f"expected {_type_name(tp)}, got {_describe(value)}", key=key, source=source
        )
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value in allowed:
            return value
        hint = _did_you_mean(str(value), [str(a) for a in allowed])
        raise ConfigError(f"expected {_type_name(tp)}, got {value!r}{hint}", key=key, source=source)
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        if not isinstance(value, list):
            raise ConfigError(
                f"expected {_type_name(tp)}, got {_describe(value)}", key=key, source=source
            )
        return [_convert_exact(v, arg, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        args = typing.get_args(tp) or (str, Any)
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {_describe(value)}", key=key, source=source)
        return {
            _convert_exact(k, args[0], key, source): _convert_exact(
                v, args[1], f"{key}.{k}", source
            )
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {_describe(value)}", key=key, source=source)
        return parse_dataclass(tp, value, prefix=key, source=source)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - schema error
        raise TypeError(f"unsupported config type {tp!r} at {key}")
    raise ConfigError(f"expected {_type_name(tp)}, got {_describe(value)}", key=key, source=source)


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_dataclass(
    cls, data: dict, *, prefix: str = "", source: str | None = None, sweeps: bool = True
):
    """Build dataclass ``cls`` from mapping ``data`` strictly (see module docstring).

    Args:
        cls: the dataclass (schema).
        data (dict): parsed YAML.
        prefix (str): dotted key of ``data`` inside the file, for messages. (default: ``""``)
        source (str, optional): file name for messages. (default: ``None``)
        sweeps (bool): allow sweeps (lists of values) where the schema permits. (default: ``True``)
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping, got {_describe(data)}", key=prefix or None, source=source
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for k in data:
        if k not in fields:
            full = f"{prefix}.{k}" if prefix else str(k)
            raise ConfigError(
                f"unknown key{_did_you_mean(str(k), fields)}; allowed keys: {', '.join(fields)}",
                key=full,
                source=source,
            )
    kwargs = {}
    for name, f in fields.items():
        full = f"{prefix}.{name}" if prefix else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError("missing required field", key=full, source=source)
            continue
        sweepable = sweeps and f.metadata.get("sweep", True)
        kwargs[name] = _convert(data[name], hints[name], full, source, sweep=sweepable)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        key = f"{prefix}.{exc.key}" if prefix and exc.key else exc.key or prefix or None
        raise ConfigError(exc.problem, key=key, source=source) from None


def to_dict(obj) -> Any:
    """Plain (JSON/YAML-able) form of a config; sweeps become lists."""
    if isinstance(obj, Sweep):
        return [to_dict(v) for v in obj.values]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def from_dict(cls, data: dict, *, source: str | None = None):
    """Rebuild a sweep point from :func:`to_dict` output (strict, no sweeps)."""
    return parse_dataclass(cls, data, source=source, sweeps=False)


def _expand(obj, path: str) -> list[tuple[Any, dict]]:
    if isinstance(obj, Sweep):
        out = []
        for v in obj.values:
            for point, swept in _expand(v, path):
                out.append((point, {path: to_dict(point), **swept}))
        return out
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = [f.name for f in dataclasses.fields(obj)]
        options = [_expand(getattr(obj, n), f"{path}.{n}" if path else n) for n in names]
        out = []
        for combo in itertools.product(*options):
            point = dataclasses.replace(obj, **{n: c[0] for n, c in zip(names, combo, strict=True)})
            swept: dict = {}
            for _, s in combo:
                swept.update(s)
            out.append((point, swept))
        return out
    return [(obj, {})]


def expand(config) -> list[tuple[Any, dict]]:
    """All sweep points of ``config``: a list of ``(point, swept)`` where ``point`` is the config
    with every sweep resolved and ``swept`` maps dotted keys to the chosen values."""
    return _expand(config, "")


# Fields that only say WHICH trials a run has (each trial's dict names its own seed, split or
# fold): left out of trial keys, so that a run extended with more seeds, splits or folds keeps
# every trial it finished. The ``split`` sub-fields are listed separately.
ENUMERATION = ("seeds", "trials")
ENUMERATION_SPLIT = ("indices", "fold_indices")


def trial_key(config: dict, trial: dict | None = None, length: int = 16) -> str:
    """Stable hash of a resolved config (as a dict) and a trial: the identity of a trial.

    Left out: where/how a run happens (:data:`NON_SEMANTIC`) and which trials the run
    enumerates (:data:`ENUMERATION`, ``split.indices``, ``split.fold_indices``)."""
    data = dict(config)
    for k in NON_SEMANTIC + ENUMERATION:
        data.pop(k, None)
    if isinstance(data.get("split"), dict):
        data["split"] = {k: v for k, v in data["split"].items() if k not in ENUMERATION_SPLIT}
    payload = json.dumps({"config": data, "trial": trial or {}}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:length]


def config_hash(point, trial: dict | None = None, length: int = 16) -> str:
    """:func:`trial_key` of a sweep point (a config object)."""
    return trial_key(to_dict(point), trial, length)


def load_config(source: str | Path | dict, *, overrides: dict | None = None):
    """Load and validate a config.

    Args:
        source: a YAML file path, or an already parsed mapping.
        overrides (dict, optional): run-level overrides (``device``, ``output``...) applied before
            validation. (default: ``None``)

    Returns:
        The task's ``Config`` instance (may contain :class:`Sweep` values; see :func:`expand`).

    Raises:
        ConfigError: unreadable YAML, unknown task, unknown key, wrong type or missing field.
    """
    from graphsmooth.bench.tasks import get_task, task_names

    if isinstance(source, dict):
        data, name, stem = dict(source), None, "run"
    else:
        path = Path(source)
        name, stem = str(path), path.stem
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}", source=name) from None
    if not isinstance(data, dict):
        raise ConfigError("the config must be a YAML mapping", source=name)
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if "task" not in data:
        raise ConfigError("missing required field", key="task", source=name)
    task_name = data["task"]
    if not isinstance(task_name, str):
        raise ConfigError(f"expected str, got {_describe(task_name)}", key="task", source=name)
    try:
        task = get_task(task_name)
    except ValueError as exc:
        hint = _did_you_mean(task_name, task_names())
        raise ConfigError(f"{exc}{hint}", key="task", source=name) from None
    if "seeds" in data and "trials" in data:
        raise ConfigError("give either 'seeds' or 'trials', not both", key="seeds", source=name)
    config = parse_dataclass(task.Config, data, source=name)
    config.source = name  # the file, for later messages (not a config field)
    if config.name is None:
        config.name = stem
    if config.output is None:
        config.output = str(Path("runs") / config.name)
    return config
