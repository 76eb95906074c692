"""Frontend scoring memory: peak host memory (RSS) for scoring N answers.

It scores the same answers two ways, each in a fresh child process, and reports the
child's peak resident memory (ru_maxrss of the Python process, which is where screenshots
are held; Chromium's own processes are not counted, and the same for both ways):

  (a)  all at once, the former `FrontendScorer.score_many`: every answer and every reference
       page rendered first and held as a screenshot, then all of them compared with CLIP;
  (b)  ours, streamed: colbench's `FrontendScorer.score_many`, which renders answers at most
       a window ahead of CLIP, drops each screenshot once embedded, and keeps only the
       references' embeddings.

Answers, for each N in --answers (default 50 and 200), of two kinds (--pages):
  sample: the 30 real WebSight sample pages, answer i being page (i mod 30)'s ground truth
          for task (i mod 30), so every score is 1.0 (small screenshots: about 50 KB);
  text:   answer i a page of 12,000 pseudo-random words (seeded by i) for task (i mod 30),
          whose full-page screenshot is about 2.2 MB, as large as the ones the issue measured.
CLIP: a model with openai/clip-vit-base-patch32's configuration and random weights (the
real one cannot be downloaded here), on the CPU, built once into a temporary folder and not
timed. It prints a table (method, answers, peak RSS, seconds), how much each way grows per
extra answer, and exits non-zero if the two ways disagree on a score (by more than 1e-6) or
a page failed to render.

Pages come from $COLBENCH_SAMPLE_DIR/frontend_test_sample.jsonl (default:
../shared/colbench-sample next to the repository root). Needs Chromium and the local
Tailwind stylesheet (`make setup`); no network, no GPU. About 9 minutes on 2 cores.

Run from the repository root:

    .venv/bin/python benchmarks/frontend_memory.py
    .venv/bin/python benchmarks/frontend_memory.py --answers 50 200 400 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from common import sample_file  # noqa: E402

SAMPLE_FILE = "frontend_test_sample.jsonl"
SCREENSHOT_BYTES: list[int] = []  # sizes of the answers' screenshots, as (a) saw them
METHODS = {"all_at_once": "(a) all at once (former)", "streamed": "(b) ours, streamed"}


async def all_at_once(renderer, clip, items) -> list[float]:
    """(a): the former algorithm, kept here as the baseline."""
    refs = {}
    for task, _ in items:
        if task.task_id not in refs:
            refs[task.task_id] = asyncio.ensure_future(renderer.render(task.ground_truth))
    snaps = await asyncio.gather(*(renderer.render(answer, elements=False) for _, answer in items))
    ref_snaps = {k: await v for k, v in refs.items()}
    bad = [s.error for s in [*snaps, *ref_snaps.values()] if s.error]
    if bad:
        raise SystemExit(f"a page failed to render: {bad[0]}")
    pairs = [(s.png, ref_snaps[t.task_id].png) for s, (t, _) in zip(snaps, items)]
    SCREENSHOT_BYTES.extend(len(s.png) for s in snaps)
    return await asyncio.to_thread(clip.similarity, pairs)


async def streamed(renderer, clip, items) -> list[float]:
    """(b): ours."""
    from colbench.scoring.frontend import FrontendScorer

    scores = await FrontendScorer(renderer, clip).score_many(items)
    bad = [s.error for s in scores if s.status != "ok"]
    if bad:
        raise SystemExit(f"a page failed to render: {bad[0]}")
    return [s.score for s in scores]


def text_page(seed: int) -> str:
    import random

    vocabulary = random.Random(0)
    words = ["".join(vocabulary.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(vocabulary.randint(2, 9)))
             for _ in range(3000)]
    r = random.Random(seed)
    return f"<html><body><p style='font-size:11px'>{' '.join(r.choice(words) for _ in range(12000))}</p></body></html>"


def child(method: str, kind: str, n: int, clip_dir: str, out: str) -> int:
    """One measurement in this (fresh) process: score n answers one way."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers

    from colbench.render import Renderer
    from colbench.scoring.clip import ClipScorer
    from colbench.tasks import load_tasks

    transformers.utils.logging.set_verbosity_error()
    tasks = load_tasks(str(sample_file(SAMPLE_FILE)), "frontend").tasks
    items = [(tasks[i % len(tasks)], tasks[i % len(tasks)].ground_truth if kind == "sample" else text_page(i))
             for i in range(n)]
    clip = ClipScorer(clip_dir, device="cpu")
    clip.load()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def go():
        async with Renderer() as renderer:
            return await (all_at_once if method == "all_at_once" else streamed)(renderer, clip, items)

    t0 = time.perf_counter()
    scores = asyncio.run(go())
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    Path(out).write_text(json.dumps({"method": method, "pages": kind, "answers": n, "seconds": seconds, "scores": scores,
                                     "rss_before_kib": before, "peak_rss_kib": peak,
                                     "mean_screenshot_kib": sum(SCREENSHOT_BYTES) / 1024 / max(1, len(SCREENSHOT_BYTES))}))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--answers", type=int, nargs="+", default=[50, 200], metavar="N",
                    help="numbers of answers to score (default: 50 200)")
    ap.add_argument("--pages", nargs="+", choices=["sample", "text"], default=["sample", "text"],
                    help="kinds of answer pages (default: both)")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    ap.add_argument("--child", nargs=5, metavar=("METHOD", "PAGES", "N", "CLIP", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        method, kind, n, clip_dir, out = args.child
        return child(method, kind, int(n), clip_dir, out)

    sample_file(SAMPLE_FILE)  # a missing sample is one sentence, before any work
    from render_throughput import build_clip_b32

    rows = []
    with tempfile.TemporaryDirectory(prefix="colbench-frontend-memory-") as tmp:
        clip_dir = build_clip_b32(Path(tmp) / "clip")
        for kind in args.pages:
            for n in args.answers:
                for method in METHODS:  # interleaved, so both see the same machine
                    out = Path(tmp) / f"{method}-{kind}-{n}.json"
                    proc = subprocess.run([sys.executable, __file__, "--child", method, kind, str(n), str(clip_dir),
                                           str(out)])
                    if proc.returncode != 0:
                        print(f"FAIL: {METHODS[method]} with {n} {kind} answers exited with {proc.returncode}",
                              file=sys.stderr)
                        return 1
                    rows.append(json.loads(out.read_text()))

    print(f"sample: {sample_file(SAMPLE_FILE)}; peak RSS of the scoring process (Chromium not included); "
          f"CLIP ViT-B/32-sized, CPU")
    width = max(len(v) for v in METHODS.values())
    print(f"{'method':<{width}}  {'pages':>6}  {'answers':>7}  {'peak RSS MiB':>12}  {'seconds':>8}")
    for r in rows:
        print(f"{METHODS[r['method']]:<{width}}  {r['pages']:>6}  {r['answers']:>7}  "
              f"{r['peak_rss_kib'] / 1024:>12.0f}  {r['seconds']:>8.1f}")
    growth: dict[str, dict[str, float]] = {}
    worst = 0.0
    for kind in args.pages:
        sizes = [r["mean_screenshot_kib"] for r in rows if r["method"] == "all_at_once" and r["pages"] == kind]
        print(f"{kind} pages: mean screenshot of an answer {sum(sizes) / len(sizes) / 1024:.2f} MiB")
        if len(args.answers) > 1:
            lo, hi = min(args.answers), max(args.answers)
            for method, label in METHODS.items():
                peak = {r["answers"]: r["peak_rss_kib"] for r in rows if r["method"] == method and r["pages"] == kind}
                growth.setdefault(kind, {})[method] = (peak[hi] - peak[lo]) / 1024 / (hi - lo)
                print(f"  {label}: {growth[kind][method]:+.2f} MiB per extra answer ({lo} -> {hi})")
        for n in args.answers:
            a, b = (next(r for r in rows if r["method"] == m and r["answers"] == n and r["pages"] == kind)["scores"]
                    for m in METHODS)
            worst = max(worst, max(abs(x - y) for x, y in zip(a, b)))
    print(f"largest score difference between (a) and (b): {worst:.1e} (bar: <= 1e-6)")

    if args.json:
        Path(args.json).write_text(json.dumps({
            "sample": str(sample_file(SAMPLE_FILE)), "python": platform.python_version(), "cpus": os.cpu_count(),
            "rows": [{k: v for k, v in r.items() if k != "scores"} for r in rows],
            "mib_per_extra_answer": growth, "largest_score_difference": worst}, indent=2) + "\n")
    return 0 if worst <= 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
