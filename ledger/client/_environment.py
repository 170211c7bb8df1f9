"""What a run records of the environment it trained in ("govledger-environment/1").

A run is reproducible only if someone can rebuild what it ran with: the interpreter, the
platform, the installed distributions (or the lock file they came from), the code's git
revision and whether the work tree differed from it. The client captures these when a run
starts (`LedgerClient.run`), so a data scientist records them by doing nothing; the shape is
`ledger.log.payloads.RunEnvironment`. Nothing captured names a person, a host or a path: the
lock file is named by its file name alone, the platform by system, release and machine.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import errors
from ledger.log.payloads import ENVIRONMENT_SCHEME

_NAME_RUN = re.compile(r"[-_.]+")
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*(@|===?|~=|!=|<=?|>=?|;|$)")


@dataclass(frozen=True)
class GitCheckout:
    """The git state of the current directory's checkout (`ledger.log.payloads.GitState`)."""

    revision: str
    dirty: bool
    diff_sha256: str | None

    def to_payload(self) -> dict[str, Any]:
        found: dict[str, Any] = {"revision": self.revision, "dirty": self.dirty}
        if self.diff_sha256 is not None:
            found["diff_sha256"] = self.diff_sha256
        return found


def _git(*args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a user runs it
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_checkout() -> GitCheckout | None:
    """HEAD of the checkout the process runs in, whether the work tree is dirty (tracked
    changes or untracked files) and, when it is, the SHA-256 of `git diff HEAD --binary`.

    None when git is not installed, the directory is not a checkout, or it has no commit
    yet: a run outside git is recorded as such, not refused."""
    head = _git("rev-parse", "HEAD")
    if head is None or head.returncode != 0:
        return None
    revision = head.stdout.decode("ascii", "replace").strip()
    if not re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", revision):
        return None
    status = _git("status", "--porcelain")
    dirty = status is None or status.returncode != 0 or bool(status.stdout.strip())
    diff_sha256 = None
    if dirty:
        diff = _git("diff", "HEAD", "--binary")
        if diff is not None and diff.returncode == 0:
            diff_sha256 = hashlib.sha256(diff.stdout).hexdigest()
    return GitCheckout(revision, dirty, diff_sha256)


def canonical_name(name: str) -> str:
    """A distribution name as PEP 503 compares them: lower case, runs of `-_.` as one `-`."""
    return _NAME_RUN.sub("-", name).lower()


_DISTRIBUTIONS: dict[tuple[tuple[str, float], ...], dict[str, str]] = {}


def _path_state() -> tuple[tuple[str, float], ...]:
    """`sys.path` with each folder's modification time: installing or removing a
    distribution adds or removes its `.dist-info` folder, which changes the time."""
    state = []
    for entry in sys.path:
        try:
            state.append((entry, Path(entry or ".").stat().st_mtime))
        except OSError:
            state.append((entry, -1.0))
    return tuple(state)


def installed_distributions() -> dict[str, str]:
    """Every importable distribution and its version, by canonical name, sorted; where one
    name is installed twice, the one first on `sys.path` (the one `import` loads).

    Reading every distribution's metadata takes a fifth of a second, so the answer is kept
    for as long as no folder on `sys.path` changes."""
    key = _path_state()
    cached = _DISTRIBUTIONS.get(key)
    if cached is None:
        cached = _read_distributions()
        _DISTRIBUTIONS.clear()
        _DISTRIBUTIONS[key] = cached
    return dict(cached)


def _read_distributions() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        found.setdefault(canonical_name(str(name)), str(dist.version))
    return dict(sorted(found.items()))


def lock_file_record(path: str | Path) -> dict[str, Any]:
    """A lock file as the run records it: file name, SHA-256 of its bytes, format.

    The file must exist and parse (TOML: uv.lock, poetry.lock, pylock.toml; JSON:
    Pipfile.lock; a pip requirements file, e.g. from pip-compile), so that a typo in the path
    or a truncated file is caught before the run is sent (LockFileInvalid)."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise errors.LockFileInvalid(
            f"the lock file {file} cannot be read ({exc.strerror or exc}): pass the path of "
            "your uv.lock, poetry.lock, pylock.toml, Pipfile.lock or requirements file"
        ) from None
    fmt = _lock_format(file, data)
    return {"name": file.name, "sha256": hashlib.sha256(data).hexdigest(), "format": fmt}


def _lock_format(file: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.LockFileInvalid(
            f"the lock file {file} is not UTF-8 text: pass a TOML, JSON or requirements lock file"
        ) from None
    suffix = file.suffix.lower()
    try:
        if suffix in (".toml", ".lock") and file.name != "Pipfile.lock":
            tomllib.loads(text)
            return "toml"
        if suffix == ".json" or file.name == "Pipfile.lock":
            if not isinstance(json.loads(text), dict):
                raise ValueError("not a JSON object")
            return "json"
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise errors.LockFileInvalid(
            f"the lock file {file} does not parse ({exc}): regenerate it with your locking "
            "tool, or pass capture_environment=False"
        ) from None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not stripped or stripped.startswith(("#", "--", "-r ", "-c ", "-e ")):
            continue
        if not _REQUIREMENT.match(stripped):
            raise errors.LockFileInvalid(
                f"the lock file {file} is not a requirements file (line {number}: "
                f"{stripped[:60]!r}): pass a requirements, TOML or JSON lock file"
            )
    return "requirements"


def run_environment(*, lock_file: str | Path | None, git: GitCheckout | None) -> dict[str, Any]:
    """The run's `environment` payload ("govledger-environment/1"): interpreter, platform,
    and the installed distributions, or the lock file when one is given; `git` as
    `git_checkout` found it (None: not a checkout)."""
    environment: dict[str, Any] = {
        "scheme": ENVIRONMENT_SCHEME,
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "platform": {
            "system": platform.system() or sys.platform,
            "release": platform.release(),
            "machine": platform.machine() or "unknown",
        },
        "git": git.to_payload() if git is not None else None,
    }
    if lock_file is not None:
        environment["lock_file"] = lock_file_record(lock_file)
    else:
        environment["packages"] = installed_distributions()
    return environment
