"""The board: the leaderboard directory's inputs (checked submissions under submissions/,
the paper's numbers in reported.json), the ranked table per split built from them, and what
each cell of a table says (percentages, confidence intervals, ranks), which both the
README and the HTML page show."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from colbench.errors import ColbenchError
from colbench.jsonl import check_writable
from colbench.leaderboard.schema import is_number
from colbench.stats import win_rate
from colbench.tasks import SPLITS

log = logging.getLogger(__name__)

SUBMISSIONS = "submissions"
REPORTED_FILE = "reported.json"
WIN_RATE_BASELINE = ["gpt-4o", "openai:gpt-4o"]  # frontend win rates are against GPT-4o, as in the paper
REPORTED_LABEL = "reported, not reproduced here"
USAGE_LABEL = "Tokens, cost"  # the agent's, over the run (the submission's optional usage)
USAGE_NOTE = ("Tokens, cost: the agent model's prompt + completion tokens and cost over the whole run, when the run "
              "recorded them (cost in the currency of the model definition's pricing).")


def check_board_dir(root: Path) -> None:
    """The leaderboard directory (or the nearest folder above it that exists) is a folder."""
    if root.exists() and not root.is_dir():
        raise ColbenchError(f"the leaderboard directory {root} is a file; pass --dir a folder")
    check_writable(root / SUBMISSIONS / "x.json", "leaderboard")


@dataclass(frozen=True)
class Column:
    key: str  # DataFrame column holding the mean (fraction); KEY_lo / KEY_hi hold the CI
    label: str
    primary: bool = False


COLUMNS: dict[str, list[Column]] = {
    "backend": [Column("success", "Success rate (%)", primary=True), Column("score", "Tests passed (%)"),
                Column("best_of_k_success", "Best-of-k success = pass@k, k = samples (%)"),
                Column("best_of_k_score", "Best-of-k score (%)")],
    "frontend": [Column("win_rate", "Win rate vs GPT-4o (%)", primary=True), Column("score", "Cosine similarity x100"),
                 Column("best_of_k_score", "Best-of-k similarity x100")],
}
SPLIT_TITLES = {"backend": "Backend programming", "frontend": "Frontend design"}
REPORTED_FIELDS = {"backend": {"success": "backend_success_rate", "score": "backend_pass_rate"},
                   "frontend": {"win_rate": "frontend_win_rate", "score": "frontend_cosine"}}


def load_reported(root: Path) -> dict[str, Any]:
    """The paper's numbers (percent, null = not transcribed) from ROOT/reported.json."""
    path = root / REPORTED_FILE
    if not path.is_file():
        log.info("no %s: no reported rows", path)
        return {"rows": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ColbenchError(f"{path} is not valid JSON ({exc})") from None
    rows = doc.get("rows") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise ColbenchError(f"{path} needs a list of rows")
    fields = [f for split in REPORTED_FIELDS.values() for f in split.values()]
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("agent"), str):
            raise ColbenchError(f"{path}: row {i + 1} needs an agent name")
        for f in fields:
            v = row.get(f)
            if v is not None and not (is_number(v) and 0 <= v <= 100):
                raise ColbenchError(f"{path}: {row['agent']}'s {f} must be a percentage (0-100) or null")
    return doc


def _matches(sub: dict[str, Any], names: list[str]) -> bool:
    wanted = {n.lower() for n in names}
    return sub["agent"]["name"].lower() in wanted or sub["agent"]["spec"].lower() in wanted


def _per_task_frame(sub: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"task_id": t, "status": "ok", "score": e["score"]} for t, e in sub["per_task"].items()])


def leaderboard_tables(subs: list[dict[str, Any]], reported: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """One DataFrame per split: reproduced entries, then the reported rows no entry replaces."""
    tables: dict[str, pd.DataFrame] = {}
    for split in SPLITS:
        mine = [s for s in subs if s["split"] == split]
        baseline = None
        if split == "frontend":
            gpt = sorted((s for s in mine if _matches(s, WIN_RATE_BASELINE)), key=lambda s: s["name"])
            baseline = gpt[0] if gpt else None
        rows: list[dict[str, Any]] = []
        for s in mine:
            row: dict[str, Any] = {
                "name": s["name"], "agent": s["agent"]["name"], "model": s["agent"]["model"] or "",
                "human": s["human"]["name"], "source": "reproduced", "tasks": s["tasks"]["count"],
                "samples": s["run"]["samples"],
                "harness": s["harness"]["version"]
                + (f" (compat {s['harness']['compat']})" if s["harness"]["compat"] else ""),
                **agent_usage(s),
            }
            for metric, m in s["metrics"].items():
                row[metric], (row[f"{metric}_lo"], row[f"{metric}_hi"]) = m["mean"], m["ci95"]
            if split == "frontend":
                w: dict[str, Any] = (win_rate(_per_task_frame(s), _per_task_frame(baseline)) if baseline
                                     else {"mean": None})
                row["win_rate"] = w["mean"]
                row["win_rate_lo"], row["win_rate_hi"] = w.get("ci95", [None, None])
                row["win_rate_baseline"] = baseline["name"] if baseline else None
            rows.append(row)
        for rep in reported.get("rows", []):
            if any(_matches(s, rep.get("match") or [rep["agent"]]) for s in mine):
                continue  # a reproduced entry replaces the paper's row
            human = (reported.get("human") or {}).get(split) or ""
            row = {"name": "", "agent": rep["agent"], "model": rep.get("model") or "", "human": human,
                   "source": "reported", "tasks": None, "samples": None, "harness": "", "tokens": None, "cost": None}
            for key, field_name in REPORTED_FIELDS[split].items():
                v = rep.get(field_name)
                row[key] = None if v is None else v / 100.0
                row[f"{key}_lo"] = row[f"{key}_hi"] = None
            rows.append(row)
        keys = [c.key for c in COLUMNS[split]]
        frame = pd.DataFrame(rows, columns=["name", "agent", "model", "human", "source", "tasks", "samples", "harness",
                                            "tokens", "cost", *[f"{k}{x}" for k in keys for x in ("", "_lo", "_hi")]])
        if len(frame):
            frame = frame.sort_values(keys, ascending=False, na_position="last", kind="stable").reset_index(drop=True)
        tables[split] = frame
    return tables


# --- What the cells say (the README and the page alike) ---------------------------------

DASH = "–"


def pct(v: Any) -> str:
    """A fraction as a percentage with one decimal; DASH when missing."""
    return DASH if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def pct_with_ci(row: pd.Series, key: str) -> str:
    """`mean [lo, hi]` in percent, the mean alone without a CI, DASH without a mean."""
    mean, lo, hi = row[key], row[f"{key}_lo"], row[f"{key}_hi"]
    if pct(mean) == DASH:
        return DASH
    return pct(mean) if pct(lo) == DASH else f"{pct(mean)} [{pct(lo)}, {pct(hi)}]"


def run_size(row: pd.Series) -> str:
    """`tasks x samples`; DASH for a reported row."""
    if row["tasks"] is None or pd.isna(row["tasks"]):
        return DASH
    return f"{int(row['tasks'])} x {int(row['samples'])}"


def agent_usage(sub: dict[str, Any]) -> dict[str, Any]:
    """The agent's tokens (prompt + completion) and cost over the run, from the submission's
    optional usage; None where it does not say."""
    agent = (sub.get("usage") or {}).get("agent") or {}
    counts = [agent[k] for k in ("prompt_tokens", "completion_tokens") if k in agent]
    return {"tokens": sum(counts) if counts else None, "cost": agent.get("cost")}


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def tokens_text(v: Any) -> str:
    """A token count, short: 950, 12.3k, 4.56M; DASH when missing."""
    if _missing(v):
        return DASH
    n = float(v)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{int(n)}"


def usage_text(row: pd.Series) -> str:
    """`12.3k tokens, cost 0.42` for the agent's usage; DASH when the entry has none."""
    if _missing(row["tokens"]) and _missing(row["cost"]):
        return DASH
    parts = [] if _missing(row["tokens"]) else [f"{tokens_text(row['tokens'])} tokens"]
    if not _missing(row["cost"]):
        cost = float(row["cost"])
        parts.append(f"cost {cost:.2f}" if cost >= 1 else f"cost {cost:.3g}")
    return ", ".join(parts)


def ranks(frame: pd.DataFrame) -> list[str]:
    """The rank of each row: reproduced entries count 1, 2, ...; reported rows are unranked (DASH)."""
    out, n = [], 0
    for source in frame["source"]:
        n += source == "reproduced"
        out.append(str(n) if source == "reproduced" else DASH)
    return out
