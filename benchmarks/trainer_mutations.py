"""Does the trainer's test suite notice a wrong algorithm? Applies each mutation below to a
copy of the repository, runs tests/train there, and reports whether the suite failed (it
must, for every mutation). Exit status 1 if any mutation survives.

    python benchmarks/trainer_mutations.py [--only NAME]

The unmutated copy runs first and must pass. Each mutation replaces one exact piece of code (it must occur exactly once, so a refactor
that moves the code makes this script say so instead of testing nothing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MUTATIONS = {
    "token sum instead of token mean (released score)": (
        "colbench/train/losses.py",
        "return beta * (sums - ref_sums).sum(dim=-1) / counts.sum(dim=-1).clamp(min=1)",
        "return beta * (sums - ref_sums).sum(dim=-1)"),
    "per-turn sum instead of mean (paper's score)": (
        "colbench/train/losses.py",
        "torch.where(present, sums / counts.clamp(min=1), torch.zeros_like(sums))",
        "torch.where(present, sums, torch.zeros_like(sums))"),
    "no frozen-reference subtraction in the critic loss": (
        "colbench/train/critic.py",
        "scores = trajectory_scores(sums, ref_sums.to(sums.device), counts, beta=beta, score=score)",
        "scores = trajectory_scores(sums, 0 * ref_sums.to(sums.device), counts, beta=beta, score=score)"),
    "the critic does not see the reference solution": (
        "colbench/train/critic.py",
        "CRITIC_PREFIX.format(reference=reference), problem",
        "CRITIC_PREFIX.format(reference=''), problem"),
    "agent token marks shifted by one": (
        "colbench/train/common.py",
        "return token_logps(logits, ids[:, 1:]), marks[:, 1:] * attn[:, 1:]",
        "return token_logps(logits, ids[:, 1:]), marks[:, :-1] * attn[:, 1:]"),
    "ranking without the reference term": (
        "colbench/train/sample.py",
        'scored.append((beta * (critic_logps[k] - c["ref_mean_logp"]), c["text"]))',
        'scored.append((beta * critic_logps[k], c["text"]))'),
    "ranking's sign flipped": (
        "colbench/train/sample.py",
        'scored.append((beta * (critic_logps[k] - c["ref_mean_logp"]), c["text"]))',
        'scored.append((beta * (c["ref_mean_logp"] - critic_logps[k]), c["text"]))'),
    "ranking reference given the reference solution": (
        "colbench/train/sample.py",
        'agent_messages(r["split"], r["problem_description"], r["context"],',
        'agent_messages(r["split"], r["reference"] + r["problem_description"], r["context"],'),
    "constant lr in the released recipe": (
        "colbench/train/common.py",
        "    if not released:\n        return get_scheduler(\"constant\", optim)",
        "    if True:\n        return get_scheduler(\"constant\", optim)"),
}


def copy_repo(dest: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def mutate(repo: Path, path: str, old: str, new: str) -> None:
    text = (repo / path).read_text()
    if text.count(old) != 1:
        raise SystemExit(f"{path}: the code to mutate occurs {text.count(old)} times, not once: {old!r}")
    (repo / path).write_text(text.replace(old, new))


def run_suite(repo: Path) -> tuple[int, str, float]:
    env = {**os.environ, "PYTHONPATH": str(repo)}  # the mutated copy, before the installed one
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "tests/train"],
                          cwd=repo, env=env, capture_output=True, text=True)
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    return proc.returncode, (failed[0] if failed else proc.stdout.strip().splitlines()[-1]), time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(MUTATIONS))
    args = parser.parse_args()
    # First the unmutated copy: it must pass, or a "caught" below would mean nothing.
    with tempfile.TemporaryDirectory(prefix="colbench-unmutated-") as tmp:
        copy_repo(Path(tmp))
        code, last, took = run_suite(Path(tmp))
    print(f"unmutated copy ({took:.0f} s): {last}", flush=True)
    if code != 0:
        print("the unmutated copy fails: fix that first")
        return 2
    survived = []
    for name, (path, old, new) in MUTATIONS.items():
        if args.only and name != args.only:
            continue
        with tempfile.TemporaryDirectory(prefix="colbench-mutant-") as tmp:
            repo = Path(tmp)
            copy_repo(repo)
            mutate(repo, path, old, new)
            code, first, took = run_suite(repo)
        caught = code != 0
        print(f"{'caught  ' if caught else 'SURVIVED'} {name} ({took:.0f} s): {first}", flush=True)
        if not caught:
            survived.append(name)
    print(f"{len(survived)} mutation(s) survived" if survived else "every mutation was caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
