"""What a benchmark ran on: cores, CPU, memory, Python, SQLite and PostgreSQL versions.

Figures mean little without the machine, and our CI and laptops differ a lot (a shared
2-core VM fsyncs and hashes at a fraction of a workstation's speed), so every table prints it.
Reads Linux's /proc where it can and says "unknown" elsewhere rather than failing.
"""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import sys
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name, from /proc/cpuinfo on Linux."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float | None:
    """Total memory in GiB, from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def rss_mib() -> float:
    """This process's resident set size now, in MiB (VmRSS)."""
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB (VmHWM, else ru_maxrss)."""
    peak = _status_kib("VmHWM")
    if peak:
        return peak / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_kib(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def describe(postgres_version: str | None = None) -> list[tuple[str, str]]:
    """(label, value) rows describing this machine and the software under test."""
    ram = ram_gib()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = [
        ("CPU", cpu_model()),
        ("cores", str(os.cpu_count() or "unknown")),
        (
            "load average (1, 5, 15 min), now",
            " ".join(f"{x:.2f}" for x in load) if load else "unknown",
        ),
        ("RAM", f"{ram:.1f} GiB" if ram else "unknown"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("SQLite", sqlite3.sqlite_version),
    ]
    if postgres_version is not None:
        rows.append(("PostgreSQL", postgres_version))
    return rows
