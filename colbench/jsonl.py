"""JSON and JSONL files: reading inputs with errors that name the file and line, and
writing outputs atomically (a temporary file renamed into place, so a reader or a crash
never sees half a file)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from colbench.errors import TaskFormatError


def read_lines(path: Path, what: str) -> tuple[bytes, list[str]]:
    """The file's raw bytes and its lines; `what` names it in errors ("task file")."""
    if not path.exists():
        raise TaskFormatError(f"{what} {path} does not exist")
    if not path.is_file():
        raise TaskFormatError(f"{what} {path} is not a file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaskFormatError(f"cannot read {what} {path}: {exc.strerror}") from exc
    try:
        return raw, raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TaskFormatError(f"{what} {path} is not UTF-8 text (byte {exc.start})") from exc


def parse_object(line: str, where: str) -> dict[str, Any]:
    """One line as a JSON object; `where` is "FILE line N"."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TaskFormatError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(obj, dict):
        raise TaskFormatError(f"{where}: expected a JSON object, found {type(obj).__name__}")
    return obj


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_jsonl_atomic(path: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_appended(path: Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """Every complete line of an append-only JSONL file, in order. A line cut short by a kill
    mid-write is not a finished record; with `repair` it is removed (the file is truncated
    after the last complete line) so later appends stay clean."""
    if not path.exists():
        return []
    data = path.read_bytes()
    records, good_end, pos = [], 0, 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            break  # no newline: a torn final write
        line = data[pos:nl]
        pos = nl + 1
        if not line.strip():
            good_end = pos
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            break
        good_end = pos
    if repair and good_end < len(data):
        with open(path, "r+b") as f:
            f.truncate(good_end)
    return records
