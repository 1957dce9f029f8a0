"""Is a process alive? Lock files and the running chat's announcement name their
owner's pid; a dead owner's file is stale. Its own module so that a one-shot
command can ask without importing the index code (rag.chatlink)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Is process `pid` running? (someone else's process counts as running)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True
