"""Peak host memory of the trainers' token log-probabilities, forward and backward.

Each case runs in a fresh process: bf16 logits of B sequences x T positions x V vocabulary
(as a model gives them under bf16 autocast, requiring grad), then log p of one label per
position and the backward pass of a weighted sum, either with the plain formula
(log_softmax of an fp32 copy, then gather) or with colbench.train.losses.token_logps (fp32
a piece at a time). Reports the growth of the peak resident size over the logits alone.

    .venv/bin/python benchmarks/logp_memory.py [--b 2] [--t 4096] [--v 32000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = """
import resource, sys, time
import torch
sys.path.insert(0, {root!r})
from colbench.train.losses import token_logps
torch.manual_seed(0)
b, t, v = {b}, {t}, {v}
logits = torch.randn(b, t, v, dtype=torch.bfloat16).requires_grad_()
labels = torch.randint(0, v, (b, t))
weights = torch.randn(b, t)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
if {plain}:
    out = torch.gather(torch.log_softmax(logits.float(), dim=-1), 2, labels.unsqueeze(-1)).squeeze(-1)
else:
    out = token_logps(logits, labels)
(out * weights).sum().backward()
seconds = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) / 2**20, seconds)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--b", type=int, default=2)
    parser.add_argument("--t", type=int, default=4096)
    parser.add_argument("--v", type=int, default=32000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logits_gib = args.b * args.t * args.v * 2 / 2**30
    rows = []
    for name, plain in (("plain: log_softmax of an fp32 copy", True), ("token_logps: fp32 in pieces", False)):
        code = CASE.format(root=str(ROOT), b=args.b, t=args.t, v=args.v, plain=plain)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        rows.append({"method": name, "peak_growth_gib": round(float(out[0]), 2), "seconds": round(float(out[1]), 2)})
        print(f"{name:40s} peak +{rows[-1]['peak_growth_gib']:.2f} GiB over the logits ({logits_gib:.2f} GiB), "
              f"{rows[-1]['seconds']:.2f} s")
    print(f"token_logps / plain: {rows[1]['peak_growth_gib'] / rows[0]['peak_growth_gib']:.2f}x peak memory, "
          f"{rows[1]['seconds'] / rows[0]['seconds']:.2f}x time")
    if args.json:
        args.json.write_text(json.dumps({"b": args.b, "t": args.t, "v": args.v, "logits_gib": logits_gib,
                                         "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
