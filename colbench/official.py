"""The original ColBench's own files, read at run time from the data directory.

The official protocol (`--protocol sweet_rl`) talks to models with the original prompt
files of facebookresearch/sweet_rl at commit 38daf2a (`prompts/`). Their words are not
ours and their licence is not the project's, so they are never shipped: they are read from
`$COLBENCH_DATA_DIR/prompts/` under their original names, and each is checked by sha256
before use, like the official task files, so a run says exactly which text it used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from colbench.errors import ColbenchError
from colbench.paths import data_dir

ORIGINAL_REPO = "facebookresearch/sweet_rl"
ORIGINAL_COMMIT = "38daf2a"

# (split, role) -> (file name, sha256 of its bytes at ORIGINAL_COMMIT)
PROMPT_FILES: dict[tuple[str, str], tuple[str, str]] = {
    ("backend", "agent"): ("llm_agent_code_prompt.txt",
                           "429c1c5ae65a2488ee8cb37058b9aff91341b2390de3beb934dd52a7580cdce3"),
    ("backend", "human"): ("human_simulator_code_prompt.txt",
                           "0f522a5f95d06d7b1305ddb8850164d57eeef1a13114207261cd46f23e73928c"),
    ("frontend", "agent"): ("llm_agent_html_prompt.txt",
                            "045b608288f5c38f0621d6afac38f3da63a5484208f9cc47d740264a0d184e88"),
    ("frontend", "human"): ("human_simulator_html_prompt.txt",
                            "8e0dee786bfd203da4cb6f114577ac8486dccf077436736d0141c256d886a4d6"),
}


def prompts_dir() -> Path:
    return data_dir() / "prompts"


@dataclass(frozen=True)
class OfficialPrompts:
    """The original prompt texts of one split, verified."""

    split: str
    agent: str  # the agent's system message, verbatim
    human: str  # the human simulator's prompt (backend: a template; frontend: plain text)
    sha256: dict[str, str]  # file name -> sha256, for run.json


def load_prompts(split: str, directory: Path | None = None) -> OfficialPrompts:
    """The split's two original prompt files from `directory` (default: the data directory's
    prompts/), each checked by sha256; a missing or altered file is one sentence."""
    folder = directory if directory is not None else prompts_dir()
    texts: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for role in ("agent", "human"):
        name, expected = PROMPT_FILES[(split, role)]
        path = folder / name
        fix = (f"run `colbench tasks download` (online), or copy {name} from {ORIGINAL_REPO} at commit "
               f"{ORIGINAL_COMMIT} (prompts/) into {folder}, or pass --protocol colbench")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ColbenchError(f"the original ColBench prompt file {path} is missing; {fix}") from None
        except OSError as exc:
            raise ColbenchError(f"cannot read the original ColBench prompt file {path} ({exc.strerror}); {fix}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected:
            raise ColbenchError(f"{path} is not the original ColBench prompt file (sha256 {digest[:12]}..., "
                                f"expected {expected[:12]}...); {fix}")
        texts[role] = data.decode("utf-8")
        hashes[name] = digest
    return OfficialPrompts(split=split, agent=texts["agent"], human=texts["human"], sha256=hashes)
