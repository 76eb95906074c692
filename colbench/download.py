"""`colbench tasks download`: the official ColBench files into the data directory.

- the four original prompt files (facebookresearch/sweet_rl at ORIGINAL_FULL_COMMIT,
  `prompts/`), each checked by sha256 (colbench.official);
- from the Hugging Face dataset facebook/collaborative_agent_bench (with huggingface_hub,
  whose downloads resume, show progress and are checked against the hub's hashes):
  `backend_tasks/test.jsonl` (installed as backend_test.jsonl, and identified as the
  official test set by the content hash of its first 1000 lines) and
  `backend_tasks/train.jsonl` (backend_train.jsonl); with `--offline-data`, also the released
  15k trajectories `colbench_code_offline_15k_llama8b.jsonl` (436 MB);
- the frontend tasks, built as the original's README builds them from the Hugging Face
  dataset HuggingFaceM4/WebSight (`v0.2`): rows 0-9999 are frontend_train.jsonl and rows
  10000-19999 frontend_test.jsonl (the official test set, identified by the content hash of
  its first 500 lines), each line `{"problem_description": llm_generated_idea, "ground_truth":
  text with its photo URLs rewritten}`. Only the two text columns of the parquet shards are
  read (HTTP range requests through huggingface_hub's HfFileSystem; the shards are 400 MB
  each, mostly screenshots); each shard's rows are kept under `.websight-v0.2/` until both
  files are installed, so an interrupted build resumes where it stopped;
- the photo the original shows for every picture (picsum id 48), once, as
  `photos/picsum-48.jpg`: the renderer of `--protocol sweet_rl` serves it resized and cropped
  as picsum serves it, instead of a placeholder.

A file already in place and verified is kept (the command is idempotent); a file that fails
its check is never installed, and the error names it. Each file is written beside its
destination and renamed into place, so an interrupted download leaves nothing half-written.
Endpoints: HF_ENDPOINT (the hub, as huggingface_hub reads it), COLBENCH_PROMPTS_URL (where
the prompt files are fetched from) and COLBENCH_PICSUM_URL (the photo), so a mirror (or a
test's local server) can stand in.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from colbench.errors import ColbenchError
from colbench.jsonl import write_bytes_atomic
from colbench.official import ORIGINAL_REPO, PROMPT_FILES
from colbench.protocol import SWEET_RL_PHOTO_FILE, SWEET_RL_PHOTO_ID, sweet_rl_photo_urls
from colbench.paths import data_dir
from colbench.tasks import OFFICIAL_CONTENT_SHA256, OFFICIAL_FILES, OFFICIAL_LIMITS, is_official, lines_content_sha256

ORIGINAL_FULL_COMMIT = "38daf2a58497e898a65ef530a7b1c13ff4b0f128"
PROMPTS_URL = f"https://raw.githubusercontent.com/{ORIGINAL_REPO}/{ORIGINAL_FULL_COMMIT}/prompts"
HUB_DATASET = "facebook/collaborative_agent_bench"
# hub path -> (installed name, what it is)
BACKEND_FILES = {"backend_tasks/test.jsonl": (OFFICIAL_FILES["backend"], "the backend test set"),
                 "backend_tasks/train.jsonl": ("backend_train.jsonl", "the backend training tasks")}
WEBSIGHT = "HuggingFaceM4/WebSight"
WEBSIGHT_DIR = "v0.2"
WEBSIGHT_COLUMNS = ("llm_generated_idea", "text")
# installed name -> WebSight rows [start, stop)
FRONTEND_FILES = {"frontend_train.jsonl": (0, 10000), OFFICIAL_FILES["frontend"]: (10000, 20000)}
PICSUM_URL = "https://picsum.photos"
OFFLINE_DATA = {"colbench_code_offline_15k_llama8b.jsonl": ("colbench_code_offline_15k_llama8b.jsonl",
                                                            "the released 15k offline trajectories")}


def download_official(dest: Path | None = None, *, splits: tuple[str, ...] = ("backend", "frontend"),
                      offline_data: bool = False, cache_dir: Path | None = None,
                      say: Callable[[str], None] = print) -> list[Path]:
    """Fetches the official files of `splits` into `dest` (default: the data directory);
    returns the files in place. Raises ColbenchError with one sentence on any failure."""
    dest = Path(dest) if dest is not None else data_dir()
    try:
        (dest / "prompts").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ColbenchError(f"cannot create the data directory {dest} ({exc.strerror})") from exc
    done = [_prompt(name, digest, dest / "prompts", say) for name, digest in PROMPT_FILES.values()]
    if "backend" in splits:
        files = {**BACKEND_FILES, **(OFFLINE_DATA if offline_data else {})}
        for hub_path, (name, what) in files.items():
            done.append(_hub_file(hub_path, dest / name, what, say, cache_dir))
    if "frontend" in splits:
        done += _frontend_tasks(dest, say)
        done.append(_photo(dest / SWEET_RL_PHOTO_FILE, say))
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
    if target.is_file() and (split is None or is_official(target, split)):
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
    if split is not None and not is_official(Path(cached), split):
        raise ColbenchError(f"{hub_path} from {HUB_DATASET} is not the official ColBench {split} test set (its "
                            f"first {OFFICIAL_LIMITS[split]} tasks hash differently); it was not installed")
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(cached, partial)
    os.replace(partial, target)
    say(f"installed {target}")
    return target


def _frontend_tasks(dest: Path, say: Callable[[str], None]) -> list[Path]:
    targets = [dest / name for name in FRONTEND_FILES]
    if all(t.is_file() for t in targets) and is_official(dest / OFFICIAL_FILES["frontend"], "frontend"):
        for t in targets:
            say(f"kept {t}")
        return targets
    cache = dest / f".websight-{WEBSIGHT_DIR}"
    rows = _websight_rows(max(stop for _, stop in FRONTEND_FILES.values()), cache, say)
    built = {name: [json.dumps({"problem_description": idea, "ground_truth": sweet_rl_photo_urls(text)}) + "\n"
                    for idea, text in rows[start:stop]]
             for name, (start, stop) in FRONTEND_FILES.items()}
    test = built[OFFICIAL_FILES["frontend"]]
    if lines_content_sha256(test, OFFICIAL_LIMITS["frontend"], "the built frontend test set") != \
            OFFICIAL_CONTENT_SHA256["frontend"]:
        shutil.rmtree(cache, ignore_errors=True)  # fetched afresh next time
        raise ColbenchError(f"the frontend tasks built from {WEBSIGHT} {WEBSIGHT_DIR} are not the official ColBench "
                            f"frontend test set (its first {OFFICIAL_LIMITS['frontend']} tasks hash differently; "
                            "the dataset may have changed); they were not installed")
    for name, lines in built.items():
        write_bytes_atomic(dest / name, "".join(lines).encode())
        say(f"installed {dest / name}")
    shutil.rmtree(cache, ignore_errors=True)
    return targets


def _websight_rows(count: int, cache: Path, say: Callable[[str], None]) -> list[tuple[str, str]]:
    """The first `count` rows of WebSight v0.2 as (llm_generated_idea, text), in the order
    the `datasets` library reads them (shards by name, rows in file order)."""
    import pyarrow.parquet as pq
    from huggingface_hub import HfFileSystem
    from tqdm.auto import tqdm

    endpoint = os.environ.get("HF_ENDPOINT") or None
    fs = HfFileSystem(endpoint=endpoint)
    cache.mkdir(parents=True, exist_ok=True)
    where = f"datasets/{WEBSIGHT}/{WEBSIGHT_DIR}"
    rows: list[tuple[str, str]] = []
    try:
        shards = sorted(str(p) for p in fs.ls(where, detail=False) if str(p).endswith(".parquet"))
        if not shards:
            raise ColbenchError(f"the Hugging Face dataset {WEBSIGHT} has no parquet files under {WEBSIGHT_DIR}/")
        say(f"reading the first {count} rows of {WEBSIGHT} {WEBSIGHT_DIR} (two text columns of {len(shards)} shards "
            "at most) ...")
        with tqdm(total=count, unit="rows", desc=f"WebSight {WEBSIGHT_DIR}") as bar:
            for shard in shards:
                if len(rows) >= count:
                    break
                kept = cache / (shard.rsplit("/", 1)[1] + ".json")
                if kept.is_file():
                    got = [tuple(r) for r in json.loads(kept.read_text())]
                else:
                    got = []
                    # No read-ahead: pyarrow asks for the footer and each text column chunk
                    # exactly, and nothing of the screenshots beside them is fetched.
                    with fs.open(shard, "rb", cache_type="none") as f:
                        parquet = pq.ParquetFile(f)
                        missing = [c for c in WEBSIGHT_COLUMNS if c not in parquet.schema_arrow.names]
                        if missing:
                            raise ColbenchError(f"{shard} has no column {missing[0]!r}; it is not WebSight "
                                                f"{WEBSIGHT_DIR} as the original read it")
                        for group in range(parquet.num_row_groups):
                            if len(rows) + len(got) >= count:
                                break
                            table = parquet.read_row_group(group, columns=list(WEBSIGHT_COLUMNS))
                            got += zip(*(table.column(c).to_pylist() for c in WEBSIGHT_COLUMNS))
                    write_bytes_atomic(kept, json.dumps(got).encode())
                got = got[:count - len(rows)]
                if not all(isinstance(v, str) for row in got for v in row):
                    raise ColbenchError(f"{shard} has a row whose {' or '.join(WEBSIGHT_COLUMNS)} is not text; it "
                                        f"is not WebSight {WEBSIGHT_DIR} as the original read it")
                rows += got
                bar.update(len(got))
    except ColbenchError:
        raise
    except Exception as exc:  # network, hub or parquet errors: one sentence, the cache kept
        raise ColbenchError(f"cannot read {WEBSIGHT} {WEBSIGHT_DIR} from the Hugging Face hub ({_why(exc)}); check "
                            "the network or HF_ENDPOINT and run the command again (it resumes)") from exc
    if len(rows) < count:
        raise ColbenchError(f"{WEBSIGHT} {WEBSIGHT_DIR} has {len(rows)} rows, fewer than the {count} the official "
                            "frontend tasks are built from")
    return rows


def _photo(target: Path, say: Callable[[str], None]) -> Path:
    """The picsum photo the original shows for every picture, at its full size."""
    if target.is_file() and _image_size(target.read_bytes()) is not None:
        say(f"kept {target}")
        return target
    base = os.environ.get("COLBENCH_PICSUM_URL", PICSUM_URL).rstrip("/")
    try:
        with urllib.request.urlopen(f"{base}/id/{SWEET_RL_PHOTO_ID}/info", timeout=60) as response:
            info = json.loads(response.read())
        width, height = int(info["width"]), int(info["height"])
        url = f"{base}/id/{SWEET_RL_PHOTO_ID}/{width}/{height}"
        with urllib.request.urlopen(url, timeout=300) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as exc:
        raise ColbenchError(f"cannot fetch the picsum photo {SWEET_RL_PHOTO_ID} from {base} ({_why(exc)}); pages still "
                            "render offline with a placeholder for it; run the command again to retry") from exc
    if _image_size(data) != (width, height):
        raise ColbenchError(f"{url} is not a {width}x{height} image as picsum's info says; it was not installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, data)
    say(f"fetched {target} ({width}x{height})")
    return target


def _image_size(data: bytes) -> tuple[int, int] | None:
    """The size of a well-formed image, or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            return img.size
    except Exception:
        return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _why(exc: Exception) -> str:
    text = str(getattr(exc, "reason", None) or exc).strip().splitlines()
    return (text[0][:160] if text else "") or type(exc).__name__
