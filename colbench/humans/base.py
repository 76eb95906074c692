"""The simulated human's interface: how an episode calls a backend and a frontend human."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from colbench.runs.record import Turn
from colbench.tasks import Task

if TYPE_CHECKING:
    from colbench.render import PageSnapshot

__all__ = ["Turn", "CodeHuman", "DesignHuman", "Human"]


class CodeHuman(Protocol):
    """A simulated human for backend tasks, who knows the task's hidden information.

    `respond` gets the task and the dialogue so far, which always ends with an agent turn,
    and returns the human's next message (the episode cuts it to the split's limit). `seed`
    is the episode's seed for the human's model (colbench.episode.human_seed: derived from
    the episode seed, never the agent's); a human without a model may ignore it. `aclose`
    releases the human's model client, once, when the run ends.
    """

    name: str

    async def respond(self, task: Task, dialogue: list[Turn], *, seed: int | None = None) -> str: ...

    async def aclose(self) -> None: ...


class DesignHuman(Protocol):
    """A simulated human for frontend tasks, who sees the page the user wants.

    As CodeHuman, and `respond` also gets the agent's rendered page (None when the agent has
    shown none) and the reference page.
    """

    name: str

    async def respond(self, task: Task, dialogue: list[Turn], agent_page: PageSnapshot | None,
                      reference_page: PageSnapshot, *, seed: int | None = None) -> str: ...

    async def aclose(self) -> None: ...


Human = CodeHuman | DesignHuman  # the one a split's episodes call: backend CodeHuman, frontend DesignHuman
