"""A `Fact` (one thing the simulated human knows, a sentence in the user's voice) and the
`FactCollector` that keeps the facts, dropping duplicates and anything that could leak code."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from colbench.humans.offline.english import Speaker, is_blank, join_words, words_of

MAX_FACT = 380

# Substrings that must never reach the agent (they would leak code).
FORBIDDEN = ("def ", "return ", ">=", "<=", "==", "!=", "**", "lambda", "\n", "+=", "-=")


@dataclass(frozen=True)
class Fact:
    """One thing the human knows, phrased as a sentence in the user's voice."""

    text: str
    priority: int  # importance when the agent asks nothing specific
    order: int  # source order, to break ties
    names: frozenset[str] = frozenset()  # parameters (or the helper function) the fact is about
    related: frozenset[str] = frozenset()  # local variables it uses, parameters it depends on indirectly
    topics: frozenset[str] = frozenset()  # e.g. round, sort, return, default


@dataclass
class FactCollector:
    """Accumulates facts, dropping duplicates and anything that could leak code."""

    source_lines: set[str]
    facts: list[Fact] = field(default_factory=list)

    def add(self, text: str | None, priority: int, names: Iterable[str] = (), related: Iterable[str] = (),
            topics: Iterable[str] = ()) -> None:
        if not text:
            return
        if not text.endswith((".", "?", "!")):
            text += "."
        if len(text) > MAX_FACT or not self.is_safe(text) or any(f.text == text for f in self.facts):
            return
        names = frozenset(names)
        self.facts.append(Fact(text, priority, len(self.facts), names, frozenset(related) - names, frozenset(topics)))

    def is_safe(self, text: str) -> bool:
        return not any(tok in text for tok in FORBIDDEN) and not any(line in text for line in self.source_lines)

    def add_constant_table(self, name: str, value: ast.expr, speaker: Speaker, priority: int,
                           related: set[str]) -> None:
        """A dict/list/set literal bound to a name: 'The tip rates are 0.1 for 'poor', ...'."""
        if isinstance(value, ast.Dict) and all(is_blank(v) for v in value.values):
            return  # counters starting at zero (or empty lists) are not a table of settings
        if isinstance(value, ast.Dict) and value.keys:
            items = speaker.dict_pairs(value)
        elif isinstance(value, (ast.List, ast.Tuple, ast.Set)) and value.elts:
            items = speaker.say_all(value.elts)
        else:
            return
        if not items:
            return
        label = words_of(name)
        chunks = chunked(items, 260)
        for i, chunk in enumerate(chunks):
            lead = f"For {label} I use" if i == 0 else f"More {label}:"
            end = "" if i == len(chunks) - 1 else ", and more"
            self.add(f"{lead} {join_words(chunk)}{end}", priority - i, names={name}, related=related,
                     topics={"threshold", "formula"})


def chunked(items: Sequence[str], budget: int) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for item in items:
        if chunks[-1] and size + len(item) + 2 > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += len(item) + 2
    return chunks
