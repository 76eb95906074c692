"""The run directory `colbench eval` writes: append-only, resumable.

- run.json: the full configuration (written once when the run starts);
- episodes.jsonl: one line per finished episode, appended with a single write and fsync,
  so a run killed at any moment loses no finished episode; a re-run episode (after an
  infrastructure error) appends a new line, and the last line for (task_id, sample) wins;
- summary.json: metrics, rewritten atomically at the end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from colbench.errors import ColbenchError
from colbench.jsonl import read_appended, write_json_atomic

RUN_FILE = "run.json"
EPISODES_FILE = "episodes.jsonl"
SUMMARY_FILE = "summary.json"


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def episodes_path(self) -> Path:
        return self.path / EPISODES_FILE

    def exists(self) -> bool:
        return (self.path / RUN_FILE).is_file()

    @classmethod
    def existing(cls, path: str | os.PathLike, label: str = "") -> "RunDir":
        """The run at `path`; one sentence when there is none (`label` names its role)."""
        run = cls(path)
        if not run.exists():
            raise ColbenchError(f"{label + ' ' if label else ''}{path} is not a run directory (no run.json)")
        return run

    def taskset(self) -> Any:
        """The tasks the run was made from (a TaskSet)."""
        from colbench.tasks import load_tasks

        config = self.read_config()
        return load_tasks(config["tasks_path"], config["split"])

    def read_config(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ColbenchError(f"{self.path / RUN_FILE} is missing or unreadable ({exc})") from exc

    def start(self, config: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path / RUN_FILE, config)
        self.episodes_path.touch()

    def load_episodes(self, repair: bool = False) -> list[dict[str, Any]]:
        """Every complete line of episodes.jsonl, in order.

        A line cut short by a kill mid-write is not a finished episode; with `repair` it is
        removed (the file is truncated after the last complete line) so appends stay clean.
        """
        return read_appended(self.episodes_path, repair=repair)

    def latest(self) -> dict[tuple[str, int], dict[str, Any]]:
        """The last record for each (task_id, sample)."""
        out: dict[tuple[str, int], dict[str, Any]] = {}
        for r in self.load_episodes():
            out[(str(r["task_id"]), int(r["sample"]))] = r
        return out

    def frame(self) -> pd.DataFrame:
        """The run as a DataFrame: one row per episode (its latest record)."""
        rows = list(self.latest().values())
        return pd.DataFrame(rows)


class EpisodeWriter:
    """Appends episode records: one write() of one line, then fsync, per record."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)
