"""The model registry as the ledger tells it: models, versions and their derived status.

Nothing here is stored: a version's status (logged, rejected, approved, deployed, retired) is
derived from its entries every time, with the rules of `ledger.policy`, so the registry can
never disagree with the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from ledger.errors import UnknownModelVersion
from ledger.governance import (
    CatalogueState,
    DecisionFact,
    InventoryRow,
    OversightFact,
    RunFact,
    VersionStatus,
    approvals_missing,
    catalogue_states,
    decision_fact,
    inventory_record,
    inventory_row,
    oversight_fact,
    stop_in_force,
    version_status,
)
from ledger.log.entries import Entry
from ledger.log.kinds import DECISION_KINDS, RUN_KINDS, Kind
from ledger.store._ledger_store import EntryFilter, LedgerStore
from ledger.store._tables import entries


@dataclass
class VersionView:
    """Everything the ledger holds about one model version, and its derived status."""

    model: str
    version: str
    run: Entry
    status: VersionStatus
    decisions: list[Entry] = field(default_factory=list)
    evaluations: list[Entry] = field(default_factory=list)
    deployments: list[Entry] = field(default_factory=list)
    retirements: list[Entry] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)
    refusals: list[Entry] = field(default_factory=list)
    missing_approvals: list[str] = field(default_factory=list)
    catalogues: list[Entry] = field(default_factory=list)
    catalogue_decisions: list[Entry] = field(default_factory=list)
    catalogue_states: list[CatalogueState] = field(default_factory=list)
    oversight: list[Entry] = field(default_factory=list)
    stop: Entry | None = None
    """The oversight 'stop' in force, if any (the status is then "stopped")."""

    def to_dict(self) -> dict[str, object]:
        """Summary JSON form (entry hashes, not whole entries, except the run)."""
        return {
            "model": self.model,
            "version": self.version,
            "status": self.status.value,
            "run": self.run.to_dict(),
            "missing_approvals": self.missing_approvals,
            "decisions": [_brief(e) for e in self.decisions],
            "evaluations": [_brief(e) for e in self.evaluations],
            "deployments": [_brief(e) for e in self.deployments],
            "retirements": [_brief(e) for e in self.retirements],
            "catalogues": [_catalogue(c) for c in self.catalogue_states],
            "catalogue_decisions": [_brief(e) for e in self.catalogue_decisions],
            "oversight": [_brief(e) for e in self.oversight],
            "stopped_by": None if self.stop is None else _brief(self.stop),
        }


def _catalogue(state: CatalogueState) -> dict[str, object]:
    return {
        "entry_hash": state.entry_hash.hex(),
        "seq": state.seq,
        "recorded_by": state.actor,
        "catalogue_version": state.catalogue_version,
        "status": state.status,
        "in_force": state.in_force,
        "missing_approvals": state.missing,
        "entries": state.entries,
    }


def _brief(entry: Entry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "kind": entry.statement.kind,
        "actor": entry.statement.actor,
        "recorded_at": entry.recorded_at,
        "reason": entry.statement.reason,
        "payload": entry.statement.payload,
        "entry_hash": entry.entry_hash.hex(),
        "signed": entry.signature is not None,
    }


def _all(store: LedgerStore, filters: EntryFilter) -> list[Entry]:
    found: list[Entry] = []
    cursor = -1
    while True:
        page = store.list_entries(filters, after_seq=cursor, limit=1000)
        found.extend(page)
        if len(page) < 1000:
            return found
        cursor = page[-1].seq


def model_entries(store: LedgerStore, model: str) -> list[Entry]:
    """Every entry about a model (all versions), in seq order."""
    return _all(store, EntryFilter(model=model))


def version_view(
    store: LedgerStore, model: str, version: str, *, entries_of_model: list[Entry] | None = None
) -> VersionView:
    """Derive a version's view; UnknownModelVersion if it was never logged.

    `entries_of_model` (every entry of the model, as `model_entries` returns) saves re-reading
    them when deriving several versions at once."""
    found = entries_of_model if entries_of_model is not None else model_entries(store, model)
    related = [e for e in found if e.statement.version in (version, "")]
    runs = [e for e in related if e.statement.kind in RUN_KINDS and e.statement.version == version]
    if not runs:
        raise UnknownModelVersion(f"{model} {version} was never logged")
    run = runs[0]
    view = VersionView(model=model, version=version, run=run, status=VersionStatus.LOGGED)
    catalogue_hashes = {
        e.entry_hash.hex()
        for e in related
        if e.statement.kind == Kind.CATALOGUE_RECORDED and e.statement.version == version
    }
    for entry in related:
        kind = entry.statement.kind
        if entry.statement.version == version:
            if kind in DECISION_KINDS and _decided(entry) in catalogue_hashes:
                view.catalogue_decisions.append(entry)
            elif kind in DECISION_KINDS:
                view.decisions.append(entry)
            elif kind == Kind.CATALOGUE_RECORDED:
                view.catalogues.append(entry)
            elif kind == Kind.OVERSIGHT_RECORDED:
                view.oversight.append(entry)
            elif kind == Kind.EVALUATION_RECORDED:
                view.evaluations.append(entry)
            elif kind == Kind.DEPLOYMENT_PROMOTED:
                view.deployments.append(entry)
            elif kind == Kind.NOTE:
                view.notes.append(entry)
            elif kind == Kind.REQUEST_REFUSED:
                view.refusals.append(entry)
        if kind == Kind.MODEL_RETIRED:
            view.retirements.append(entry)
    run_fact = RunFact(
        run.seq, run.entry_hash, run.statement.actor, run.statement.kind, model, version
    )
    facts = [_decision(e) for e in view.decisions]
    view.missing_approvals = approvals_missing(store.policy, run_fact, facts)[0]
    view.catalogue_states = catalogue_states(
        store.policy,
        [(_subject(e), e.statement.payload) for e in view.catalogues],
        [_decision(e) for e in view.catalogue_decisions],
    )
    stop = stop_in_force(_oversight(e) for e in view.oversight)
    view.stop = next((e for e in view.oversight if stop and e.seq == stop.seq), None)
    view.status = version_status(
        store.policy,
        run_fact,
        facts,
        deployed=bool(view.deployments),
        retired=bool(view.retirements),
        stopped=view.stop is not None,
    )
    return view


def _decided(entry: Entry) -> str:
    payload = entry.statement.payload
    return str(payload.get("subject") or payload.get("run") or "")


def _subject(entry: Entry) -> RunFact:
    st = entry.statement
    return RunFact(entry.seq, entry.entry_hash, st.actor, st.kind, st.model, st.version)


def _oversight(entry: Entry) -> OversightFact:
    st = entry.statement
    return oversight_fact(entry.seq, entry.entry_hash, st.actor, st.reason, st.payload_json)


def _decision(entry: Entry) -> DecisionFact:
    st = entry.statement
    return decision_fact(entry.seq, entry.entry_hash, st.actor, st.kind, st.reason, st.payload_json)


def model_names(store: LedgerStore) -> list[str]:
    """Every model named in the ledger, sorted."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(entries.c.model).where(entries.c.model != "").group_by(entries.c.model)
        ).all()
    return sorted(str(r[0]) for r in rows)


def model_summary(store: LedgerStore, model: str) -> dict[str, object]:
    """A model's registration (latest) and each version's status."""
    found = model_entries(store, model)
    if not found:
        raise UnknownModelVersion(f"model {model!r} is not in the ledger")
    registration = [e for e in found if e.statement.kind == Kind.MODEL_REGISTERED]
    history = [
        {
            "seq": e.seq,
            "entry_hash": e.entry_hash.hex(),
            "actor": e.statement.actor,
            "recorded_at": e.recorded_at,
            "reason": e.statement.reason,
        }
        for e in registration
    ]
    versions = []
    for entry in found:
        if entry.statement.kind in RUN_KINDS:
            view = version_view(store, model, entry.statement.version, entries_of_model=found)
            versions.append(
                {
                    "version": view.version,
                    "status": view.status.value,
                    "logged_by": view.run.statement.actor,
                    "logged_at": view.run.recorded_at,
                    "kind": view.run.statement.kind,
                    "run_entry_hash": view.run.entry_hash.hex(),
                }
            )
    return {
        "model": model,
        "registration": registration[-1].statement.payload if registration else None,
        "registered_by": registration[0].statement.actor if registration else None,
        "registration_history": history,
        "retired": any(
            e.statement.kind == Kind.MODEL_RETIRED and not e.statement.version for e in found
        ),
        "versions": versions,
        "entries": len(found),
    }


def inventory(store: LedgerStore, *, today: date | None = None) -> list[InventoryRow]:
    """The model inventory (SR 26-2): one row per model in the ledger, registered or not,
    with its record in force (ledger.inventory) and each version's derived status."""
    day = today or datetime.now(UTC).date()
    rows = []
    for model in model_names(store):
        found = model_entries(store, model)
        versions = [
            (
                e.statement.version,
                version_view(
                    store, model, e.statement.version, entries_of_model=found
                ).status.value,
            )
            for e in found
            if e.statement.kind in RUN_KINDS
        ]
        retired = any(
            e.statement.kind == Kind.MODEL_RETIRED and not e.statement.version for e in found
        )
        rows.append(
            inventory_row(
                model, inventory_record(model, found), versions, retired=retired, today=day
            )
        )
    return rows
