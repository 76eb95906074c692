"""Leaderboard submissions (checked, reproducible) and the generated leaderboard.

`colbench submit RUN_DIR` turns a finished run on the full official test set into
`leaderboard/submissions/NAME.json`; `colbench leaderboard build` re-checks every submission
and writes `leaderboard/README.md` and the static page `leaderboard/site/index.html`.

Which module holds what:

    schema      the submission's JSON Schema, its validator, SubmissionError
    submission  the checks of a submission document: schema, consistency, metrics recomputed
                from the per-task scores, tasks against the official set; loading a file
    submit      from a run to a submission: the run's checks, the document, writing it
    board       the leaderboard directory's inputs (submissions/, reported.json), the ranked
                table per split, and what each cell says
    readme      the board as Markdown (leaderboard/README.md)
    page        the board as a web page (leaderboard/site/index.html) from the Jinja2
                template templates/site.html
    build       `colbench leaderboard build`: check every submission, write the board

The names below are re-exported so that `from colbench.leaderboard import ...` keeps working.
"""

from colbench.leaderboard.board import COLUMNS, leaderboard_tables, load_reported
from colbench.leaderboard.build import BuildResult, build_leaderboard
from colbench.leaderboard.page import render_site
from colbench.leaderboard.readme import render_markdown
from colbench.leaderboard.schema import SCHEMA_VERSION, SUBMISSION_SCHEMA, SubmissionError, validate_schema
from colbench.leaderboard.submission import check_official, load_submission, submission_metrics, validate_submission
from colbench.leaderboard.submit import make_submission, submit

__all__ = ["BuildResult", "COLUMNS", "SCHEMA_VERSION", "SUBMISSION_SCHEMA", "SubmissionError", "build_leaderboard",
           "check_official", "leaderboard_tables", "load_reported", "load_submission", "make_submission",
           "render_markdown", "render_site", "submission_metrics", "submit", "validate_schema",
           "validate_submission"]
