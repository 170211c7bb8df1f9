"""The model inventory (SR 26-2): each model's registration, changed only by new entries.

A model enters the inventory with `model.registered` (owner, users, intended use, materiality
tier, the model / non-model decision, validation status, next review date). A later
`model.registered` for the same model is an *amendment*: it replaces the whole record (the
latest registration wins, so an amendment repeats every field it keeps), it must say why
(`reason`), and the earlier registrations stay in the ledger as the record's history.

Materiality tiers are configuration (GOVLEDGER_MATERIALITY_TIERS, default low / medium /
high, `ApprovalPolicy.materiality_tiers`): a registration naming another tier is refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.errors import MissingReason, ModelNotRegistered, UnknownMaterialityTier
from ledger.governance._policy import ApprovalPolicy
from ledger.log.entries import Entry, Statement
from ledger.log.kinds import Kind


def check_registration(
    statement: Statement, policy: ApprovalPolicy, *, registered_at_seq: int | None
) -> None:
    """Refuse an unknown materiality tier, and an amendment that does not say why."""
    tier = statement.payload.get("materiality_tier")
    tiers = policy.materiality_tiers
    if tier is not None and tiers and tier not in tiers:
        raise UnknownMaterialityTier(
            f"materiality tier {tier!r} is not one of the configured tiers "
            f"({', '.join(tiers)}; GOVLEDGER_MATERIALITY_TIERS)"
        )
    if registered_at_seq is not None and not statement.reason.strip():
        raise MissingReason(
            f"model {statement.model} is already in the inventory (registered at seq "
            f"{registered_at_seq}): an amendment replaces its record and must say why (reason)"
        )


ALLOW_UNREGISTERED = "allow_unregistered"
"""The run payload field by which a user asks, knowingly, to log a run for a model the
inventory does not hold; kept in the entry, so the record says it was asked."""


def check_run_registered(
    statement: Statement,
    *,
    registered_at_seq: int | None,
    registered_models: Callable[[], Iterable[str]],
) -> None:
    """Refuse a user's run for a model with no `model.registered` entry, unless the run asks
    for it (`allow_unregistered`): a typo in a model name would otherwise start a new model
    that is in no inventory (SR 26-2 expects every model in use to be inventoried).

    `registered_models` is called only to word the refusal (the closest names, by
    `difflib`), so an admitted run costs one indexed look-up."""
    if registered_at_seq is not None or statement.payload.get(ALLOW_UNREGISTERED) is True:
        return
    raise ModelNotRegistered(unregistered_problem(statement.model, registered_models()))


def unregistered_problem(model: str, registered: Iterable[str]) -> str:
    """What a refused run for an unregistered model is told: the closest registered names
    and the two ways on."""
    names = sorted(set(registered))
    close = difflib.get_close_matches(model, names, n=3, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(model.lower(), names, n=3, cutoff=0.4)
    hint = f"did you mean {', '.join(repr(n) for n in close)}? " if close else ""
    return (
        f"model {model!r} is not registered: {hint}register it first "
        "(LedgerClient.register_model, POST /v1/models), or log the run anyway with "
        "allow_unregistered=True (the API field allow_unregistered, "
        "govledger log --allow-unregistered)"
    )


@dataclass
class InventoryRecord:
    """A model's inventory record: the latest registration, and every registration."""

    model: str
    record: dict[str, Any]
    history: list[Entry]

    @property
    def registered(self) -> Entry:
        """The first registration (who put the model in the inventory, and when)."""
        return self.history[0]

    @property
    def latest(self) -> Entry:
        """The registration in force (the latest)."""
        return self.history[-1]

    @property
    def amendments(self) -> list[Entry]:
        """Every registration after the first, oldest first."""
        return self.history[1:]


def inventory_record(model: str, entries: Iterable[Entry]) -> InventoryRecord | None:
    """The inventory record from a model's entries (None if it was never registered)."""
    history = [e for e in entries if e.statement.kind == Kind.MODEL_REGISTERED.value]
    if not history:
        return None
    history.sort(key=lambda e: e.seq)
    return InventoryRecord(model, history[-1].statement.payload, history)


def review_overdue(next_review: Any, today: date) -> bool:
    """True when `next_review` is an ISO date before today (other text is never overdue)."""
    try:
        return date.fromisoformat(str(next_review)[:10]) < today
    except ValueError:
        return False


_ATTENTION = ("monitoring overdue", "under review")


@dataclass
class InventoryRow:
    """One model in the inventory report (all models, registered or not)."""

    model: str
    registered: bool
    owner: str | None = None
    users: list[str] = field(default_factory=list)
    description: str = ""
    decision: str = ""
    intended_use: str = ""
    out_of_scope_uses: list[str] = field(default_factory=list)
    materiality_tier: str | None = None
    is_model: bool | None = None
    validation_status: str | None = None
    next_review: str | None = None
    review_overdue: bool = False
    registered_by: str | None = None
    registered_at: str | None = None
    amended_by: str | None = None
    amended_at: str | None = None
    amendment_reason: str = ""
    amendments: int = 0
    registration_hash: str | None = None
    registration_seq: int | None = None
    versions: list[tuple[str, str]] = field(default_factory=list)
    retired: bool = False
    monitoring: list[tuple[str, str, str]] = field(default_factory=list)
    """(version, environment, status) where monitoring needs attention now: `monitoring
    overdue` (a report missed at the plan's cadence, a breach unanswered past its due date)
    or `under review` (a breach awaiting its answer) (SR 26-2 ongoing monitoring)."""

    @property
    def monitoring_flag(self) -> str:
        """`monitoring overdue`, `under review` or '' for the model as a whole."""
        statuses = {s for _, _, s in self.monitoring}
        return next((s for s in ("monitoring overdue", "under review") if s in statuses), "")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        data = dict(self.__dict__)
        data["versions"] = [{"version": v, "status": s} for v, s in self.versions]
        data["monitoring"] = [
            {"version": v, "environment": e, "status": s} for v, e, s in self.monitoring
        ]
        data["monitoring_flag"] = self.monitoring_flag
        return data


def inventory_row(
    model: str, record: InventoryRecord | None, versions: list[tuple[str, str]], *, retired: bool,
    today: date, monitoring: list[tuple[str, str, str]] | None = None,
) -> InventoryRow:  # fmt: skip
    """An inventory row from a model's record, its versions' statuses and where their
    monitoring needs attention."""
    row = InventoryRow(model, registered=record is not None, versions=versions, retired=retired,
                       monitoring=[m for m in monitoring or [] if m[2] in _ATTENTION])  # fmt: skip
    if record is None:
        return row
    p = record.record
    row.owner = p.get("owner")
    row.users = [str(u) for u in p.get("users") or []]
    row.description = str(p.get("description", ""))
    row.decision = str(p.get("decision", ""))
    row.intended_use = str(p.get("intended_use", ""))
    row.out_of_scope_uses = [str(u) for u in p.get("out_of_scope_uses") or []]
    row.materiality_tier = p.get("materiality_tier")
    row.is_model = bool(p.get("is_model", True))
    row.validation_status = p.get("validation_status")
    row.next_review = p.get("next_review")
    row.review_overdue = row.next_review is not None and review_overdue(row.next_review, today)
    row.registered_by = record.registered.statement.actor
    row.registered_at = record.registered.recorded_at
    row.amendments = len(record.amendments)
    if record.amendments:
        row.amended_by = record.latest.statement.actor
        row.amended_at = record.latest.recorded_at
        row.amendment_reason = record.latest.statement.reason
    row.registration_hash = record.latest.entry_hash.hex()
    row.registration_seq = record.latest.seq
    return row
