"""The applicant key: the ledger's secret for the keyed hashes of applicant references.

A scoring decision's applicant is a pseudonymous reference the lender holds; the ledger
keeps only HMAC-SHA256(applicant key, reference) (`ledger.log.scoring.applicant_reference`),
so its hash-chained entries and its detail store never hold the reference itself, and
without the key nobody can link a stored value to a reference by trying candidates. The key
is 32 random bytes, written as hex in `applicant.key` beside the ledger key, mode 0600
(created with O_EXCL so that it is never readable by others, even briefly), by `govledger
init` (an existing ledger gets one on its next init). It is never logged or returned; lose
it and complaints can no longer be looked up by applicant (the decisions still verify).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ledger.errors import KeyFileError

KEY_BYTES = 32
KEY_MODE = 0o600


def create_applicant_key(path: Path) -> None:
    """Write a new random applicant key at `path` unless one is there."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
    try:
        os.write(fd, os.urandom(KEY_BYTES).hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_applicant_key(path: Path) -> bytes | None:
    """The applicant key at `path`; None when there is none; KeyFileError when others may
    read it or it is not 32 bytes of hex."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"applicant key {path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{path} does not hold a {KEY_BYTES}-byte applicant key in hex; restore it from "
            "the backup kept with ledger.key"
        )
    return key
