"""How much the renderer's settings change what CLIP sees, on the real sample pages.

The original ColBench rendered pages in headless Firefox at its default window width (1366)
as full-page screenshots with no height limit, online (Tailwind from the CDN, a real
picsum photo). colbench renders in Chromium, offline, and caps the screenshot height at
6000 px. This measures, over the 30 real WebSight reference pages of the sample:

  - page heights at 1366 wide, and how many pages the 6000 px cap cuts;
  - for the cut pages, the CLIP similarity of the capped screenshot with the uncapped one
    (what the cap costs a perfect answer);
  - the CLIP similarity of each page at 1280 wide (colbench's own protocol) with the same
    page at 1366 (the original's width), i.e. what the width alone changes.

CLIP: a model with openai/clip-vit-base-patch32's configuration and random weights (the real
one cannot be downloaded here; pass --clip-model DIR for a real one), on the CPU. The engine
difference (Chromium here, Firefox there) and the photo (a placeholder of the same size
here, picsum id 48 there) cannot be measured offline.

Run from the repository root:

    .venv/bin/python benchmarks/render_fidelity.py [--clip-model DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from common import sample_file  # noqa: E402

UNCAPPED = 16384  # Chromium's largest screenshot side; no sample page comes near it


async def render_all(pages: list[str], viewport: tuple[int, int], max_height: int) -> list:
    from colbench.render import Renderer

    async with Renderer(viewport=viewport, max_height=max_height) as r:
        return await asyncio.gather(*(r.render(p, elements=False) for p in pages))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip-model", help="a local CLIP directory (default: ViT-B/32-sized, random weights)")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    args = ap.parse_args(argv)

    from colbench.render import MAX_HEIGHT
    from colbench.scoring.clip import ClipScorer
    from colbench.tasks import load_tasks

    pages = [t.ground_truth for t in load_tasks(str(sample_file("frontend_test_sample.jsonl")), "frontend").tasks]
    with tempfile.TemporaryDirectory(prefix="colbench-render-fidelity-") as tmp:
        clip_dir = args.clip_model
        if clip_dir is None:
            from render_throughput import build_clip_b32

            clip_dir = str(build_clip_b32(Path(tmp) / "clip"))
        clip = ClipScorer(clip_dir, device="cpu")
        wide_capped = asyncio.run(render_all(pages, (1366, 768), MAX_HEIGHT))
        wide_full = asyncio.run(render_all(pages, (1366, 768), UNCAPPED))
        ours = asyncio.run(render_all(pages, (1280, 720), MAX_HEIGHT))
        bad = [s.error for s in wide_capped + wide_full + ours if s.error]
        if bad:
            print(f"FAIL: a page failed to render: {bad[0]}", file=sys.stderr)
            return 1
        heights = [s.page_height for s in wide_full]
        cut = [i for i, h in enumerate(heights) if h > MAX_HEIGHT]
        cap_sims = clip.similarity([(wide_capped[i].png, wide_full[i].png) for i in cut])
        width_sims = clip.similarity([(o.png, w.png) for o, w in zip(ours, wide_capped)])

    print(f"{len(pages)} sample pages at 1366 wide: height median {statistics.median(heights):.0f} px, "
          f"max {max(heights)} px; {len(cut)} taller than the {MAX_HEIGHT} px cap")
    if cut:
        print(f"  capped vs uncapped screenshot of those: CLIP similarity min {min(cap_sims):.4f}, "
              f"mean {statistics.mean(cap_sims):.4f}")
    print(f"1280 vs 1366 wide (same page): CLIP similarity min {min(width_sims):.4f}, "
          f"mean {statistics.mean(width_sims):.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "pages": len(pages), "heights_1366": heights, "cap": MAX_HEIGHT, "cut": len(cut),
            "cap_similarity": cap_sims, "width_similarity": width_sims,
            "clip": "random ViT-B/32" if args.clip_model is None else args.clip_model}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
