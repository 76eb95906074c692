#!/usr/bin/env bash
# `make demo`: offline evaluation on the bundled backend tasks. Agents: the built-in
# `reference` (upper bound), `naive` (lower bound) and the example third-party adapter;
# the human: the offline deterministic one. Answers are scored in the Docker sandbox.
# Re-running continues the same run directories (--resume), so it is instant when done.
# --protocol colbench: our own wording, which needs none of the official files (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${COLBENCH_DEMO_DIR:-runs/demo}
agents=(reference naive ask-once-example)
for agent in "${agents[@]}"; do
  dir="$out/$agent"
  resume=()
  [ -f "$dir/run.json" ] && resume=(--resume)
  .venv/bin/colbench eval --agent "$agent" --human offline --split backend --tasks bundled --protocol colbench \
    --out "$dir" "${resume[@]}" > /dev/null
done
.venv/bin/python - "$out" "${agents[@]}" <<'PY'
import json, sys
from rich.console import Console
from rich.table import Table

out, agents = sys.argv[1], sys.argv[2:]
table = Table(title="colbench demo: bundled backend tasks, offline human, Docker sandbox")
for col in ("agent", "episodes", "errors", "mean score [95% CI]", "success rate [95% CI]", "agent turns"):
    table.add_column(col)
fmt = lambda m: f"{m['mean']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]"
for agent in agents:
    s = json.load(open(f"{out}/{agent}/summary.json"))
    table.add_row(agent, str(s["episodes"]), str(s["errors"]), fmt(s["score"]), fmt(s["success"]),
                  f"{s.get('mean_agent_turns', 0):.1f}")
Console(width=120).print(table)
print(f"run directories: {out}/<agent> (episodes.jsonl, summary.json, report.html)")
PY
