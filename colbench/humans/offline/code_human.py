"""A deterministic simulated human for backend tasks that needs no model.

`OfflineCodeHuman` answers the agent from facts it derives from the task's hidden information,
the Python source of the reference function. The approach:

1. Parse the source with `ast` (it is never executed) and pick the main function: the one named in
   the problem description's "The signature of the function is: def NAME(" sentence, else the last
   top-level def. Helper functions it calls and module-level constants it reads are looked at too.
2. Derive `Fact`s, each a short sentence in the user's voice, from the syntax tree: what kind of
   value comes back (a number, a list, a dictionary with which keys, a tuple of how many items,
   True/False), conditions with their outcomes ("If rating is at least 2200, the result should be
   'master'."), constant tables (dict and list literals), formulas, rounding, min/max clamps,
   sorting order, string formatting, parameter defaults, and how each parameter is used.
   Expressions are read out in words ("at least", "divided by", "to the power of"), never as code,
   and a fact that still contains code tokens or a line of the source is dropped.
3. Answer the latest agent message: score every fact by the parameters the message names, the
   topics it asks about (rounding, order, output, defaults, empty input, ...) and the words it
   shares with the fact, and reply with the best one to three facts (under 400 characters),
   preferring facts not already said in earlier human turns. A generic message (a greeting,
   "tell me more", a code proposal) gets the most important facts not told yet; a specific
   question that matches no fact gets an "I'm not sure" reply.

No randomness: the same task and dialogue always give the same reply.
"""

from __future__ import annotations

from colbench.humans.base import Turn
from colbench.humans.offline.answers import answer
from colbench.humans.offline.derive import derive_facts
from colbench.tasks import Task


class OfflineCodeHuman:
    """A simulated human that answers from the reference function's syntax tree, without a model."""

    name = "offline"

    async def respond(self, task: Task, dialogue: list[Turn], *, seed: int | None = None) -> str:
        # Deterministic: the same reply whatever the seed.
        facts = derive_facts(task.hidden_information, task.problem_description)
        message = str(dialogue[-1].get("content", "")) if dialogue else ""
        said = [str(t.get("content", "")) for t in dialogue[:-1] if t.get("role") == "human"]
        return answer(facts, message, said)

    async def aclose(self) -> None:
        """Nothing to release: no model."""
