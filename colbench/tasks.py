"""Task records and loaders: bundled sets, local copies of the official files, any JSONL path.

The format (tasks/README.md) is a superset of the official ColBench files:
- backend: problem_description, ground_truth (reference function source), test_cases
  (test name -> call expression), optional hidden_information (defaults to ground_truth);
- frontend: problem_description, ground_truth (HTML);
- optional task_id; a line without one gets its 0-based line number as a string.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from colbench.errors import ColbenchError, TaskFormatError
from colbench.jsonl import parse_object, read_lines
from colbench.paths import bundled, data_dir

SPLITS = ("backend", "frontend")
# Official test sets: the first N lines of the published files (as in the paper).
OFFICIAL_LIMITS = {"backend": 1000, "frontend": 500}
OFFICIAL_FILES = {"backend": "backend_test.jsonl", "frontend": "frontend_test.jsonl"}
# Official test sets are identified by content (content_sha256 over their first
# OFFICIAL_LIMITS tasks): a copy under another name, with other formatting or with more lines
# after them, is still the official set.
OFFICIAL_CONTENT_SHA256 = {
    "backend": "9287c46c78ab02ddf2640e001d283de76a0c8c9aa2d2622bb1623ca19b48286d",
    "frontend": "2ccc54069022a37aeae125b818d4d24eebc20f365c00c14a50e5be634f739f24",
}


@dataclass(frozen=True)
class Task:
    task_id: str
    split: str
    problem_description: str
    ground_truth: str
    hidden_information: str
    test_cases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSet:
    tasks: list[Task]
    source: str  # what the user named: "bundled", "colbench" or a path
    path: Path
    sha256: str

    def by_id(self) -> dict[str, Task]:
        return {t.task_id: t for t in self.tasks}


def repo_tasks_dir() -> Path:
    found = bundled("tasks")
    if found is None:
        raise TaskFormatError("the bundled task sets are missing from this installation")
    return found


def resolve_source(source: str, split: str | None) -> tuple[Path, int | None]:
    """Maps bundled | colbench | PATH to a file and a line limit."""
    if source == "bundled":
        if split is None:
            raise TaskFormatError("--tasks bundled needs --split backend or --split frontend")
        return repo_tasks_dir() / split / "dev.jsonl", None
    if source == "colbench":
        if split is None:
            raise TaskFormatError("--tasks colbench needs --split backend or --split frontend")
        path = data_dir() / OFFICIAL_FILES[split]
        if not path.is_file():
            raise TaskFormatError(
                f"no local copy of the official ColBench {split} test file at {path}; run `colbench tasks "
                f"download` (online), put the published file there, or set COLBENCH_DATA_DIR"
            )
        return path, OFFICIAL_LIMITS[split]
    return Path(source).expanduser(), None


def load_tasks(source: str | os.PathLike, split: str | None = None) -> TaskSet:
    """Loads and validates a task set; every problem is reported with its line number."""
    if split is not None and split not in SPLITS:
        raise TaskFormatError(f"unknown split {split!r}; use backend or frontend")
    path, limit = resolve_source(str(source), split)
    raw, lines = read_lines(path, "task file")
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    used = 0
    for lineno, line in enumerate(lines, start=1):
        if limit is not None and used >= limit:
            break
        if not line.strip():
            continue
        used += 1
        task = parse_task_line(line, index=lineno - 1, where=f"{path} line {lineno}", split=split)
        if task.task_id in seen:
            raise TaskFormatError(
                f"{path} line {lineno}: task_id {task.task_id!r} already used on line {seen[task.task_id]}")
        seen[task.task_id] = lineno
        tasks.append(task)
    if not tasks:
        raise TaskFormatError(f"task file {path} has no tasks")
    digest = hashlib.sha256(raw).hexdigest()
    return TaskSet(tasks=tasks, source=str(source), path=path, sha256=digest)


CONTENT_FIELDS = ("problem_description", "ground_truth", "hidden_information", "test_cases")


def content_sha256(path: str | os.PathLike, limit: int) -> str:
    """The sha256 that identifies a task set by its content: over the first `limit` tasks,
    each the compact sorted-key JSON of its task fields (those of CONTENT_FIELDS it has)
    followed by a newline. Other formatting, other fields (task_id) or more lines after
    them give the same hash."""
    _, lines = read_lines(Path(path), "task file")
    return lines_content_sha256(lines, limit, str(path))


def lines_content_sha256(lines: list[str], limit: int, where: str) -> str:
    """content_sha256 of task lines already read (`where` names them in errors)."""
    digest = hashlib.sha256()
    used = 0
    for lineno, line in enumerate(lines, start=1):
        if used >= limit:
            break
        if not line.strip():
            continue
        obj = parse_object(line, f"{where} line {lineno}")
        fields = {k: obj[k] for k in CONTENT_FIELDS if k in obj}
        digest.update((json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8"))
        used += 1
    return digest.hexdigest()


def parse_task_line(line: str, index: int, where: str, split: str | None = None) -> Task:
    obj = parse_object(line, where)
    line_split = "backend" if "test_cases" in obj else "frontend"
    if split is not None and split != line_split:
        need = "has no test_cases" if split == "backend" else "has test_cases"
        raise TaskFormatError(f"{where}: this is not a {split} task (it {need})")
    for key in ("problem_description", "ground_truth"):
        if key not in obj:
            raise TaskFormatError(f"{where}: missing field {key!r}")
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise TaskFormatError(f"{where}: field {key!r} must be a non-empty string")
    task_id = obj.get("task_id", str(index))
    if isinstance(task_id, bool) or not isinstance(task_id, (str, int)) or str(task_id) == "":
        raise TaskFormatError(f"{where}: task_id must be a non-empty string or an integer")
    hidden = obj.get("hidden_information", obj["ground_truth"])
    if not isinstance(hidden, str):
        raise TaskFormatError(f"{where}: field 'hidden_information' must be a string")
    tests: dict[str, str] = {}
    if line_split == "backend":
        tc = obj["test_cases"]
        if not isinstance(tc, dict) or not tc:
            raise TaskFormatError(f"{where}: test_cases must be a non-empty object of test name -> call")
        for name, call in tc.items():
            if not isinstance(call, str) or not call.strip():
                raise TaskFormatError(f"{where}: test case {name!r} must be a non-empty call expression")
            try:
                compile(call, f"<{name}>", "eval")
            except SyntaxError as exc:
                raise TaskFormatError(f"{where}: test case {name!r} is not a valid Python expression ({exc.msg})") from exc
            tests[name] = call
    return Task(task_id=str(task_id), split=line_split, problem_description=obj["problem_description"],
                ground_truth=obj["ground_truth"], hidden_information=hidden, test_cases=tests)


def is_official(path: str | os.PathLike, split: str) -> bool:
    """Whether the task file's first tasks are the official ColBench test set of `split`."""
    try:
        return content_sha256(path, OFFICIAL_LIMITS[split]) == OFFICIAL_CONTENT_SHA256[split]
    except (ColbenchError, OSError):
        return False
