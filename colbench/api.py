"""The Python API: `colbench eval` as a call, and runs as flat DataFrames.

- `evaluate(agent, split, ...)` runs an evaluation and returns its summary. It works where an
  event loop is already running (a Jupyter notebook) too: the evaluation then runs on its own
  loop in a worker thread while the call waits. `evaluate_async` is the coroutine, for code
  that awaits.
- `read_run(dir)` is one row per episode (its latest record) with flat columns; `read_runs`
  concatenates several. `export_parquet` writes read_run's frame (`colbench export --format
  parquet`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Iterable

from colbench.errors import ColbenchError
from colbench.protocol import DEFAULT_PROTOCOL

if TYPE_CHECKING:
    import pandas as pd

    from colbench.runner import EvalConfig, Progress

# evaluate()'s keywords that are no EvalConfig field; the fields it does not name are **settings.
_CALL_ONLY = ("resume", "baseline", "on_progress")

# read_run's columns, in order; usage columns (ROLE_KEY, e.g. agent_prompt_tokens) follow when a record has usage.
COLUMNS = ("run", "agent", "human", "split", "protocol", "task_id", "sample", "seed", "status", "error", "score",
           "success", "passed", "total", "answered", "turns", "agent_turns", "answer", "dialogue_s", "scoring_s")

_WHOLE = ("sample", "seed", "passed", "total", "turns", "agent_turns")
_WHOLE_USAGE = ("_calls", "_prompt_tokens", "_completion_tokens")


def evaluate(agent: str, split: str, *, human: str | None = None, tasks: str = "bundled", out: str | None = None,
             limit: int | None = None, task_ids: Iterable[str] | None = None, samples: int = 1, concurrency: int = 8,
             seed: int = 0, sandbox: str = "docker", protocol: str = DEFAULT_PROTOCOL, resume: bool = False,
             baseline: str | None = None, on_progress: Callable[[Progress], None] | None = None,
             **settings: Any) -> dict[str, Any]:
    """Runs (or, with `resume`, continues) an evaluation as `colbench eval` does, writes the run
    directory and its report.html, and returns the summary (summary.json, plus "run": the
    directory). Keywords mirror the command's flags; `**settings` takes the other EvalConfig
    fields (agent_temperature, timeout, agent_base_url, clip_model, ...). `human` defaults to
    the split's LLM human, `out` to runs/AGENT-SPLIT-TIME as for the command.

    Inside a running event loop (a notebook cell) the evaluation runs on its own loop in a
    worker thread and this call waits for it; `await evaluate_async(...)` instead to keep the
    loop free."""
    cfg = _config(agent, split, human=human, tasks=tasks, out=out, limit=limit, task_ids=task_ids, samples=samples,
                  concurrency=concurrency, seed=seed, sandbox=sandbox, protocol=protocol, settings=settings)

    def run() -> dict[str, Any]:
        return asyncio.run(_evaluate(cfg, resume=resume, baseline=baseline, on_progress=on_progress))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="colbench-evaluate") as pool:
        return pool.submit(run).result()


async def evaluate_async(agent: str, split: str, *, human: str | None = None, tasks: str = "bundled",
                         out: str | None = None, limit: int | None = None, task_ids: Iterable[str] | None = None,
                         samples: int = 1, concurrency: int = 8, seed: int = 0, sandbox: str = "docker",
                         protocol: str = DEFAULT_PROTOCOL, resume: bool = False, baseline: str | None = None,
                         on_progress: Callable[[Progress], None] | None = None, **settings: Any) -> dict[str, Any]:
    """`evaluate` as a coroutine, on the caller's event loop: `await colbench.evaluate_async(...)`."""
    cfg = _config(agent, split, human=human, tasks=tasks, out=out, limit=limit, task_ids=task_ids, samples=samples,
                  concurrency=concurrency, seed=seed, sandbox=sandbox, protocol=protocol, settings=settings)
    return await _evaluate(cfg, resume=resume, baseline=baseline, on_progress=on_progress)


async def _evaluate(cfg: EvalConfig, *, resume: bool, baseline: str | None,
                    on_progress: Callable[[Progress], None] | None) -> dict[str, Any]:
    from colbench.report import write_report
    from colbench.runner import evaluate as run_evaluation

    summary = await run_evaluation(cfg, resume=resume, on_progress=on_progress, baseline=baseline)
    await asyncio.to_thread(write_report, cfg.out)  # a run directory carries its report.html, as after the command
    return {**summary, "run": cfg.out}


def _config(agent: str, split: str, *, human: str | None, tasks: str, out: str | None, limit: int | None,
            task_ids: Iterable[str] | None, samples: int, concurrency: int, seed: int, sandbox: str, protocol: str,
            settings: dict[str, Any]) -> EvalConfig:
    """The EvalConfig of an evaluate() call; bad arguments are one sentence each."""
    from colbench.humans.registry import DEFAULT_HUMAN
    from colbench.runner import EvalConfig, default_run_dir

    fields = {f.name for f in dataclasses.fields(EvalConfig)}
    known = sorted((fields - {"agent", "split"}) | set(_CALL_ONLY))
    unknown = sorted(set(settings) - fields)
    if unknown:
        said = ", ".join(f"{name!r} (the closest is {_closest(name, known)!r})" for name in unknown)
        raise ColbenchError(f"colbench.evaluate got unknown setting{'s' if len(unknown) > 1 else ''} {said}")
    if split not in DEFAULT_HUMAN:
        raise ColbenchError(f"unknown split {split!r}; use {' or '.join(DEFAULT_HUMAN)}")
    if sandbox not in ("docker", "process"):
        raise ColbenchError(f"unknown sandbox {sandbox!r}; use docker or process")
    for name, value, least in (("limit", limit, 1), ("samples", samples, 1), ("concurrency", concurrency, 1),
                               ("seed", seed, None)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or (least is not None and value < least)):
            raise ColbenchError(f"{name} must be a whole number{'' if least is None else f' of at least {least}'}, "
                                f"not {value!r}")
    ids = None if task_ids is None else [task_ids] if isinstance(task_ids, str) else list(task_ids)
    return EvalConfig(agent=agent, split=split, human=human or DEFAULT_HUMAN[split], tasks=str(tasks),
                      out=str(out) if out is not None else default_run_dir(agent, split), limit=limit, task_ids=ids,
                      samples=samples, concurrency=concurrency, seed=seed, sandbox=sandbox, protocol=protocol,
                      **settings)


def _closest(name: str, names: list[str]) -> str:
    return (difflib.get_close_matches(name, names, n=1, cutoff=0.0) or names)[0]


def read_run(path: str | os.PathLike) -> pd.DataFrame:
    """The run at `path` as a DataFrame: one row per episode (the latest record of each task
    and sample), sorted by task id (natural order: 2 before 10) then sample, with the columns
    of COLUMNS and, when records carry usage, ROLE_KEY ones (agent_prompt_tokens, agent_cost,
    human_completion_tokens, ...). Texts are kept as written (lone surrogates included)."""
    from colbench.protocol import run_protocol
    from colbench.stats import natural_order  # the report's order, so its table and this frame agree
    from colbench.runs import RunDir, Usage, record_frame

    run = RunDir.existing(path)
    config = run.read_config()
    fixed = {"run": str(path), "agent": config.get("agent"), "human": config.get("human"),
             "split": config.get("split"), "protocol": run_protocol(config)}
    rows = []
    usage_keys: dict[str, set[str]] = {}  # role -> the usage keys its records have
    for record in sorted(run.latest().values(), key=lambda r: (natural_order(r.task_id), r.sample)):
        timings = record.timings or {}
        row = {**fixed, "task_id": record.task_id, "sample": record.sample, "seed": record.seed,
               "status": record.status, "error": record.error, "score": record.score, "success": record.success,
               "passed": record.passed, "total": record.total, "answered": record.answered,
               "turns": len(record.turns), "agent_turns": sum(t["role"] == "agent" for t in record.turns),
               "answer": record.answer, "dialogue_s": timings.get("dialogue_s"), "scoring_s": timings.get("scoring_s")}
        for role, usage in (record.usage or {}).items():
            usage_keys.setdefault(role, set()).update(usage)
            row.update({f"{role}_{key}": value for key, value in usage.items() if f"{role}_{key}" not in COLUMNS})
        rows.append(row)
    usage_columns = [f"{role}_{key}" for role in sorted(usage_keys, key=_rank(["agent", "human"]))
                     for key in sorted(usage_keys[role], key=_rank(list(Usage.__annotations__)))
                     if f"{role}_{key}" not in COLUMNS]
    frame = record_frame(rows).reindex(columns=[*COLUMNS, *usage_columns])
    # Whole numbers and flags stay so where some are missing (an error has no score): nullable dtypes.
    return frame.astype({c: "Int64" for c in frame.columns if c in _WHOLE or c.endswith(_WHOLE_USAGE)} |
                        {c: "boolean" for c in ("success", "answered")})


def _rank(order: list[str]) -> Callable[[str], tuple[int, str]]:
    """A sort key: the names of `order` in its order, then any others alphabetically."""
    return lambda name: (order.index(name) if name in order else len(order), name)


def read_runs(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """read_run of each run directory, concatenated in the order given (one index 0..n-1)."""
    import pandas as pd

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames = [read_run(p) for p in paths]
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(frames, ignore_index=True)


def export_parquet(run_dir: str | os.PathLike, out: str | os.PathLike) -> int:
    """Writes read_run's frame to the parquet file `out` (atomically); returns its rows. Parquet
    text must be valid Unicode: in the file, a lone surrogate a model wrote becomes U+FFFD."""
    from colbench.jsonl import check_writable, write_bytes_atomic
    from colbench.llm.base import valid_unicode

    check_writable(out, "export")
    frame = read_run(run_dir)
    clean = frame.copy()
    for column in clean.columns:
        if clean[column].dtype.kind not in "biufcmM":  # text, or mixed with None
            clean[column] = clean[column].map(lambda v: valid_unicode(v) if isinstance(v, str) else v)
    buffer = io.BytesIO()
    clean.to_parquet(buffer, index=False)
    write_bytes_atomic(out, buffer.getvalue())
    return len(frame)
