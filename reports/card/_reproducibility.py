"""The card's "Reproducibility" section: what the version's run trained with.

From the run entry's `environment` ("govledger-environment/1") and `seeds`, so a validator
can rebuild the run: interpreter, platform, the distributions (counted here; every name and
version is in the run entry, proven in evidence.json) or the lock file's digest, the git
revision and whether the work tree was dirty, and the declared seeds. A run recorded before
the client captured these gets no section. Not bound for `verify-card`: the run entry it is
read from is cited and proven.
"""

from __future__ import annotations

from typing import Any

from ledger.log.entries import Entry
from reports.card._model import ExtraSection
from reports.citations import cite
from reports.tables import MAX_ROWS, Table, cell


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def reproducibility_section(run: Entry) -> ExtraSection | None:
    """The section for a version's run, or None when it records no environment or seeds."""
    payload = run.statement.payload
    environment = _mapping(payload.get("environment"))
    seeds = _mapping(payload.get("seeds"))
    if not environment and not seeds:
        return None
    where = f"the {run.statement.kind} entry at seq {run.seq}"
    rows: list[list[Any]] = []
    if environment:
        python = _mapping(environment.get("python"))
        rows.append(["Python", f"{python.get('implementation', '')} {python.get('version', '')}"])
        system = _mapping(environment.get("platform"))
        rows.append(
            [
                "Platform",
                " ".join(str(system.get(k, "")) for k in ("system", "release", "machine")).strip(),
            ]
        )
        lock = _mapping(environment.get("lock_file"))
        packages = _mapping(environment.get("packages"))
        if lock:
            rows.append(["Lock file", f"{lock.get('name')} (SHA-256 {lock.get('sha256')})"])
        else:
            rows.append(["Distributions", f"{len(packages):,} installed, listed in {where}"])
        git = environment.get("git")
        if isinstance(git, dict):
            state = "dirty" if git.get("dirty") else "clean"
            text = f"{git.get('revision')} ({state} work tree"
            text += f", diff SHA-256 {git['diff_sha256']})" if git.get("diff_sha256") else ")"
            rows.append(["Git", text])
        else:
            rows.append(["Git", "not a git checkout (or git not found) when the run started"])
    for name, value in list(seeds.items())[:MAX_ROWS]:
        rows.append([f"Seed: {name}", value])
    table = Table(
        "What the run trained with",
        ["", "Recorded"],
        [[cell(a), cell(b)] for a, b in rows],
        css_class="with-hashes",
    )
    return ExtraSection(
        title="Reproducibility",
        anchor="reproducibility",
        intro=(
            f"What the client recorded of the run's environment and random seeds ({where}), "
            "so the run can be repeated."
        ),
        tables=[table],
        cited=[cite(run, "the run that logged this version")],
    )
