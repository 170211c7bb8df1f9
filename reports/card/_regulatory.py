"""The card's regulatory sections: human oversight, the reason-code catalogue, and
the mapping of the version's entries to each regime's checklist.

Each is a `card_model.ExtraSection`: rendered after "Approvals and sign-off", its cited
entries proven in evidence.json like every other fact on the card.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.governance import ApprovalPolicy
from ledger.log.entries import Entry
from ledger.store import VersionView
from reports.card._model import ExtraSection
from reports.citations import EntryRef, cite
from reports.limits import MAX_EVENTS, clip, more_line
from reports.regulatory import ComplianceCheck, evaluate
from reports.regulatory.regimes import known_regimes, load_regime
from reports.tables import Table

MAX_CATALOGUE_ROWS = 200
"""Reasons in force shown (a catalogue may hold 5,000): a credit model's catalogue maps a few
dozen features; the entry keeps the rest."""
MAX_REFS = 10
"""Entries named per checklist item in the mapping table; all are in the Evidence section."""

_ACTIONS = {
    "measures": "Oversight measures",
    "override": "Override",
    "stop": "Stop",
    "resume": "Resume (stop lifted)",
}


def _scope(payload: dict[str, Any]) -> str:
    scope = payload.get("decisions") or {}
    parts = []
    ids = scope.get("application_ids") or []
    if ids:
        shown = ", ".join(str(i) for i in ids[:20])
        parts.append(
            f"applications {shown}" + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
        )
    if scope.get("since") or scope.get("until"):
        parts.append(
            f"decisions from {scope.get('since') or 'the start'} to {scope.get('until') or 'now'}"
        )
    return "; ".join(parts) or "all decisions of the version"


def _what(payload: dict[str, Any]) -> str:
    action = payload.get("action")
    if action == "measures":
        who = ", ".join(str(a) for a in payload.get("assigned_to") or [])
        can = ", ".join(str(c) for c in payload.get("capabilities") or []) or "not stated"
        return f"Assigned: {who}. Can: {can}. {payload.get('procedure') or ''}".strip()
    if action == "override":
        return f"{_scope(payload)}: human outcome {payload.get('outcome')}"
    return _scope(payload)


def oversight_section(view: VersionView) -> ExtraSection:
    """Human oversight (EU AI Act Art. 14): measures, overrides, stops and resumes."""
    cited = [
        cite(e, f"human oversight: {e.statement.payload.get('action')}") for e in view.oversight
    ]
    rows = [
        [
            _ACTIONS.get(str(e.statement.payload.get("action")), "?"),
            e.statement.actor,
            e.recorded_at[:16].replace("T", " ") + " UTC",
            clip(_what(e.statement.payload), where=f"the entry at seq {e.seq}"),
            clip(e.statement.reason, where=f"the entry at seq {e.seq}"),
            f"seq {e.seq}",
        ]
        for e in view.oversight[-MAX_EVENTS:]
    ]
    hidden = max(0, len(view.oversight) - MAX_EVENTS)
    if view.stop is not None:
        intro = (
            f"STOPPED: {view.stop.statement.actor} stopped this version on "
            f"{view.stop.recorded_at[:10]} ({view.stop.statement.reason}). It cannot be "
            "deployed until an oversight 'resume' is recorded."
        )
    elif view.oversight:
        intro = "Who may override or stop this version's decisions, and every override and stop."
    else:
        intro = (
            "No human oversight record for this version: no oversight measures, override or "
            "stop has been recorded (EU AI Act Art. 14)."
        )
    tables = []
    if rows:
        tables.append(
            Table(
                "Oversight records",
                ["Action", "By", "Time", "Which decisions / what", "Why", "Entry"],
                rows,
                more_line(hidden, "records (latest shown)", len(rows), "the ledger")
                if hidden
                else "",
                numeric=[False] * 6,
                css_class="with-hashes",
            )
        )
    return ExtraSection("Human oversight", "oversight", intro, tables, cited)


def catalogue_section(view: VersionView) -> ExtraSection:
    """The adverse-action reason catalogue (Regulation B): versions, status, entries in force."""
    by_hash = {e.entry_hash: e for e in [*view.catalogues, *view.catalogue_decisions]}
    cited: list[EntryRef] = []
    rows = []
    for state in view.catalogue_states:
        entry = by_hash[state.entry_hash]
        cited.append(cite(entry, f"reason-code catalogue {state.catalogue_version}"))
        deciders = []
        for decision in [*state.approvals, *state.rejections]:
            cited.append(
                cite(
                    by_hash[decision.entry_hash], f"decision on catalogue {state.catalogue_version}"
                )
            )
            verb = "approved" if decision.granted else "rejected"
            deciders.append(f"{verb} by {decision.actor} ({decision.role})")
        rows.append(
            [
                state.catalogue_version,
                state.actor,
                state.status + (" (in force)" if state.in_force else ""),
                "; ".join(deciders) or "no decision yet",
                ", ".join(state.missing) or "none",
                state.entry_hash.hex(),
            ]
        )
    tables = []
    if rows:
        tables.append(
            Table(
                "Catalogue versions",
                ["Catalogue", "Recorded by", "Status", "Decisions", "Still needs", "Entry hash"],
                rows,
                numeric=[False] * 6,
                css_class="with-hashes",
            )
        )
    in_force = next((s for s in view.catalogue_states if s.in_force), None)
    if in_force is not None:
        tables.append(
            Table(
                f"Reasons in force (catalogue {in_force.catalogue_version})",
                ["Code", "Feature", "Values", "Statement on the notice"],
                [
                    [
                        str(e.get("code", "")),
                        str(e.get("feature", "")),
                        "any"
                        if e.get("values") is None
                        else clip(", ".join(map(str, e["values"]))),
                        str(e.get("statement", "")),
                    ]
                    for e in in_force.entries[:MAX_CATALOGUE_ROWS]
                ],
                more_line(
                    len(in_force.entries) - MAX_CATALOGUE_ROWS,
                    "reasons",
                    MAX_CATALOGUE_ROWS,
                    f"the catalogue entry {in_force.entry_hash.hex()[:12]}…",
                )
                if len(in_force.entries) > MAX_CATALOGUE_ROWS
                else "",
                numeric=[False] * 4,
                css_class="with-hashes",
            )
        )
    intro = (
        "Adverse-action reasons come from this controlled catalogue: the ledger refused any "
        "entry naming a feature the version does not score, and a catalogue is in force only "
        "once approved like a model change (four eyes, the approval policy's roles)."
        if rows
        else "No reason-code catalogue has been recorded for this version (Regulation B)."
    )
    return ExtraSection("Adverse-action reason catalogue", "catalogue", intro, tables, cited)


def regime_checks(
    view: VersionView, family: list[Entry], policy: ApprovalPolicy, *, now: datetime | None = None
) -> list[ComplianceCheck]:
    """The version against every shipped regime checklist (monitoring as of `now`)."""
    return [evaluate(load_regime(r), view, family, policy, now=now) for r in known_regimes()]


def _evidence_cell(refs: list[EntryRef]) -> str:
    shown = "; ".join(f"seq {r.seq} {r.kind} {r.entry_hash}" for r in refs[:MAX_REFS]) or "—"
    more = len(refs) - MAX_REFS
    return shown + (f"; and {more:,} more (cited entries, section Evidence)" if more > 0 else "")


def mapping_section(checks: list[ComplianceCheck]) -> ExtraSection:
    """One table per regime: each item, its citation, and the entries that satisfy it."""
    tables = []
    cited: list[EntryRef] = []
    for check in checks:
        rows = []
        for item in check.items:
            status = "satisfied" if item.satisfied else "GAP: " + "; ".join(item.missing)
            if item.statements:
                status += ". " + "; ".join(item.statements)
            rows.append([item.title, item.citation, status, _evidence_cell(item.evidence)])
        cited += check.cited()
        gaps = len(check.gaps)
        tables.append(
            Table(
                f"{check.title} ({len(check.items) - gaps} of {len(check.items)} satisfied)",
                ["Item", "Citation", "Status", "Evidence (ledger entries)"],
                rows,
                note=check.source,
                numeric=[False] * 4,
                css_class="with-hashes",
            )
        )
    intro = (
        "Each regime's checklist item is satisfied by the ledger entries named (seq, kind and "
        "entry hash, proven in the attached evidence.json), or listed as a gap with what is "
        "missing; the command govledger check MODEL VERSION --regime ID gives the same list."
    )
    return ExtraSection("Regulatory mapping", "regulatory-mapping", intro, tables, cited)
