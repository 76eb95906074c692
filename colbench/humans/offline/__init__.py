"""Offline simulated humans: deterministic, no model.

- `code_human`: `OfflineCodeHuman`, the backend human (derives facts, then answers from them).
- `answers`: picking the facts that answer the agent's message and composing the reply.
- `derive`: `derive_facts`, all facts about a reference source (main function, helpers, constants).
- `analyzer`: `Analyzer`, the facts from one function's syntax tree.
- `facts`: the `Fact` record and the `FactCollector` that drops duplicates and code leaks.
- `english`: `Speaker`, reading Python expressions out in English.
- `design`: `OfflineDesignHuman`, the frontend human (compares rendered pages).

Dependencies flow one way: code_human -> answers, derive -> analyzer -> facts -> english; design stands alone.
"""

from colbench.humans.offline.answers import answer
from colbench.humans.offline.code_human import OfflineCodeHuman
from colbench.humans.offline.derive import derive_facts
from colbench.humans.offline.design import OfflineDesignHuman, describe_differences
from colbench.humans.offline.facts import Fact

__all__ = ["Fact", "OfflineCodeHuman", "OfflineDesignHuman", "answer", "derive_facts", "describe_differences"]
