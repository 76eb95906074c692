"""JSON and JSONL files: reading inputs with errors that name the file and line, and
writing outputs atomically (a temporary file renamed into place, so a reader or a crash
never sees half a file).

Every file colbench writes turns text into bytes through `encode_text`: model replies and
answers files can hold lone surrogates (a JSON escape such as "\\udcff" decodes to one),
which strict UTF-8 cannot encode. They are written as the escape itself, so JSON files
read back the exact string and ordinary non-ASCII text stays readable UTF-8.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any, Callable

from colbench.errors import ColbenchError, TaskFormatError

log = logging.getLogger(__name__)


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


def encode_text(text: str) -> bytes:
    """UTF-8 bytes of `text` for a file; the one place colbench's writers encode.

    A lone surrogate cannot be UTF-8, and raising would lose the work done so far: it is
    written as its escape (\\udcff). Inside JSON text that is exactly the JSON escape of the
    same code point: a surrogate only ever appears inside a string, and json.dumps writes a
    literal backslash as two, so the escape can never join a preceding backslash. (A high
    surrogate directly followed by a low one reads back as the one character they pair to:
    JSON has no other spelling for them.)"""
    return text.encode("utf-8", "backslashreplace")


def dumps_json(obj: Any, *, indent: int | None = None) -> str:
    """JSON text with non-ASCII characters kept as themselves; write it with `encode_text`."""
    return json.dumps(obj, ensure_ascii=False, indent=indent)


def json_line(obj: Any) -> bytes:
    """One JSONL record: the object's JSON, a newline, encoded for the file."""
    return encode_text(dumps_json(obj) + "\n")


def _new_temp_file(p: Path) -> tuple[int, Path]:
    """A new file beside `p`, open for writing, created as any file is (mode 0666 less the
    umask: tempfile.mkstemp's 0600 would make every output private to its writer)."""
    for _ in range(100):
        tmp = p.parent / f".{p.name}.{secrets.token_hex(4)}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(p.parent))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temp_file(p)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, encode_text(text))


def write_jsonl_atomic(path: str | os.PathLike, records: list[Any]) -> None:
    write_bytes_atomic(path, b"".join(json_line(r) for r in records))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, dumps_json(obj, indent=2) + "\n")


def check_writable(path: str | os.PathLike, what: str = "output") -> Path:
    """Raises one sentence if a file cannot be written at `path` (a directory there, a parent
    that is a file, a folder without write permission), before the work that produces it."""
    p = Path(path)
    if p.is_dir():
        raise ColbenchError(f"the {what} path {p} is a directory; give a file name")
    existing = next((a for a in p.parents if a.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ColbenchError(f"cannot write the {what} {p}: {existing} is not a directory")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ColbenchError(f"cannot write the {what} {p}: {existing} is not writable")
    return p


# A record glued after a torn one (a kill mid-write, then an append that did not repair) is
# found by trying the line's later objects; at most this many, so a long bad line stays cheap.
_MAX_RESTARTS = 16
_reported: set[tuple[str, tuple[int, ...]]] = set()
_NOTHING = object()


def read_appended(path: Path, *, repair: bool = False, parse: Callable[[Any], Any] | None = None,
                  what: str = "record") -> list[Any]:
    """Every good record of an append-only JSONL file, in order: each line's JSON value, or
    what `parse` makes of it (`parse` raises ValueError, saying why, for a value that is not
    a record).

    A bad line (not JSON, or a value `parse` refuses) is skipped and reported in
    one log warning naming the file and its line numbers; the lines after it are read as
    usual, and nothing is ever removed from the file for it. A final line without its newline
    was cut short by a kill mid-write: it is not a record (unless it is a whole one), and with
    `repair` that tail alone is cut off, or its newline added, so later appends start clean."""
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[Any] = []
    problems: list[tuple[int, str]] = []
    pos, lineno = 0, 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        torn = nl < 0
        end = len(data) if torn else nl
        line, line_start = data[pos:end], pos
        pos, lineno = end + 1, lineno + 1
        if not line.strip():
            continue
        value, why = _parse(line, parse)
        if why is None:
            records.append(value)
        else:
            recovered = _recover(line, parse)
            if torn and recovered is _NOTHING:
                log.info("%s: line %d was cut short by an interrupted write; not a finished %s", path, lineno, what)
                if repair:
                    with open(path, "r+b") as f:
                        f.truncate(line_start)
                break
            if recovered is not _NOTHING:
                records.append(recovered)
                why += f"; the {what} written after the damage is kept"
            problems.append((lineno, why))
        if torn:  # a whole record that only lacks its newline: kept, and the newline added
            if repair:
                with open(path, "ab") as f:
                    f.write(b"\n")
            break
    if problems:
        key = (str(path.resolve()), tuple(n for n, _ in problems))
        if key not in _reported:  # once per process: every reader of the file would repeat it
            _reported.add(key)
            listed = ", ".join(f"line {n} ({why})" for n, why in problems[:10])
            more = f" and {len(problems) - 10} more" if len(problems) > 10 else ""
            log.warning("%s: skipped %d bad line(s), every other line is read: %s%s", path, len(problems),
                        listed, more)
    return records


def _parse(line: bytes, parse: Callable[[Any], Any] | None) -> tuple[Any, str | None]:
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except ValueError:
        return None, "not valid JSON"
    if parse is not None:
        try:
            value = parse(value)
        except ValueError as exc:
            return None, str(exc)
    return value, None


def _recover(line: bytes, parse: Callable[[Any], Any] | None) -> Any:
    """A whole record that ends a damaged line (written after a torn one), or _NOTHING."""
    start = 0
    for _ in range(_MAX_RESTARTS):
        start = line.find(b'{"', start + 1)
        if start < 0:
            break
        value, why = _parse(line[start:], parse)
        if why is None and (parse is not None or isinstance(value, dict)):
            return value
    return _NOTHING
