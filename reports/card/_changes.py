"""The card's "What changed" section: the version against its parent or previous version.

A reviewer of a recalibration reads first what differs from the version it replaces, so the
card states it, from `reports.version_diff.diff_views` over the proven entries: each row
names the entries (seq) that establish it, and they join the card's evidence. The section is
not bound for `verify-card` (its pages are checked against the evidence only through the
cited entries), so it stays out of `bound.html`.
"""

from __future__ import annotations

import re

from ledger.log.entries import Entry
from ledger.store import LedgerStore, VersionView, version_view
from reports.card._model import ExtraSection
from reports.tables import MAX_ROWS, Table, cell
from reports.version_diff import diff_views, previous_version, shown

_HEX = re.compile(r"^[0-9a-f]{64}$")


def _short(value: object) -> str:
    text = shown(value)
    return text[:16] + "…" if _HEX.fullmatch(text) else text


def changes_section(
    store: LedgerStore, view: VersionView, family: list[Entry]
) -> ExtraSection | None:
    """The section for `view` (derived from `family`, the model's entries the card's
    checkpoint covers), or None when the model has no earlier version to compare with."""
    previous = previous_version(view, family)
    if previous is None:
        return None
    before = version_view(store, view.model, previous.statement.version, entries_of_model=family)
    diff = diff_views(before, view)
    parent = view.run.statement.payload.get("parent_run") == previous.entry_hash.hex()
    relation = "its parent run" if parent else "the model's previous version"
    count = len(diff.differences)
    intro = (
        f"Compared with version {before.version} ({relation}, run seq {previous.seq}): "
        f"{count} difference{'' if count == 1 else 's'} in parameters, metrics, features, "
        "seeds, data, environment, code, reason catalogue and approvals. Each row names the "
        "ledger entries (seq) that establish it, which the evidence proves. "
        f"The command govledger diff {view.model} {before.version} {view.version} lists the "
        "same."
    )
    intro += "".join(f" Note: {n}." for n in diff.notes)
    rows = [
        [
            d.aspect,
            cell(d.item),
            d.change,
            cell(_short(d.before)),
            cell(_short(d.after)),
            ", ".join(str(e.seq) for e in d.entries),
        ]
        for d in diff.differences
    ]
    note = (
        f"{len(rows) - MAX_ROWS:,} more differences: govledger diff lists them all."
        if len(rows) > MAX_ROWS
        else ""
    )
    tables = (
        [
            Table(
                f"What changed from {before.version} to {view.version}",
                ["Aspect", "Item", "Change", f"In {before.version}", f"In {view.version}", "Seq"],
                rows[:MAX_ROWS],
                note=note,
            )
        ]
        if rows
        else []
    )
    return ExtraSection(
        title="What changed", anchor="what-changed", intro=intro, tables=tables, cited=diff.cited()
    )
