"""The ColBench turn protocol: what counts in an agent message, and answer extraction.

Two protocols (`--protocol`): `sweet_rl` is the original ColBench's (facebookresearch/sweet_rl
at 38daf2a: its prompt files, read at run time, its sampling, its answer and its checker);
`colbench` is our own wording and semantics, for use without the official files. The turn
rules below are the same in both; they differ in the agent's system message, the human's
request (colbench/humans/), sampling, and how the answer is taken and checked.

Faithful to ColBench:
- if an agent message contains "OUTPUT:", only the text after it counts (with several,
  the text between the first and the second, as the original split does);
- "I WANT TO ANSWER:" ends the episode; the answer is the text after it;
- the 10th agent message ends the episode whatever it says;
- human replies are cut to 400 characters (backend) and 1000 (frontend);
- backend answers have their Markdown code fences stripped (colbench); under sweet_rl the
  answer is the raw text between the first and the second "I WANT TO ANSWER:", as the
  original takes it, and the original checker's fence handling applies.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

MAX_AGENT_TURNS = 10
HUMAN_REPLY_LIMIT = {"backend": 400, "frontend": 1000}
OUTPUT_MARK = "OUTPUT:"
ANSWER_MARK = "I WANT TO ANSWER:"
PROTOCOLS = ("sweet_rl", "colbench")
# The original's, so that numbers mean what the paper's mean; colbench needs no official files.
DEFAULT_PROTOCOL = "sweet_rl"
# The original's sampling (sweet_rl 38daf2a: the agent's in models/vllm_agent.py with the
# run script's default temperature, the human's in environments/human_interaction_env.py).
SWEET_RL_VIEWPORT = (1366, 768)  # the original's Firefox headless default window
SWEET_RL_SAMPLING = {"agent": {"temperature": 1.0, "max_tokens": 1024},
                     "human": {"temperature": 0.0, "max_tokens": 4096}}

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class AgentMove:
    """An agent message read by the protocol."""

    content: str  # the part that counts (shown to the human, recorded)
    final: bool  # the agent gave its answer
    answer: str | None  # the text after ANSWER_MARK, when final


def read_agent_message(text: str) -> AgentMove:
    content = text.split(OUTPUT_MARK)[1] if OUTPUT_MARK in text else text
    if ANSWER_MARK in content:
        return AgentMove(content, True, content.split(ANSWER_MARK, 1)[1].strip())
    return AgentMove(content, False, None)


def cut_human_reply(text: str, split: str) -> str:
    return text[:HUMAN_REPLY_LIMIT[split]]


_HTML = re.compile(r"<html\b[^>]*>.*?</html\s*>", re.DOTALL | re.IGNORECASE)
_BODY = re.compile(r"<body\b[^>]*>.*?</body\s*>", re.DOTALL | re.IGNORECASE)


def extract_html(text: str) -> str | None:
    """The page in a frontend message: the first <html ...>...</html>, else the first
    <body ...>...</body>, else None."""
    m = _HTML.search(text) or _BODY.search(text)
    return m.group(0) if m else None


# The original's page rules (sweet_rl 38daf2a, utils/webpage_utils.py): photo URLs are
# rewritten to one fixed picsum photo (id 48) first, then the first page is taken with
# case-sensitive patterns; only https URLs are rewritten, and picsum URLs with an id are kept.
_UNSPLASH_RANDOM = re.compile(r"https://source\.unsplash\.com/random/(\d+)x(\d+)/\?[\w=]+")
_PICSUM_SIZED = re.compile(r"https://picsum\.photos/(\d+)/(\d+)")
_SWEET_RL_PAGES = (re.compile(r"<html.*?>.*?</html>", re.DOTALL), re.compile(r"<body.*?>.*?</body>", re.DOTALL))
SWEET_RL_PHOTO_ID = 48
# Where `colbench tasks download` puts that photo, under the data directory.
SWEET_RL_PHOTO_FILE = f"photos/picsum-{SWEET_RL_PHOTO_ID}.jpg"


def sweet_rl_photo_urls(text: str) -> str:
    photo = f"https://picsum.photos/id/{SWEET_RL_PHOTO_ID}"
    text = _UNSPLASH_RANDOM.sub(lambda m: f"{photo}/{m.group(1)}/{m.group(2)}", text)
    return _PICSUM_SIZED.sub(lambda m: f"{photo}/{m.group(1)}/{m.group(2)}", text)


def sweet_rl_extract_html(text: str) -> str | None:
    """The page in a frontend message as the original finds it: photo URLs rewritten, then
    the first <html...>...</html> (else <body...>...</body>), case-sensitive."""
    text = sweet_rl_photo_urls(text)
    for pattern in _SWEET_RL_PAGES:
        m = pattern.search(text)
        if m:
            return m.group(0)
    return None


def extract_code(text: str) -> str:
    """The Python code in a backend answer.

    Markdown fences are stripped: when the text has fenced blocks, their contents are
    joined (an answer may put a helper and the function in separate blocks; blocks marked
    as another language are skipped); otherwise the text is the code.
    """
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    if not blocks:
        return text.strip("\n")
    python = [body for lang, body in blocks if lang in ("", "python", "py", "python3")]
    return "\n\n".join(b.rstrip() for b in python).strip("\n")


BACKEND_AGENT_PROMPT = """\
You are a helpful LLM agent working with a human user who wants a Python function written \
for them. The user's request below leaves out details that only they know (their personal \
preferences, thresholds, formats, special cases). You can ask the user clarifying \
questions, one message at a time, for at most {max_turns} messages in total. The user \
answers briefly and does not know how to code, so ask about behaviour, not implementation.

When you are ready, write a message that starts with "I WANT TO ANSWER:" followed only by \
the complete Python function (with any imports it needs). Your {max_turns}th message must be \
your answer. If you want to think before replying, you may write your reasoning first and \
then "OUTPUT:" followed by the message for the user; only the text after "OUTPUT:" is shown.

The user's request comes next."""

FRONTEND_AGENT_PROMPT = """\
You are a helpful LLM agent working with a human user who wants a web page designed for \
them with HTML and Tailwind CSS. The user's request below leaves out details that only they \
know. You can ask questions or show a draft page (one complete <html>...</html> document \
in your message: the user will see it rendered and say what differs from what they want), \
for at most {max_turns} messages in total.

When you are ready, write a message that starts with "I WANT TO ANSWER:" followed by your \
final page. If you want to think before replying, you may write your reasoning first and \
then "OUTPUT:" followed by the message for the user; only the text after "OUTPUT:" is shown.

The user's request comes next."""


def agent_system_prompt(split: str) -> str:
    template = BACKEND_AGENT_PROMPT if split == "backend" else FRONTEND_AGENT_PROMPT
    return template.format(max_turns=MAX_AGENT_TURNS)


def agent_messages(split: str, problem_description: str, dialogue: list,
                   system: str | None = None) -> list[dict[str, str]]:
    """The chat an agent sees: the system message (`system`, else our task-type prompt),
    the user's request, then the dialogue so far (agent turns as assistant messages, human
    turns as user messages)."""
    messages = [{"role": "system", "content": agent_system_prompt(split) if system is None else system},
                {"role": "user", "content": problem_description}]
    for turn in dialogue:  # agents see what counted of their messages, as in ColBench
        messages.append({"role": "assistant" if turn["role"] == "agent" else "user", "content": turn["content"]})
    return messages


@dataclass(frozen=True)
class DialogueRules:
    """What a protocol decides in a dialogue: the agent's system message and the answer."""

    protocol: str = "colbench"
    agent_system: str | None = None  # None: our own prompt for the split
    human_prompt: str | None = None  # sweet_rl: the original human prompt file's text
    prompt_sha256: dict[str, str] | None = None  # sweet_rl: the original files used

    @property
    def original(self) -> bool:
        return self.protocol == "sweet_rl"

    def page(self, text: str) -> str | None:
        """The page in a frontend agent message, None if it has none."""
        return sweet_rl_extract_html(text) if self.original else extract_html(text)

    def answer(self, move: AgentMove) -> str:
        """A backend episode's answer from its last agent message."""
        if self.original:
            # As the original: the text between the first and the second marker, unstripped
            # (its checker then handles fences); without the marker (the 10th message) the
            # whole message.
            return move.content.split(ANSWER_MARK)[1] if move.final else move.content
        return extract_code((move.answer if move.final else move.content) or "")


def run_protocol(config: dict) -> str:
    """The protocol of a run, from its run.json (runs from before protocols were colbench's)."""
    return str(config.get("protocol") or "colbench")


def agent_system_for(protocol: str | None, split: str) -> str | None:
    """The agent's system message under `protocol` for `agent_messages` (None: our own).
    What the trainer trains on is what the protocol's dialogues show the agent."""
    if protocol in (None, "colbench"):
        return None
    from colbench.official import prompts_dir

    return _agent_system(protocol, split, str(prompts_dir()))


@functools.lru_cache(maxsize=8)
def _agent_system(protocol: str, split: str, directory: str) -> str | None:
    from pathlib import Path

    return dialogue_rules(protocol, split, Path(directory)).agent_system


def dialogue_rules(protocol: str, split: str, prompts_dir: Any = None) -> DialogueRules:
    """The rules of `protocol`; sweet_rl reads and verifies the original prompt files (a
    missing or altered one is one sentence)."""
    if protocol == "colbench":
        return DialogueRules()
    if protocol != "sweet_rl":
        raise ValueError(f"unknown protocol {protocol!r}")
    from colbench.official import load_prompts

    prompts = load_prompts(split, prompts_dir)
    return DialogueRules("sweet_rl", prompts.agent, prompts.human, prompts.sha256)
