"""Finding and killing our own processes by a mark they carry (Linux /proc; elsewhere none)."""

from __future__ import annotations

import os
import signal


def kill_marked(mark: bytes, where: str) -> list[int]:
    """SIGKILLs every process of this user whose /proc/PID/`where` ("cmdline" or "environ")
    holds `mark` as one of its NUL-separated items; returns their pids."""
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    me, killed = os.getuid(), []
    for pid in pids:
        try:
            if os.stat(f"/proc/{pid}").st_uid != me:
                continue
            with open(f"/proc/{pid}/{where}", "rb") as f:
                if mark not in f.read().split(b"\0"):
                    continue
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except OSError:
            continue
    return killed
