"""`colbench score`: score a file of final answers without dialogue.

Answers lines: {"task_id", "answer", ...}; several answers may share a task. The output
has one line per answer line, in the same order, carrying the line's other fields plus
task_id, score, success, per-test detail and (backend) the hash seed the code ran with. It is written to a temporary file and
renamed into place only when every answer is scored, so an interrupted run leaves
nothing half-written.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from colbench.defaults import REFERENCE_TIMEOUT_S, TEST_TIMEOUT_S
from colbench.errors import ColbenchError, TaskFormatError
from colbench.jsonl import check_writable, parse_object, read_lines, write_jsonl_atomic
from colbench.sandbox.guest import HASH_SEED
from colbench.scoring import open_scorer
from colbench.scoring.refcache import ReferenceCache
from colbench.tasks import TaskSet


@dataclass
class AnswerLine:
    lineno: int
    task_id: str
    answer: str
    fields: dict[str, Any]


@dataclass
class ScoreSummary:
    answers: int
    mean_score: float
    success_rate: float | None  # None for frontend (similarity only)
    seconds: float
    out: Path


def load_answers(path: str | os.PathLike, tasks: TaskSet) -> list[AnswerLine]:
    _, lines = read_lines(Path(path), "answers file")
    known = tasks.by_id()
    out: list[AnswerLine] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {lineno}"
        obj = parse_object(line, where)
        for key in ("task_id", "answer"):
            if key not in obj:
                raise TaskFormatError(f"{where}: missing field {key!r}")
        if not isinstance(obj["answer"], str):
            raise TaskFormatError(f"{where}: field 'answer' must be a string")
        task_id = obj["task_id"]
        if isinstance(task_id, bool) or not isinstance(task_id, (str, int)):
            raise TaskFormatError(f"{where}: task_id must be a string or an integer")
        if str(task_id) not in known:
            raise TaskFormatError(f"{where}: task_id {str(task_id)!r} is not in {tasks.path}")
        out.append(AnswerLine(lineno, str(task_id), obj["answer"], obj))
    if not out:
        raise TaskFormatError(f"answers file {path} has no answers")
    return out


async def score_answers(tasks: TaskSet, answers: list[AnswerLine], *, sandbox: str = "docker",
                        compat: str | None = None, timeout: float = TEST_TIMEOUT_S,
                        reference_timeout: float = REFERENCE_TIMEOUT_S, concurrency: int | None = None,
                        cache: ReferenceCache | None = None, clip_model: str | None = None,
                        allow_network: bool = False,
                        progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Scores every answer line; returns the output records in input order."""
    by_id = tasks.by_id()
    if all(t.split == "frontend" for t in tasks.tasks):
        return await score_frontend_answers(tasks, answers, clip_model=clip_model, allow_network=allow_network,
                                            progress=progress)
    if any(t.split != "backend" for t in tasks.tasks):
        raise ColbenchError("the task file mixes backend and frontend tasks; score each split on its own")
    records: list[dict[str, Any] | None] = [None] * len(answers)
    done = 0
    async with open_scorer("backend", sandbox=sandbox, concurrency=concurrency, compat=compat, timeout=timeout,
                           reference_timeout=reference_timeout, cache=cache) as scorer:

        async def one(i: int, a: AnswerLine) -> None:
            nonlocal done
            result = await scorer.score(by_id[a.task_id], a.answer)
            # The hash seed the answer and reference ran with: it fixes set iteration order.
            records[i] = {**a.fields, "task_id": a.task_id, **result.record(), "hash_seed": HASH_SEED}
            done += 1
            if progress is not None:
                progress(done, len(answers))

        await asyncio.gather(*(one(i, a) for i, a in enumerate(answers)))
    return [r for r in records if r is not None]


async def score_frontend_answers(tasks: TaskSet, answers: list[AnswerLine], *, clip_model: str | None = None,
                                 allow_network: bool = False,
                                 progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    by_id = tasks.by_id()
    # Streamed: screenshots are embedded and dropped as they come, so memory stays flat
    # however many answers there are.
    report = (lambda done: progress(done, len(answers))) if progress is not None else None
    async with open_scorer("frontend", clip_model=clip_model, allow_network=allow_network) as scorer:
        scores = await scorer.score_many([(by_id[a.task_id], a.answer) for a in answers], progress=report)
    return [{**a.fields, "task_id": a.task_id, **s.record(), "success": None} for a, s in zip(answers, scores)]


def score_file(tasks: TaskSet, answers_path: str | os.PathLike, out: str | os.PathLike, **kwargs: Any) -> ScoreSummary:
    check_writable(out, "scored lines")  # before the scoring, which the output would otherwise lose
    answers = load_answers(answers_path, tasks)
    start = time.perf_counter()
    records = asyncio.run(score_answers(tasks, answers, **kwargs))
    try:
        write_jsonl_atomic(out, records)
    except OSError as exc:
        raise ColbenchError(f"cannot write the scored lines to {out}: {exc.strerror or exc}") from None
    n = len(records)
    successes = [r["success"] for r in records if r.get("success") is not None]
    return ScoreSummary(answers=n, mean_score=sum(r["score"] for r in records) / n,
                        success_rate=sum(successes) / len(successes) if successes else None,
                        seconds=time.perf_counter() - start, out=Path(out))
