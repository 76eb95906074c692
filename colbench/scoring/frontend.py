"""Frontend scoring: render the answer's page and the reference, compare with CLIP.

score = cosine similarity of the CLIP image embeddings of the two screenshots (1.0 for
identical pages). An answer with no page (no <html> or <body> in it), or a page that
cannot be rendered in time, scores 0.0 and says why.

Scoring many answers streams them: answers are rendered at most a window ahead of CLIP,
and each screenshot is dropped as soon as it is embedded, so memory does not grow with the
number of answers. A reference page is rendered and embedded once per task and only its
embedding is kept. Answers are embedded in batches of consecutive answers, in input
order, and each reference on its own, so a score does not depend on the window or on
which other answers are scored with it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

from colbench.protocol import extract_html
from colbench.render import PageSnapshot, Renderer
from colbench.runs.record import blocked_requests_sentence
from colbench.scoring.clip import ClipScorer
from colbench.tasks import Task


@dataclass
class FrontendScore:
    score: float
    status: str  # ok | no_page | render_failed | reference_failed
    error: str | None = None
    blocked: int = 0  # requests the answer's page made that were refused (offline)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"score": self.score, "status_detail": self.status}
        if self.error:
            out["detail_error"] = self.error
        if self.blocked:
            out["blocked"] = blocked_requests_sentence(self.blocked)
            out["blocked_requests"] = self.blocked
        return out


_BLACK: list[bytes] = []


def black_png() -> bytes:
    """The original's stand-in for a missing page: a black 224x224 RGB image."""
    if not _BLACK:
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (224, 224)).save(buf, format="PNG")
        _BLACK.append(buf.getvalue())
    return _BLACK[0]


@dataclass
class _Reference:
    embedding: Any  # a CLIP embedding row, None when the page failed to render
    error: str | None = None


class FrontendScorer:
    def __init__(self, renderer: Renderer, clip: ClipScorer, *, window: int | None = None, original: bool = False):
        self.renderer = renderer
        self.clip = clip
        # The original's rules (--protocol sweet_rl): the answer is the page itself (no
        # extraction), and an answer with no page, or whose page fails to render, is scored
        # as a black 224x224 image against the reference (a CLIP similarity, not 0).
        self.original = original
        # How many answers may be rendered ahead of CLIP: enough to keep every page slot
        # of the renderer busy while a batch is embedded.
        self.window = window or max(clip.batch_size, 2 * getattr(renderer, "pages", 1))
        self._references: dict[str, asyncio.Future] = {}  # task_id -> PageSnapshot (the human sees it)
        self._embeddings: dict[str, asyncio.Future] = {}  # task_id -> _Reference

    def reference(self, task: Task) -> asyncio.Future:
        """The reference page's snapshot (with elements), rendered once; kept for the
        dialogue, where the human compares each page with it."""
        fut = self._references.get(task.task_id)
        if fut is None:
            fut = self._references[task.task_id] = asyncio.ensure_future(self.renderer.render(task.ground_truth))
        return fut

    def _reference_embedding(self, task: Task) -> asyncio.Future:
        fut = self._embeddings.get(task.task_id)
        if fut is None:
            fut = self._embeddings[task.task_id] = asyncio.ensure_future(self._embed_reference(task))
        return fut

    async def _embed_reference(self, task: Task) -> _Reference:
        if task.task_id in self._references:  # already rendered for the dialogue
            ref: PageSnapshot = await asyncio.shield(self._references[task.task_id])
        else:  # rendered for its embedding only, and dropped
            ref = await self.renderer.render(task.ground_truth, elements=False)
        if ref.error:
            return _Reference(None, ref.error)
        rows = await self.clip.run(self.clip.embed_cached, [ref.png])
        return _Reference(rows[0])

    async def _prepare(self, task: Task, answer: str | None) -> FrontendScore | tuple[bytes, int, Any, str, str | None]:
        """A final score, or what CLIP needs: the answer's screenshot, its blocked request
        count, the reference embedding, and the status and error to record."""
        no_page = "the answer contains no <html> or <body> page"
        html = (answer or None) if self.original else (extract_html(answer) if answer else None)
        if html is None and not self.original:
            return FrontendScore(0.0, "no_page", no_page)
        ref_fut = self._reference_embedding(task)
        snap = await self.renderer.render(html, elements=False) if html is not None else None  # pixels only
        ref: _Reference = await asyncio.shield(ref_fut)
        if ref.error:
            return FrontendScore(0.0, "reference_failed", ref.error)
        if snap is None:
            return black_png(), 0, ref.embedding, "no_page", no_page
        if snap.error:
            if self.original:
                return black_png(), len(snap.blocked), ref.embedding, "render_failed", snap.error
            return FrontendScore(0.0, "render_failed", snap.error, len(snap.blocked))
        return snap.png, len(snap.blocked), ref.embedding, "ok", None

    async def score_many(self, items: list[tuple[Task, str]],
                         progress: Callable[[int], None] | None = None) -> list[FrontendScore]:
        """Scores every (task, answer), in order. Answers are rendered concurrently (in the
        renderer's page slots) at most `window` ahead of the one CLIP waits for, and
        embedded in batches of consecutive answers; `progress(n)` is told how many are
        scored so far."""
        import torch

        out: list[FrontendScore | None] = [None] * len(items)
        jobs: dict[int, asyncio.Future] = {}
        batch: list[tuple[int, bytes, int, Any, str, str | None]] = []  # rendered, waiting for CLIP
        launched = scored = 0

        async def flush() -> None:
            nonlocal scored
            cand = await self.clip.run(self.clip.embed, [b[1] for b in batch])
            ref = torch.stack([b[3] for b in batch])
            for (i, _, blocked, _, status, error), sim in zip(batch, (cand * ref).sum(dim=-1).clamp(-1.0, 1.0)):
                out[i] = FrontendScore(float(sim), status, error, blocked)
            scored += len(batch)
            batch.clear()  # the screenshots go with it
            if progress is not None:
                progress(scored)

        try:
            for i in range(len(items)):
                while launched < min(i + self.window, len(items)):
                    jobs[launched] = asyncio.ensure_future(self._prepare(*items[launched]))
                    launched += 1
                result = await jobs.pop(i)
                if isinstance(result, FrontendScore):
                    out[i] = result
                    scored += 1
                    if progress is not None:
                        progress(scored)
                    continue
                batch.append((i, *result))
                if len(batch) == self.clip.batch_size:
                    await flush()
            if batch:
                await flush()
        finally:
            for job in jobs.values():  # only after an error: nothing is left running
                job.cancel()
        return out  # type: ignore[return-value]

    async def score(self, task: Task, answer: str) -> FrontendScore:
        return (await self.score_many([(task, answer)]))[0]
