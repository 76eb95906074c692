"""Building the sandbox image from Debian packages (`colbench sandbox build`).

No container registry is needed: mmdebstrap assembles a minimal Debian root file system
with Python and the packages the official reference functions import (numpy,
beautifulsoup4), the runner is copied in, and `docker import` turns the tarball into an
image. The tag is a hash of everything that goes in, so a changed runner or package list
gives a new tag, and an image that exists is never rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from colbench.errors import SandboxError
from colbench.paths import bundled

log = logging.getLogger(__name__)

IMAGE_REPO = "colbench-sandbox"
RECIPE_VERSION = "1"


def sandboxes_dir() -> Path:
    """The image definitions: `sandboxes/` in a checkout, bundled data in a wheel."""
    found = bundled("sandboxes", "debian-packages.txt")
    if found is not None:
        return found
    raise SandboxError("the sandbox image definitions (sandboxes/) are missing from this installation")


def guest_path() -> Path:
    return Path(__file__).resolve().parent / "guest.py"


def debian_packages() -> list[str]:
    text = (sandboxes_dir() / "debian-packages.txt").read_text()
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:12]


def base_tag() -> str:
    """The Debian root file system with Python and packages (slow to build, rarely changes)."""
    return f"{IMAGE_REPO}-base:{_digest(RECIPE_VERSION.encode(), chr(10).join(debian_packages()).encode())}"


def image_tag() -> str:
    """The base plus the runner (a one-layer build, seconds)."""
    return f"{IMAGE_REPO}:{_digest(base_tag().encode(), guest_path().read_bytes())}"


def find_image(client) -> str | None:
    from docker.errors import ImageNotFound

    tag = image_tag()
    try:
        client.images.get(tag)
    except ImageNotFound:
        return None
    return tag


def require_image(client) -> str:
    tag = find_image(client)
    if tag is None:
        raise SandboxError(f"the sandbox image {image_tag()} is not built; run `colbench sandbox build`")
    return tag


def _host_suite() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME=") and line.split("=", 1)[1].strip():
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "bookworm"


def _exists(client, tag: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(tag)
    except ImageNotFound:
        return False
    return True


def build_image(client, mirror: str | None = None, force: bool = False) -> tuple[str, bool]:
    """Builds the image if it is missing; returns (tag, built_now)."""
    tag = image_tag()
    if not force and _exists(client, tag):
        return tag, False
    if force or not _exists(client, base_tag()):
        _build_base(client, mirror)
    _add_guest(client, tag)
    if not _exists(client, tag):
        raise SandboxError("docker did not produce the sandbox image")
    _remove_stale(client, keep={tag, base_tag()})
    return tag, True


def _remove_stale(client, keep: set[str]) -> None:
    """Drops images of earlier runner versions (the base layer is shared, so this is cheap)."""
    from docker.errors import DockerException

    try:  # untagged leftovers of our own earlier builds (labelled by the recipe)
        client.images.prune(filters={"dangling": True, "label": "colbench.recipe"})
    except DockerException:
        pass
    for repo in (IMAGE_REPO, f"{IMAGE_REPO}-base"):
        try:
            images = client.images.list(name=repo)
        except DockerException:
            return
        for image in images:
            for t in image.tags:
                if t not in keep:
                    try:
                        client.images.remove(t)
                    except DockerException:
                        pass  # in use by a running sandbox: keep it


def _build_base(client, mirror: str | None) -> None:
    if shutil.which("mmdebstrap") is None:
        raise SandboxError("building the sandbox image needs mmdebstrap (apt-get install mmdebstrap)")
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        raise SandboxError("building the sandbox image needs the docker command-line client")
    mirror = mirror or os.environ.get("COLBENCH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    with tempfile.TemporaryDirectory(prefix="colbench-image-") as tmp:
        tarball = os.path.join(tmp, "rootfs.tar")
        cmd = [
            "mmdebstrap", "--variant=apt", "--mode=auto", "--quiet",
            f"--include={','.join(debian_packages())}",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            '--customize-hook=rm -rf "$1/var/lib/apt/lists"/* "$1/var/cache/apt"/*',
            _host_suite(), tarball, mirror,
        ]
        log.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = " ".join(proc.stderr.strip().splitlines()[-2:])[:400]
            raise SandboxError(f"mmdebstrap failed to build the sandbox root file system: {tail}")
        # The docker CLI streams the tarball reliably; the SDK's import fails on large ones.
        proc = subprocess.run([docker_cli, "import", "--change", "WORKDIR /tmp", tarball, base_tag()],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"docker import failed: {proc.stderr.strip()[-300:]}")


def _add_guest(client, tag: str) -> None:
    """FROM the base, COPY the runner in: needs no network and takes seconds."""
    from docker.errors import BuildError, DockerException

    with tempfile.TemporaryDirectory(prefix="colbench-image-") as ctx:
        shutil.copy(guest_path(), os.path.join(ctx, "guest.py"))
        Path(ctx, "Dockerfile").write_text(
            f"FROM {base_tag()}\n"
            "COPY guest.py /opt/colbench/guest.py\n"
            "USER 65534:65534\n"
            "WORKDIR /tmp\n"
            f'LABEL colbench.recipe="{RECIPE_VERSION}"\n'
        )
        try:
            client.images.build(path=ctx, tag=tag, rm=True, forcerm=True, network_mode="none", pull=False)
        except (BuildError, DockerException) as exc:
            raise SandboxError(f"could not add the runner to the sandbox image: {exc}") from exc
