"""Where colbench finds and keeps its files: one home for every location.

Each user-level location can be moved with an environment variable:

- data_dir (COLBENCH_DATA_DIR, default ~/.cache/colbench/data): local copies of the
  official ColBench files (`colbench tasks download`), read and verified at run time;
- cache_dir (COLBENCH_CACHE_DIR, default ~/.cache/colbench): the reference-output cache;
- assets_dir (COLBENCH_ASSETS_DIR, default <prefix>/share/colbench): Tailwind, served to pages.

Files shipped with colbench (bundled tasks, named model definitions, the sandbox image
recipe) are found by `bundled`: inside the installed wheel (colbench/_NAME), else in the
source checkout (NAME/ beside the package).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _env_dir(variable: str, default: Path) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else default


def cache_dir() -> Path:
    return _env_dir("COLBENCH_CACHE_DIR", Path.home() / ".cache" / "colbench")


def data_dir() -> Path:
    """Where local copies of the official ColBench files live."""
    return _env_dir("COLBENCH_DATA_DIR", Path.home() / ".cache" / "colbench" / "data")


def assets_dir() -> Path:
    return _env_dir("COLBENCH_ASSETS_DIR", Path(sys.prefix) / "share" / "colbench")


def bundled(name: str, marker: str | None = None) -> Path | None:
    """The shipped directory `name` (tasks, agents, sandboxes): the wheel's colbench/_NAME,
    else the checkout's NAME/; one that holds `marker` when given. None when neither exists."""
    for candidate in (PACKAGE_DIR / f"_{name}", PACKAGE_DIR.parent / name):
        if (candidate / marker).is_file() if marker else candidate.is_dir():
            return candidate
    return None
