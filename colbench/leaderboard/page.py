"""The board as a web page: `leaderboard/site/index.html`, rendered from the Jinja2 template
templates/site.html (self-contained: inline CSS and script, split tabs, sortable tables,
SVG charts). This module turns the tables into what the template shows (the cells' text,
the charts' geometry); the template holds all the markup.

Everything on the page that comes from a submission or reported.json is escaped: the
template environment autoescapes, and its finalize escapes each value as `html.escape` does
(`&quot;`, `&#x27;`, where markupsafe alone writes `&#34;`, `&#39;`), the escaping the
committed leaderboard/site/index.html was built with.
"""

from __future__ import annotations

import functools
import html
import math
from typing import Any

import pandas as pd

from colbench.leaderboard.board import (COLUMNS, DASH, REPORTED_LABEL, SPLIT_TITLES, SUBMISSIONS, USAGE_LABEL,
                                        USAGE_NOTE, Column, pct, pct_with_ci, ranks, run_size, usage_text)
from colbench.tasks import OFFICIAL_LIMITS

TEMPLATE = "site.html"
# The chart's geometry (pixels): agent labels, the 0-100% bar area, one row per entry, the tick labels on top.
LABEL_W, BAR_W, ROW_H, TOP = 250, 560, 26, 24


def _escape(value: Any) -> Any:
    """Each `{{ value }}`: None as nothing, anything else escaped as `html.escape` does."""
    from markupsafe import Markup

    if isinstance(value, Markup):  # markup the template made (a macro's output)
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


@functools.cache
def _template() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("colbench.leaderboard", "templates"), autoescape=True,
                      undefined=StrictUndefined, finalize=_escape, keep_trailing_newline=True)
    env.filters["px"] = lambda v: f"{v:.1f}"  # a chart coordinate
    env.globals.update(reported_label=REPORTED_LABEL, dash=DASH, submissions=SUBMISSIONS, usage_label=USAGE_LABEL,
                       usage_note=USAGE_NOTE)
    return env.get_template(TEMPLATE)


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _data_value(v: Any) -> str:
    """A number as a cell's data-value attribute (what the page sorts by); empty when missing."""
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(float(v))


def _chart(frame: pd.DataFrame, column: Column) -> dict[str, Any]:
    """Horizontal bars (percent) with 95% CI whiskers for one metric: the entries that have it."""
    rows = [r for _, r in frame.iterrows() if _data_value(r[column.key])]
    agents = [r["agent"] for r in rows]
    height = TOP + ROW_H * len(rows) + 8
    x = lambda v: LABEL_W + BAR_W * max(0.0, min(1.0, float(v)))  # noqa: E731
    bars = []
    for i, r in enumerate(rows):
        y = TOP + i * ROW_H
        reported = r["source"] == "reported"
        label = f"{r['agent']} (reported)" if reported else \
            r["agent"] + (f" / {r['human']}" if agents.count(r["agent"]) > 1 else "")
        whisker = None
        if _data_value(r[f"{column.key}_lo"]):
            whisker = {"lo": x(r[f"{column.key}_lo"]), "hi": x(r[f"{column.key}_hi"]), "mid": y + ROW_H / 2}
        end = r[f"{column.key}_hi"] if _data_value(r[f"{column.key}_hi"]) else r[column.key]  # right of the whisker
        bars.append({"y": y, "label": label, "short": label if len(label) <= 36 else label[:35] + "…",
                     "reported": reported, "width": x(r[column.key]) - LABEL_W, "text": pct_with_ci(r, column.key),
                     "whisker": whisker, "end": x(end), "pct": pct(r[column.key])})
    return {"label": column.label, "width": LABEL_W + BAR_W + 70, "height": height, "label_w": LABEL_W,
            "top": TOP, "row_h": ROW_H, "ticks": [(x(tick / 100), tick) for tick in (0, 25, 50, 75, 100)],
            "bars": bars}


def _table(split: str, frame: pd.DataFrame) -> dict[str, Any]:
    """The rows of one split's table, each cell's text and sort value."""
    cols = COLUMNS[split]
    rows = []
    for rank, (_, row) in zip(ranks(frame), frame.iterrows()):
        reported = row["source"] == "reported"
        metrics = []
        for c in cols:
            mean, lo = row[c.key], row[f"{c.key}_lo"]
            ci = (pct(lo), pct(row[f"{c.key}_hi"])) if _data_value(mean) and _data_value(lo) else None
            metrics.append({"sort": _data_value(mean), "pct": pct(mean), "ci": ci})
        rows.append({"rank": rank, "rank_sort": "" if rank == DASH else rank, "reported": reported,
                     "name": row["name"], "agent": row["agent"], "model": _text(row["model"]) or DASH,
                     "human": _text(row["human"]) or DASH, "metrics": metrics,
                     "size_sort": "" if reported else str(int(row["tasks"]) * int(row["samples"])),
                     "size": run_size(row), "harness": _text(row["harness"]) or DASH,
                     "usage": usage_text(row), "usage_sort": _data_value(row["tokens"])})
    return {"split": split, "columns": cols, "rows": rows}


def render_site(tables: dict[str, pd.DataFrame], reported: dict[str, Any], hashes: dict[str, str | None]) -> str:
    """A self-contained page: inline CSS and JS, split tabs, sortable tables, SVG charts."""
    panels = []
    for split, frame in tables.items():
        primary = next(c for c in COLUMNS[split] if c.primary)
        # Frontend: chart the win rate once there is a GPT-4o entry, else the similarity.
        chart_col = primary if frame[primary.key].notna().any() or split == "backend" else COLUMNS[split][1]
        panels.append({"split": split, "title": SPLIT_TITLES[split], "official_tasks": OFFICIAL_LIMITS[split],
                       "sha": hashes.get(split), "chart": _chart(frame, chart_col), "table": _table(split, frame)})
    return _template().render(panels=panels, source=reported.get("source"), note=reported.get("note", ""))
