"""Scoring answers: one `Scorer` protocol, and `open_scorer`, the one place a scorer is built.

- backend.py: an answer's hidden tests run in the sandbox, compared with the reference's;
- frontend.py: the answer's page and the reference page rendered, compared with CLIP;
- answers.py: `colbench score`, a file of answers scored without dialogue;
- clip.py and refcache.py: the CLIP model, and the cache of reference outputs.

Heavy imports (the sandbox engine, the browser, torch) happen inside `open_scorer`, so
importing a scoring module costs nothing until a scorer is built.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, AsyncIterator, Protocol

from colbench.defaults import CLIP_MODEL, REFERENCE_TIMEOUT_S, TEST_TIMEOUT_S
from colbench.tasks import Task

if TYPE_CHECKING:
    from colbench.render import PageSnapshot, Renderer


class Score(Protocol):
    """A scored answer: its score, and the fields it adds to an episode or answer record."""

    score: float

    def record(self) -> dict[str, Any]: ...


class Scorer(Protocol):
    """Scores answers to tasks of one split."""

    async def score(self, task: Task, answer: str) -> Score: ...


class PageScorer(Scorer, Protocol):
    """A frontend scorer: it also renders the reference page the simulated human compares
    each of the agent's pages with, on the renderer the dialogue uses."""

    renderer: "Renderer"

    def reference(self, task: Task) -> "asyncio.Future[PageSnapshot]": ...


@asynccontextmanager
async def open_scorer(split: str, *, sandbox: str = "docker", concurrency: int | None = None,
                      compat: str | None = None, timeout: float = TEST_TIMEOUT_S,
                      reference_timeout: float = REFERENCE_TIMEOUT_S, cache: Any = None,
                      clip_model: str | None = None, allow_network: bool = False, original: bool = False,
                      render_settings: dict[str, Any] | None = None) -> AsyncIterator[Any]:
    """A ready scorer for `split`, and everything it runs on, stopped on exit.

    backend: `sandbox` ("docker" or "process") with `concurrency` answer workers, the
    `compat` checker, per-test time limits for answers and for the reference, and the
    reference `cache` (default: the user's). frontend: the CLIP model `clip_model` (loaded
    first, so a missing model is one sentence before any page is rendered), a browser with
    `render_settings` (`allow_network` lets pages fetch), and the original's rules when
    `original`. The frontend scorer is a PageScorer."""
    if split == "backend":
        from colbench.sandbox import open_sandbox
        from colbench.scoring.backend import BackendScorer
        from colbench.scoring.refcache import ReferenceCache

        async with open_sandbox(sandbox, concurrency) as box:
            yield BackendScorer(box, compat=compat, timeout=timeout, reference_timeout=reference_timeout,
                                cache=cache if cache is not None else ReferenceCache.default())
    elif split == "frontend":
        from colbench.render import Renderer
        from colbench.scoring.clip import ClipScorer
        from colbench.scoring.frontend import FrontendScorer

        clip = ClipScorer(clip_model or CLIP_MODEL)
        clip.load()
        async with Renderer(allow_network=allow_network, **(render_settings or {})) as renderer:
            yield FrontendScorer(renderer, clip, original=original)
    else:
        raise ValueError(f"unknown split {split!r}")
