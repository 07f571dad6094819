"""The benchmark runner: ``run(config)`` = validate -> enumerate trials -> skip finished ->
execute -> append JSONL -> tables and plot.

Trials are ``sweep points x task.trials(point)`` (seeds x splits). Each trial is identified by
a hash of its sweep point's full resolved config (without name/output/device, and without the
fields that only enumerate trials: ``seeds``, ``trials``, ``split.indices``,
``split.fold_indices``) and its trial dict, so a run extended with more seeds, splits or folds
keeps the trials it finished (a record's key is recomputed from the config and trial it
stores, which also covers records of earlier runners). A finished trial is appended to
``<output>/results.jsonl`` immediately (write, flush, fsync), so a killed run loses at most the
trials in flight, and a rerun of the same config skips every trial already present. Failures
are appended to ``errors.jsonl`` and retried on the next run.

Reproducibility: each trial seeds Python, NumPy and torch from its seed (see
:func:`graphsmooth.bench.tasks.classification.seed_everything`), so the same config and seed
give identical numbers on CPU, whether trials run sequentially, in a pool or across resumes.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from graphsmooth.bench.alloc import tune_allocator
from graphsmooth.bench.config import (
    ConfigError,
    RunConfig,
    config_hash,
    expand,
    from_dict,
    load_config,
    to_dict,
)
from graphsmooth.bench.executors import Executor, make_executor
from graphsmooth.bench.report import PLAN, RESULTS, read_records, record_key, write_report
from graphsmooth.bench.tasks import get_task

__all__ = ["RunResult", "Trial", "execute_trial", "plan", "run"]


@dataclass
class Trial:
    """One unit of work: a sweep point and a trial dict, with its key and labels."""

    key: str
    order: tuple[int, int]
    task: str
    point: dict
    trial: dict
    method: str
    dataset: str

    def payload(self) -> dict:
        return {"key": self.key, "task": self.task, "config": self.point, "trial": self.trial}


@dataclass
class RunResult:
    """What :func:`run` did: the output folder, counts, the markdown table and failures."""

    output: Path
    total: int
    skipped: int
    ran: int
    errors: list[dict] = field(default_factory=list)
    table: str = ""

    @property
    def complete(self) -> bool:
        return self.skipped + self.ran == self.total and not self.errors


def _labels(task, points) -> list[tuple[str, str]]:
    """Table labels of the sweep points; where two points share a label, the swept values that
    differ between them are appended (e.g. ``gcn [model.hidden=64]``)."""
    labels = [task.labels(p) for p, _ in points]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, []).append(i)

    def text(v):
        return json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else str(v)

    out = list(labels)
    for (method, dataset), members in groups.items():
        if len(members) < 2:
            continue
        keys = dict.fromkeys(k for i in members for k in points[i][1])
        differing = [
            k
            for k in keys
            if len({text(points[i][1].get(k)) for i in members}) > 1 and not k.startswith("dataset")
        ]
        for i in members:
            extra = ", ".join(f"{k}={text(points[i][1].get(k))}" for k in differing)
            out[i] = (f"{method} [{extra}]" if extra else method, dataset)
    return out


def plan(config) -> tuple[RunConfig, list[Trial]]:
    """Parse, expand and validate ``config``; return it and every trial (no training).

    Raises:
        ConfigError: any config problem, including an unknown dataset, model or transform.
    """
    if not isinstance(config, RunConfig):
        config = load_config(config)
    task = get_task(config.task)
    points = expand(config)
    source = getattr(config, "source", None) or config.name
    if config.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                f"{config.device!r} requested but CUDA is not available (use auto or cpu)",
                key="device",
                source=source,
            )
    for point, _ in points:
        try:
            task.validate(point)
        except ConfigError as exc:
            raise ConfigError(exc.problem, key=exc.key, source=source) from None
    trials = []
    for pi, ((point, _), (method, dataset)) in enumerate(
        zip(points, _labels(task, points), strict=True)
    ):
        point_dict = to_dict(point)
        for ti, trial in enumerate(task.trials(point)):
            trials.append(
                Trial(
                    config_hash(point, trial),
                    (pi, ti),
                    config.task,
                    point_dict,
                    trial,
                    method,
                    dataset,
                )
            )
    keys = [t.key for t in trials]
    if len(set(keys)) != len(keys):
        raise ConfigError(
            "the sweep contains duplicate trials (the same point twice)", source=config.name
        )
    return config, trials


def execute_trial(payload: dict) -> dict:
    """Run one trial (in any process); returns ``{"metrics", "wall_s", "cpu_s", "device"}``
    (plus ``"extras"`` when the model reports some, see
    :func:`graphsmooth.bench.tasks.classification.with_extras`) or
    ``{"error": traceback}``. ``cpu_s`` is the process CPU time of the trial: with one thread
    per trial it approximates the wall time on an idle machine, also when the machine is
    shared."""
    import torch

    from graphsmooth.bench.tasks.classification import resolve_device

    tune_allocator()  # large per-epoch tensors reuse freed heap (see graphsmooth.bench.alloc)
    start, cpu_start = time.perf_counter(), time.process_time()
    det = torch.are_deterministic_algorithms_enabled()
    try:
        task = get_task(payload["task"])
        point = from_dict(task.Config, payload["config"])
        metrics = dict(task.run_trial(point, payload["trial"]))
        extras = metrics.pop("extras", None)  # what the model reports (see with_extras)
        device = str(resolve_device(point.device))
    except Exception:  # a failing trial must not stop the others
        return {"error": traceback.format_exc()}
    finally:
        torch.use_deterministic_algorithms(det)
    out = {
        "metrics": metrics,
        "wall_s": time.perf_counter() - start,
        "cpu_s": time.process_time() - cpu_start,
        "device": device,
    }
    if extras:
        out["extras"] = extras
    return out


def _append(path: Path, record: dict) -> None:
    needs_newline = path.is_file() and path.stat().st_size > 0
    if needs_newline:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            needs_newline = fh.read(1) != b"\n"
    with open(path, "a") as fh:
        fh.write(("\n" if needs_newline else "") + json.dumps(record, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def run(
    config,
    *,
    workers: int = 1,
    device: str | None = None,
    output: str | os.PathLike | None = None,
    max_trials: int | None = None,
    threads: int | None = 1,
    executor: Executor | None = None,
    verbose: bool = True,
    trials: int | None = None,
) -> RunResult:
    """Run (or resume) a benchmark config.

    Args:
        config: YAML path, mapping, or a parsed config (:func:`load_config`).
        workers (int): parallel trial processes; 1 runs in this process. (default: 1)
        device (str, optional): override the config's device (auto | cpu | cuda[:N]).
            (default: ``None``)
        output (str or Path, optional): override the output directory. (default: ``None``)
        max_trials (int, optional): run at most this many of the missing trials, then stop.
            (default: ``None``, all)
        threads (int, optional): torch intra-op threads per trial process; ``None`` keeps
            torch's default. Benchmark graphs are small, so one thread per trial and
            ``workers`` for parallelism is fastest (on a loaded 2-core machine, 2 threads made
            a 600-node GCN epoch 13x slower than 1). (default: 1)
        executor (Executor, optional): custom executor (e.g. a Ray one); overrides ``workers``.
            (default: ``None``)
        verbose (bool): tqdm progress bar with ETA. (default: ``True``)
        trials (int, optional): override the config's number of trials (seeds ``0..trials-1``),
            e.g. 10 of a paper's 100; rerun with the same value to resume. (default: ``None``)

    Returns:
        :class:`RunResult`; the output directory holds ``results.jsonl``, ``config.yaml``,
        ``table.md``, ``table.csv``, ``plot.png`` (and ``errors.jsonl`` after failures).
    """
    from tqdm.auto import tqdm

    overrides = {"device": device, "output": None if output is None else str(output)}
    if trials is not None:
        overrides["trials"] = trials
    if isinstance(config, RunConfig):
        if trials is not None and config.seeds is not None:
            raise ConfigError("give either 'seeds' or a trials override, not both", key="trials")
        for k, v in overrides.items():
            if v is not None:
                setattr(config, k, v)
        RunConfig.__post_init__(config)
    else:
        config = load_config(config, overrides=overrides)
    config, trials = plan(config)
    task = get_task(config.task)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
    (out / PLAN).write_text(json.dumps([t.key for t in trials]))
    results_path = out / RESULTS
    done = {record_key(r) for r in read_records(results_path)}
    pending = [t for t in trials if t.key not in done]
    skipped = len(trials) - len(pending)
    if max_trials is not None:
        pending = pending[: max(0, max_trials)]
    # shared per-point work (dataset loading, transform caching) once, before any training
    for pi in dict.fromkeys(t.order[0] for t in pending):
        point = next(t.point for t in pending if t.order[0] == pi)
        task.prepare(from_dict(task.Config, point))
    by_key = {t.key: t for t in pending}
    errors: list[dict] = []
    ran = 0
    bar = tqdm(
        total=len(trials), initial=skipped, unit="trial", desc=config.name, disable=not verbose
    )
    own_executor = executor is None
    executor = executor or make_executor(workers, threads)
    try:
        for payload, result in executor.map_unordered(
            execute_trial, [t.payload() for t in pending]
        ):
            trial = by_key[payload["key"]]
            if "error" in result:
                err = {
                    "key": trial.key,
                    "trial": trial.trial,
                    "method": trial.method,
                    "dataset": trial.dataset,
                    "error": result["error"],
                }
                _append(out / "errors.jsonl", err)
                errors.append(err)
            else:
                _append(
                    results_path,
                    {
                        "key": trial.key,
                        "order": list(trial.order),
                        "task": trial.task,
                        "method": trial.method,
                        "dataset": trial.dataset,
                        "trial": trial.trial,
                        "metrics": result["metrics"],
                        "report_metrics": list(task.metrics),
                        "wall_s": result["wall_s"],
                        "cpu_s": result["cpu_s"],
                        "device": result["device"],
                        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "config": trial.point,
                        **({"extras": result["extras"]} if "extras" in result else {}),
                    },
                )
                ran += 1
                primary = task.metrics[0]
                bar.set_postfix_str(
                    f"{trial.method} {trial.dataset} {primary}={result['metrics'].get(primary, float('nan')):.3f}"
                )
            bar.update(1)
    finally:
        bar.close()
        if own_executor:
            executor.close()
    table = write_report(out, list(task.metrics), title=config.name)
    return RunResult(out, len(trials), skipped, ran, errors, table)
