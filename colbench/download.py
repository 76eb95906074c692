"""`colbench tasks download`: the official ColBench files into the data directory.

- the four original prompt files (facebookresearch/sweet_rl at ORIGINAL_FULL_COMMIT,
  `prompts/`), each checked by sha256 (colbench.official);
- from the Hugging Face dataset facebook/collaborative_agent_bench (with huggingface_hub,
  whose downloads resume, show progress and are checked against the hub's hashes):
  `backend_tasks/test.jsonl` (installed as backend_test.jsonl, and identified as the
  official test set by the content hash of its first 1000 lines) and
  `backend_tasks/train.jsonl` (backend_train.jsonl); with `--offline-data`, also the released
  15k trajectories `colbench_code_offline_15k_llama8b.jsonl` (436 MB).

A file already in place and verified is kept (the command is idempotent); a file that fails
its check is never installed, and the error names it. Each file is written beside its
destination and renamed into place, so an interrupted download leaves nothing half-written.
Endpoints: HF_ENDPOINT (the hub, as huggingface_hub reads it) and COLBENCH_PROMPTS_URL (where
the prompt files are fetched from), so a mirror (or a test's local server) can stand in.
Not yet: the frontend test set, which the original builds from WebSight v0.2.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from colbench.errors import ColbenchError
from colbench.jsonl import write_bytes_atomic
from colbench.official import ORIGINAL_REPO, PROMPT_FILES
from colbench.tasks import OFFICIAL_FILES, OFFICIAL_LIMITS, content_sha256, data_dir

ORIGINAL_FULL_COMMIT = "38daf2a58497e898a65ef530a7b1c13ff4b0f128"
PROMPTS_URL = f"https://raw.githubusercontent.com/{ORIGINAL_REPO}/{ORIGINAL_FULL_COMMIT}/prompts"
HUB_DATASET = "facebook/collaborative_agent_bench"
# Official test sets, identified by content (sha256 over the first N lines, each the compact
# sorted-key JSON of its task fields with a newline): a copy with other formatting, or more
# lines after them, is still the official set.
OFFICIAL_CONTENT_SHA256 = {
    "backend": "9287c46c78ab02ddf2640e001d283de76a0c8c9aa2d2622bb1623ca19b48286d",
    "frontend": "2ccc54069022a37aeae125b818d4d24eebc20f365c00c14a50e5be634f739f24",
}
# hub path -> (installed name, what it is)
BACKEND_FILES = {"backend_tasks/test.jsonl": (OFFICIAL_FILES["backend"], "the backend test set"),
                 "backend_tasks/train.jsonl": ("backend_train.jsonl", "the backend training tasks")}
OFFLINE_DATA = {"colbench_code_offline_15k_llama8b.jsonl": ("colbench_code_offline_15k_llama8b.jsonl",
                                                            "the released 15k offline trajectories")}


def download_official(dest: Path | None = None, *, offline_data: bool = False, cache_dir: Path | None = None,
                      say: Callable[[str], None] = print) -> list[Path]:
    """Fetches the official files into `dest` (default: the data directory); returns the
    files in place. Raises ColbenchError with one sentence on any failure."""
    dest = Path(dest) if dest is not None else data_dir()
    try:
        (dest / "prompts").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ColbenchError(f"cannot create the data directory {dest} ({exc.strerror})") from exc
    done = [_prompt(name, digest, dest / "prompts", say) for name, digest in PROMPT_FILES.values()]
    files = {**BACKEND_FILES, **(OFFLINE_DATA if offline_data else {})}
    for hub_path, (name, what) in files.items():
        done.append(_hub_file(hub_path, dest / name, what, say, cache_dir))
    return done


def _prompt(name: str, digest: str, folder: Path, say: Callable[[str], None]) -> Path:
    target = folder / name
    if target.is_file() and _sha256(target.read_bytes()) == digest:
        say(f"kept {target} (verified)")
        return target
    base = os.environ.get("COLBENCH_PROMPTS_URL", PROMPTS_URL).rstrip("/")
    url = f"{base}/{name}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ColbenchError(f"cannot fetch the original prompt file {name} from {url} ({_why(exc)}); check the "
                            "network, or copy the file into " + str(folder)) from exc
    got = _sha256(data)
    if got != digest:
        raise ColbenchError(f"{url} is not the original {name} (sha256 {got[:12]}..., expected {digest[:12]}...); "
                            "it was not installed")
    write_bytes_atomic(target, data)
    say(f"fetched {target} (sha256 verified)")
    return target


def _hub_file(hub_path: str, target: Path, what: str, say: Callable[[str], None], cache_dir: Path | None) -> Path:
    split = "backend" if target.name == OFFICIAL_FILES["backend"] else None
    if target.is_file() and (split is None or _is_official(target, split)):
        say(f"kept {target}")
        return target
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    endpoint = os.environ.get("HF_ENDPOINT") or None
    say(f"fetching {what} ({HUB_DATASET}: {hub_path}) ...")
    try:
        cached = hf_hub_download(HUB_DATASET, hub_path, repo_type="dataset", endpoint=endpoint, cache_dir=cache_dir)
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise ColbenchError(f"cannot fetch {what} ({hub_path}) from the Hugging Face dataset {HUB_DATASET} "
                            f"({_why(exc)}); check the network or HF_ENDPOINT and run the command again "
                            "(it resumes)") from exc
    if split is not None and not _is_official(Path(cached), split):
        raise ColbenchError(f"{hub_path} from {HUB_DATASET} is not the official ColBench {split} test set (its "
                            f"first {OFFICIAL_LIMITS[split]} tasks hash differently); it was not installed")
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(cached, partial)
    os.replace(partial, target)
    say(f"installed {target}")
    return target


def _is_official(path: Path, split: str) -> bool:
    try:
        return content_sha256(path, OFFICIAL_LIMITS[split]) == OFFICIAL_CONTENT_SHA256[split]
    except (ColbenchError, OSError):
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _why(exc: Exception) -> str:
    text = str(getattr(exc, "reason", None) or exc).strip().splitlines()
    return (text[0][:160] if text else "") or type(exc).__name__
