"""Host memory and time for answers whose values sit just under or far over the size limits.

Each case runs in a fresh Python process (so peaks do not mix): it opens the sandbox,
resets the process's peak resident size (VmHWM), scores one answer with one test call
whose reference returns a small value, and reports how much the host's peak grew over its
resident size before scoring, the test's status and the seconds it took. The limits are
those of colbench/sandbox/guest.py (per value 3,000,000 JSON nodes and 32 MiB encoded;
per answer twice that over all its tests).

    .venv/bin/python benchmarks/value_limits.py [--sandbox docker|process] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CASES = [
    ("small value (baseline)", "def f():\n    return [1, 2, 3]\n"),
    ("10**6 ints", "def f():\n    return list(range(10**6))\n"),
    ("10**6 floats", "def f():\n    return [i / 7 for i in range(10**6)]\n"),
    ("5 MB string", "def f():\n    return 'x' * 5_000_000\n"),
    ("just under the node limit (2,999,990 ints)", "def f():\n    return list(range(2_999_990))\n"),
    ("just under the byte limit (32 MiB - 1 KiB string)", "def f():\n    return 'x' * (32 * 2**20 - 1024)\n"),
    ("far over: 5*10**7 ints", "def f():\n    return [0] * (5 * 10**7)\n"),
    ("far over: 300 MB string", "def f():\n    return 'x' * 300_000_000\n"),
]

CHILD = r"""
import asyncio, json, sys, time
sys.path.insert(0, "tests")
from colbench.sandbox import open_sandbox
from colbench.scoring.backend import BackendScorer
from colbench.scoring.refcache import ReferenceCache
from helpers import backend_task

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024

async def main(kind, answer):
    task = backend_task("def f():\n    return 0\n", ["f()"])
    async with open_sandbox(kind, 1) as box:
        scorer = BackendScorer(box, cache=ReferenceCache(None))
        await scorer.score(task, "def f():\n    return 1\n")  # warm: workers and reference
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = status("VmRSS:")
        t0 = time.perf_counter()
        result = await scorer.score(task, answer)
        seconds = time.perf_counter() - t0
        test = result.tests[0]
        print(json.dumps({"host_peak_growth_mib": round(status("VmHWM:") - before, 1),
                          "seconds": round(seconds, 2), "status": test.status, "error": test.error}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sandbox", default="docker", choices=["docker", "process"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for name, answer in CASES:
        proc = subprocess.run([sys.executable, "-c", CHILD, args.sandbox, answer], capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        row = {"case": name, **json.loads(proc.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(f"{name:52s} host peak +{row['host_peak_growth_mib']:7.1f} MiB  {row['seconds']:6.2f} s  "
              f"{row['status']}{': ' + row['error'] if row['error'] else ''}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"sandbox": args.sandbox, "cases": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
