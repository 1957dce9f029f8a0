"""Memory and CPU of a process, read from /proc (Linux), for the benchmark scripts.

A figure that cannot be read (no /proc, the process gone) is NaN, never an error:
the scripts print figures and must not stop over one.
"""

from __future__ import annotations

import os


def rss_mb(pid: int | str = "self", kind: str = "VmRSS") -> float:
    """Resident memory of a process in MB. `kind` "RssAnon" counts only memory
    the process allocated, not pages of files it maps (the model's word table is
    mapped, and the rows questions touch are counted in VmRSS as they are read):
    growth there is what a leak would show."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(kind + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds a process has used (/proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")
