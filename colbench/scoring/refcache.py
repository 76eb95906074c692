"""On-disk cache of reference outputs, keyed by everything that determines them.

Reference functions are trusted task data and deterministic (every runner hashes with
the same seed), so each (runner version, hash seed, exec mode, reference source, call) is
computed once, ever: scoring many answers for a
task, or re-scoring a run, never re-runs its reference. Only completed results (a value
or an exception) are stored; timeouts and crashes are retried next time.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from colbench.paths import cache_dir
from colbench.sandbox.image import guest_path
from colbench.sandbox.guest import HASH_SEED

_runner_digest: str | None = None


def reference_key(mode: str, code: str, call: str) -> str:
    global _runner_digest
    if _runner_digest is None:
        _runner_digest = hashlib.sha256(guest_path().read_bytes()).hexdigest()
    blob = json.dumps([_runner_digest, HASH_SEED, mode, code, call])
    return hashlib.sha256(blob.encode()).hexdigest()


class ReferenceCache:
    """A key -> raw runner result store; `path=None` keeps it in memory only."""

    def __init__(self, path: Path | None = None):
        self._mem: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS ref (key TEXT PRIMARY KEY, result TEXT NOT NULL)")
                self._db.commit()
            except sqlite3.Error:
                self._db = None  # an unwritable cache only costs time

    @classmethod
    def default(cls) -> "ReferenceCache":
        return cls(cache_dir() / "references.sqlite")

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        found = {k: self._mem[k] for k in keys if k in self._mem}
        missing = [k for k in keys if k not in found]
        if missing and self._db is not None:
            with self._lock:
                marks = ",".join("?" * len(missing))
                rows = self._db.execute(f"SELECT key, result FROM ref WHERE key IN ({marks})", missing).fetchall()
            for key, result in rows:
                found[key] = self._mem[key] = json.loads(result)
        return found

    def put_many(self, items: dict[str, dict]) -> None:
        keep = {k: v for k, v in items.items() if v.get("s") in ("ok", "error")}
        self._mem.update(keep)
        if keep and self._db is not None:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO ref VALUES (?, ?)",
                                     [(k, json.dumps(v)) for k, v in keep.items()])
                self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
