"""Does the critic's credit need the reference solution, on every seed?

Runs the synthetic credit test of tests/train/test_credit.py (a tiny critic trained on
trajectory pairs whose deciding turn can only be recognised by comparing it with the
reference solution) for ten seeds, once as the trainer runs and once with the reference
solution withheld from the critic. The test's bar: the deciding turn earns more advantage
when it names the reference's kind than when it names the other, on at least 80% of 60
held-out tasks (chance: 50%). It must pass on every seed with the reference and fail
without it.

    .venv/bin/python benchmarks/credit_seeds.py [--seeds 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "train")]

BAR = 0.8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from test_credit import credit

    rows = []
    for seed in range(args.seeds):
        row = {"seed": seed}
        for label, shown in (("with_reference", True), ("without_reference", False)):
            start = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="colbench-credit-") as tmp:
                row[label] = credit(Path(tmp), seed, with_reference=shown)["matched_above_other"]
            row[f"{label}_s"] = round(time.monotonic() - start, 1)
        rows.append(row)
        print(f"seed {seed}: with the reference {row['with_reference']:.2f}, without {row['without_reference']:.2f}",
              flush=True)
    passed = sum(r["with_reference"] >= BAR for r in rows)
    blind = sum(r["without_reference"] >= BAR for r in rows)
    print(f"passes with the reference on {passed} of {len(rows)} seeds; without it on {blind} of {len(rows)}")
    if args.json:
        args.json.write_text(json.dumps({"bar": BAR, "rows": rows}, indent=1) + "\n")
    return 0 if passed == len(rows) and blind == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
