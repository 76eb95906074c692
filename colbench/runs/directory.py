"""The run directory `colbench eval` writes: append-only, resumable.

- run.json: the full configuration (written once when the run starts);
- episodes.jsonl: one line per finished episode, appended with a single write and fsync,
  so a run killed at any moment loses no finished episode; a re-run episode (after an
  infrastructure error) appends a new line, and the last line for (task_id, sample) wins;
- summary.json: metrics, rewritten atomically at the end;
- eval.lock: held (flock) by the one `colbench eval` writing the directory, and its pid.

A damaged line of episodes.jsonl (hand edits, another tool, a disk error) is skipped with a
warning naming the file and line; every other line is read, and nothing is ever deleted
from the file except a torn final write.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from colbench.errors import ColbenchError
from colbench.jsonl import json_line, read_appended, write_json_atomic
from colbench.protocol import PROTOCOLS
from colbench.runs.record import EpisodeRecord, read_record

RUN_FILE = "run.json"
EPISODES_FILE = "episodes.jsonl"
SUMMARY_FILE = "summary.json"
LOCK_FILE = "eval.lock"

# Locks this process holds, by directory: nested holders (evaluate, then run_eval) share one.
_held: dict[Path, int] = {}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# run.json fields the readers rely on, and what each must be when present (null is absence).
_CONFIG_CHECKS: tuple[tuple[str, Any, str], ...] = (
    ("split", lambda v: v in ("backend", "frontend"), '"backend" or "frontend"'),
    ("samples", lambda v: _is_int(v) and v >= 1, "a whole number of at least 1"),
    ("limit", lambda v: _is_int(v) and v >= 1, "a whole number of at least 1 or null"),
    ("seed", _is_int, "a whole number"),
    ("tasks_path", lambda v: isinstance(v, str), "a path (a string)"),
    ("tasks_sha256", lambda v: isinstance(v, str), "a sha256 (a string)"),
    ("agent", lambda v: isinstance(v, str), "a string"),
    ("human", lambda v: isinstance(v, str), "a string"),
    ("compat", lambda v: isinstance(v, str), "a string or null"),
    ("protocol", lambda v: v in PROTOCOLS, '"sweet_rl" or "colbench"'),
    ("agent_model", lambda v: isinstance(v, dict), "an object or null"),
    ("human_model", lambda v: isinstance(v, dict), "an object or null"),
)


def _checked(obj: Any) -> dict[str, Any]:
    """A line as written, once it is known to be a record (RecordError otherwise)."""
    read_record(obj)
    return obj


class RunDir:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def episodes_path(self) -> Path:
        return self.path / EPISODES_FILE

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_FILE

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
        if not config.get("tasks_path"):
            raise ColbenchError(f"{self.path / RUN_FILE} does not say which task file the run used (tasks_path)")
        return load_tasks(config["tasks_path"], config.get("split"))

    def read_config(self) -> dict[str, Any]:
        """run.json as an object; one sentence when it is unreadable or not an object."""
        path = self.path / RUN_FILE
        try:
            config = json.loads(path.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise ColbenchError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ColbenchError(f"{path} is not UTF-8 text, so this is not a run directory colbench wrote") from None
        except ValueError as exc:
            raise ColbenchError(f"{path} is not valid JSON ({exc})") from None
        if not isinstance(config, dict):
            raise ColbenchError(f"{path} holds a JSON {type(config).__name__}, not the run's settings object")
        for key, ok, expected in _CONFIG_CHECKS:
            if config.get(key) is not None and not ok(config[key]):
                raise ColbenchError(f"{path}: {key} must be {expected}, not {json.dumps(config[key])[:60]}")
        return config

    def start(self, config: dict[str, Any]) -> None:
        if (self.path / RUN_FILE).exists():  # and is not a file (else exists() would hold)
            raise ColbenchError(f"{self.path / RUN_FILE} is not a file, so {self.path} cannot hold a run")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path / RUN_FILE, config)
            self.episodes_path.touch()
        except OSError as exc:
            where = exc.filename or self.path
            raise ColbenchError(f"cannot start a run in {self.path}: {where}: {exc.strerror or exc}") from None

    def unstart(self) -> bool:
        """Takes back what start() wrote, when no episode line was written since: a run that
        failed before its first episode finished (a missing CLIP model, a sandbox that would
        not start, an interrupt) must not block the identical command, which needs no --resume.
        A run holding any episode line is left as it is. Returns whether it was taken back."""
        try:
            if self.episodes_path.stat().st_size:
                return False
        except FileNotFoundError:
            pass
        # run.json first: a directory without it is no run, whatever else a kill leaves there.
        (self.path / RUN_FILE).unlink(missing_ok=True)
        self.episodes_path.unlink(missing_ok=True)
        return True

    def load_episodes(self, repair: bool = False) -> list[dict[str, Any]]:
        """Every good episode line of episodes.jsonl, in order, as written (`records` gives
        them typed, brought up to the current record version).

        A bad line is skipped and reported (a log warning naming the file and line); the
        lines after it are read. A final line cut short by a kill mid-write is not a
        finished episode; with `repair` that torn tail alone is removed so appends stay clean.
        """
        return self._read(_checked, repair)

    def records(self, repair: bool = False) -> list[EpisodeRecord]:
        """Every good episode of episodes.jsonl, in order, typed (see load_episodes)."""
        return self._read(read_record, repair)

    def _read(self, parse: Any, repair: bool) -> list[Any]:
        if self.episodes_path.is_dir():
            raise ColbenchError(f"{self.episodes_path} is a directory, not the run's episode file")
        try:
            return read_appended(self.episodes_path, repair=repair, parse=parse, what="episode")
        except OSError as exc:
            raise ColbenchError(f"cannot read {self.episodes_path}: {exc.strerror or exc}") from None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive use of the directory by this process, for one `colbench eval`, new or
        resumed: two at once would both run the missing episodes and append duplicates.

        An flock on eval.lock, which the kernel drops when the process ends however it ends,
        so a killed run leaves no stale lock. The file holds the holder's pid, for the message
        another eval gets."""
        import fcntl

        key = self.path.resolve()
        if key in _held:
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        if self.path.exists() and not self.path.is_dir():
            raise ColbenchError(f"{self.path} is a file, not a run directory; choose another --out")
        created = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides, as for any file
        except OSError as exc:
            raise ColbenchError(f"cannot use {self.path} as a run directory: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise ColbenchError(f"{self.path} is in use by another colbench eval{who}; wait for it to end "
                                    "or choose another --out") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            _held[key] = 1
            try:
                yield
            finally:
                del _held[key]
                if created and [p.name for p in self.path.iterdir()] == [LOCK_FILE]:
                    # An eval that ended before starting (a bad agent, an unreachable endpoint) leaves no
                    # directory behind.
                    self.lock_path.unlink()
                    self.path.rmdir()
        finally:
            os.close(fd)

    def latest(self) -> dict[tuple[str, int], EpisodeRecord]:
        """The last record for each (task_id, sample)."""
        return {r.key: r for r in self.records()}

    def frame(self) -> pd.DataFrame:
        """The run as a DataFrame: one row per episode (its latest record)."""
        return record_frame([r.to_json() for r in self.latest().values()])


def record_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame of records whose texts hold whatever a model wrote, lone surrogates
    included: strings are kept in Python storage (the pyarrow storage pandas picks when
    pyarrow is installed refuses them)."""
    with pd.option_context("mode.string_storage", "python"):
        return pd.DataFrame(rows)


class EpisodeWriter:
    """Appends episode records: one write() of one line, then fsync, per record."""

    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # the umask decides

    def append(self, record: EpisodeRecord | dict[str, Any]) -> None:
        data = json_line(record.to_json() if isinstance(record, EpisodeRecord) else record)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)
