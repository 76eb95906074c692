"""`colbench leaderboard build`: re-check every submission (schema, metrics against per-task
scores, task set against the official one) and write `leaderboard/README.md`, the static
page `leaderboard/site/index.html` and the schema file `leaderboard/submission.schema.json`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from colbench.jsonl import write_json_atomic, write_text_atomic
from colbench.leaderboard.board import SUBMISSIONS, check_board_dir, leaderboard_tables, load_reported
from colbench.leaderboard.page import render_site
from colbench.leaderboard.readme import render_markdown
from colbench.leaderboard.schema import SUBMISSION_SCHEMA, SubmissionError
from colbench.leaderboard.submission import check_official, load_submission
from colbench.paths import data_dir
from colbench.tasks import OFFICIAL_CONTENT_SHA256, OFFICIAL_FILES, SPLITS, TaskSet, is_official, load_tasks

SCHEMA_FILE = "submission.schema.json"


@dataclass
class BuildResult:
    readme: Path
    site: Path
    schema: Path
    tables: dict[str, pd.DataFrame]


def build_leaderboard(root: str | Path = "leaderboard") -> BuildResult:
    """Validates every submission and writes README.md, site/index.html and the schema file."""
    root = Path(root)
    check_board_dir(root)
    subs: list[dict[str, Any]] = []
    sub_dir = root / SUBMISSIONS
    officials: dict[str, TaskSet | None] = {}
    for split in SPLITS:
        local = data_dir() / OFFICIAL_FILES[split]
        officials[split] = load_tasks("colbench", split) if is_official(local, split) else None
    for path in sorted(sub_dir.glob("*.json")) if sub_dir.is_dir() else []:
        sub = load_submission(path)
        where = f"submission {path}"
        if sub["name"] != path.stem:
            raise SubmissionError(f"{where} is named {sub['name']!r}; its file must be {sub['name']}.json")
        check_official(sub, officials[sub["split"]], where)
        subs.append(sub)
    reported = load_reported(root)
    tables = leaderboard_tables(subs, reported)
    hashes: dict[str, str | None] = dict(OFFICIAL_CONTENT_SHA256)
    readme = root / "README.md"
    write_text_atomic(readme, render_markdown(tables, reported, hashes))
    site = root / "site" / "index.html"
    write_text_atomic(site, render_site(tables, reported, hashes))
    schema = root / SCHEMA_FILE
    write_json_atomic(schema, SUBMISSION_SCHEMA)
    return BuildResult(readme=readme, site=site, schema=schema, tables=tables)
