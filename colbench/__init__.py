"""colbench: the evaluation harness for ColBench, and a SWEET-RL trainer.

The public API, importable from `colbench` (each name is loaded on first use, so
`import colbench` stays cheap):

- running: `evaluate` (`colbench eval` as a call; works in notebooks too), `evaluate_async` (the
  coroutine) and `EvalConfig` (the runner's settings);
- reading runs: `read_run` and `read_runs` (flat DataFrames, one row per episode);
- tasks: `load_tasks`, `Task`, `TaskSet`;
- runs: `RunDir` (a run directory), `EpisodeRecord` (one typed episode), `read_record`;
- scoring: `open_scorer` and the `Scorer` protocol (score answers without dialogue);
- players: the `Agent` protocol, `AgentContext` and `register_agent` (agent adapters);
- `ColbenchError`: every error meant for the user, in one sentence.

Where each concept lives is listed in the README's "Layout" section.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from colbench.version import __version__

_EXPORTS = {
    "EvalConfig": "colbench.runner", "evaluate": "colbench.api", "evaluate_async": "colbench.api",
    "read_run": "colbench.api", "read_runs": "colbench.api",
    "load_tasks": "colbench.tasks", "Task": "colbench.tasks", "TaskSet": "colbench.tasks",
    "RunDir": "colbench.runs", "EpisodeRecord": "colbench.runs", "read_record": "colbench.runs",
    "open_scorer": "colbench.scoring", "Scorer": "colbench.scoring",
    "Agent": "colbench.agents", "AgentContext": "colbench.agents", "register_agent": "colbench.agents",
    "ColbenchError": "colbench.errors",
}

__all__ = ["__version__", "EvalConfig", "evaluate", "evaluate_async", "read_run", "read_runs", "load_tasks", "Task",
           "TaskSet", "RunDir", "EpisodeRecord", "read_record", "open_scorer", "Scorer", "Agent", "AgentContext",
           "register_agent", "ColbenchError"]

if TYPE_CHECKING:  # what type checkers and editors see
    from colbench.agents import Agent, AgentContext, register_agent
    from colbench.api import evaluate, evaluate_async, read_run, read_runs
    from colbench.errors import ColbenchError
    from colbench.runner import EvalConfig
    from colbench.runs import EpisodeRecord, RunDir, read_record
    from colbench.scoring import Scorer, open_scorer
    from colbench.tasks import Task, TaskSet, load_tasks


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'colbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
