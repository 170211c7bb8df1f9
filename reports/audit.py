"""Assemble an audit report for a time range: activity, decisions, refusals, keys, proofs.

For compliance officers: every entry recorded in [since, until) grouped by model; approvals
and rejections with their reasons and re-checked signatures; refused requests (attempted
four-eyes and policy violations, which the service logs as `request.refused`); the
promotions of the period (who, why, where, bound to which model file, which version each
replaced, rollbacks marked: the serving fold, `ledger.governance._serving`); the period's
monitoring (plans recorded and approved, reports with amber or red measures, each breach
with who answered it, how and why: `reports.monitoring`); key
registrations and revocations; the access changes of the period and the approval policies in
force at its end (`reports.rules`); the result of verifying the whole ledger with the current
signed checkpoint; and, given the checkpoint of the previous audit, a consistency proof that
the ledger then is a prefix of the ledger now (nothing was rewritten or removed since).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ledger.errors import CheckpointInvalid, InvalidStatement
from ledger.governance import RulesState
from ledger.log import merkle, time_bounds
from ledger.log.checkpoint import verify_checkpoint
from ledger.log.entries import Entry
from ledger.log.kinds import DECISION_KINDS, Kind
from ledger.log.timestamps import format_rfc3339
from ledger.store import (
    ArtifactStore,
    EntryFilter,
    LedgerStore,
    model_serving,
    witnessed_checkpoint,
)
from ledger.verify import Failed, Problem, Subject, VerificationReport, verify_ledger
from reports.limits import clip
from reports.monitoring import PeriodMonitoring, period_monitoring
from reports.rules import (
    AccessChange,
    PolicyRow,
    access_changes,
    is_rule_kind,
    policies_awaiting,
    policies_in_force,
    rule_summary,
)
from reports.scoring import ScoringRow, period_scoring
from reports.signatures import KeyBook, all_entries

LEDGER_WIDE = "(ledger-wide: keys, access, policies, notes)"


@dataclass
class AuditEntry:
    """One entry in the range, as a row of the activity table."""

    seq: int
    kind: str
    model: str
    version: str
    actor: str
    recorded_at: str
    reason: str
    summary: str
    entry_hash: str
    signed: bool
    signature_status: str
    signature_ok: bool


@dataclass
class PromotionRow:
    """A promotion of the period: where, by whom, why, bound to which file, what it ended."""

    seq: int
    model: str
    version: str
    environment: str
    actor: str
    recorded_at: str
    reason: str
    rollback: bool
    model_sha256: str | None
    """None: the promotion names no model file (recorded before promotions named one)."""
    replaced: list[str]
    """'1.0 (serving since seq 7)' for each version whose tenure this promotion ended."""
    entry_hash: str


@dataclass
class ModelActivity:
    """The entries about one model (or about no model) in the range."""

    model: str
    entries: list[AuditEntry]
    counts: dict[str, int]


@dataclass
class AuditReport:
    """Everything the audit report shows."""

    origin: str
    verifier_key: str
    since: str
    until: str
    """The exclusive end, or "" when the period runs to the end of the calendar."""
    generated_at: str
    checkpoint_note: str
    checkpoint_size: int
    checkpoint_root: str
    total_entries: int
    models: list[ModelActivity]
    decisions: list[AuditEntry]
    refusals: list[AuditEntry]
    keys: list[AuditEntry]
    oversight: list[AuditEntry]
    """Human oversight records (EU AI Act Art. 14): measures, overrides, stops, resumes."""
    promotions: list[PromotionRow]
    """Every `deployment.promoted` of the period with the versions it replaced."""
    verification: VerificationReport
    """`ledger.verify.verify_ledger` over the whole ledger, with the checkpoint it matched."""
    consistency: VerificationReport | None
    """Whether the previous audit's checkpoint (`consistency.checkpoint`) and the current one
    (`consistency.size`, `consistency.root`) are one history; None when none was given."""
    consistency_proof: list[str] = field(default_factory=list)
    """The RFC 9162 consistency proof between them (hex), when one was computed."""
    previous_checkpoint: str = ""
    """The previous audit's signed checkpoint, as given."""
    access_changes: list[AccessChange] = field(default_factory=list)
    """Every access change (`access.*`) in the period (ISO/IEC 27001 A.5.18)."""
    policies: list[PolicyRow] = field(default_factory=list)
    """The approval policies in force at the end of the period, by scope."""
    policies_awaiting: list[PolicyRow] = field(default_factory=list)
    """Policies proposed in the period and not approved by its end."""
    monitoring: PeriodMonitoring = field(default_factory=PeriodMonitoring)
    scoring: list[ScoringRow] = field(default_factory=list)
    """Credit decisions of the period per model version and environment."""
    """The period's monitoring plans and decisions on them, its amber and red reports, and
    the answers to its breaches (`reports.monitoring.period_monitoring`)."""
    configured_policy: str = ""
    """The configured policy (GOVLEDGER_APPROVAL_POLICY), which applies to a tier and
    environment for which the ledger records no policy."""

    @property
    def ok(self) -> bool:
        """True when the ledger verifies and the consistency proof (if asked for) holds."""
        return self.verification.ok and (self.consistency is None or self.consistency.ok)


def time_bound(value: str | date | datetime, *, end: bool) -> str | None:
    """An RFC 3339 UTC bound from a date or time (`ledger.time_bounds.time_bound`).

    A bare date as `since` means its first instant; as `until` (exclusive) the first instant
    of the next day, so `--until 2026-11-30` includes the whole of 30 November; `--until
    9999-12-31` leaves the period open at the end (None).
    """
    return time_bounds.time_bound(value, "until" if end else "since", end=end)


def _describe(entry: Entry, rules: RulesState) -> str:
    st = entry.statement
    p: dict[str, Any] = st.payload
    kind = st.kind
    if is_rule_kind(kind):
        return rule_summary(st, rules)
    if kind in (Kind.RUN_TRAINING.value, Kind.RUN_RECALIBRATION.value):
        parts = [str(p.get(k)) for k in ("algorithm", "run_id", "code_revision") if p.get(k)]
        return ", ".join(parts)
    if kind == Kind.EVALUATION_RECORDED.value:
        return f"{p.get('evaluation', '')} ({len(p.get('artifacts') or [])} artifacts)"
    if kind in (Kind.APPROVAL_GRANTED.value, Kind.APPROVAL_REJECTED.value):
        subject = f", on entry {str(p['subject'])[:12]}…" if p.get("subject") else ""
        return f"as {p.get('role', '')}{subject}"
    if kind == Kind.CATALOGUE_RECORDED.value:
        reasons = len(p.get("entries") or [])
        return f"reason catalogue {p.get('catalogue_version', '')} ({reasons} reasons)"
    if kind == Kind.OVERSIGHT_RECORDED.value:
        return oversight_summary(p)
    if kind == Kind.DEPLOYMENT_PROMOTED.value:
        return f"to {p.get('environment', '')}"
    if kind in (Kind.KEY_REGISTERED.value, Kind.KEY_REVOKED.value):
        return f"key {p.get('key_id', '')}"
    if kind == Kind.REQUEST_REFUSED.value:
        return f"{p.get('attempted_kind', '')}: {p.get('problem', '')}"
    if kind == Kind.NOTE.value:
        return str(p.get("text", ""))[:200]
    if kind == Kind.MODEL_REGISTERED.value:
        return str(p.get("owner") or p.get("description") or "")[:200]
    return ""


def oversight_summary(payload: dict[str, Any]) -> str:
    """An oversight record in one line: the action and which decisions it covers."""
    scope = payload.get("decisions") or {}
    ids = [str(i) for i in scope.get("application_ids") or []]
    parts = [str(payload.get("action", ""))]
    if ids:
        parts.append(f"applications {', '.join(ids[:10])}" + (" …" if len(ids) > 10 else ""))
    if scope.get("since") or scope.get("until"):
        parts.append(f"decisions {scope.get('since') or '…'} to {scope.get('until') or '…'}")
    if payload.get("outcome"):
        parts.append(f"outcome {payload['outcome']}")
    if payload.get("assigned_to"):
        parts.append(f"assigned {', '.join(str(a) for a in payload['assigned_to'])}")
    return "; ".join(parts)


def _row(entry: Entry, keys: KeyBook, rules: RulesState) -> AuditEntry:
    st = entry.statement
    check = keys.check(entry)
    return AuditEntry(
        seq=entry.seq,
        kind=st.kind,
        model=st.model,
        version=st.version,
        actor=st.actor,
        recorded_at=entry.recorded_at,
        reason=clip(st.reason, where=f"the entry at seq {entry.seq}"),
        summary=clip(_describe(entry, rules), 500),
        entry_hash=entry.entry_hash.hex(),
        signed=entry.signature is not None,
        signature_status=check.label,
        signature_ok=check.ok,
    )


def promotion_rows(store: LedgerStore, period: list[Entry]) -> list[PromotionRow]:
    """The period's promotions, each with the versions it replaced in its environment
    (the tenures it ended in the model's serving history)."""
    histories = {}
    rows = []
    for entry in period:
        st = entry.statement
        if st.kind != Kind.DEPLOYMENT_PROMOTED.value:
            continue
        if st.model not in histories:
            histories[st.model] = model_serving(store, st.model)
        tenures = histories[st.model].tenures()
        ended = [t for t in tenures if t.ended_by and t.ended_by.entry_hash == entry.entry_hash]
        mine = next((t for t in tenures if t.promotion.entry_hash == entry.entry_hash), None)
        p = st.payload
        digest = p.get("model_sha256")
        rows.append(
            PromotionRow(
                seq=entry.seq,
                model=st.model,
                version=st.version,
                environment=mine.environment if mine else str(p.get("environment", "")),
                actor=st.actor,
                recorded_at=entry.recorded_at,
                reason=clip(st.reason, where=f"the entry at seq {entry.seq}"),
                rollback=bool(p.get("rollback", False)),
                model_sha256=None if digest is None else str(digest),
                replaced=[f"{t.version} (serving since seq {t.since_seq})" for t in ended],
                entry_hash=entry.entry_hash.hex(),
            )
        )
    return rows


def check_consistency(
    store: LedgerStore, previous_note: str, new_size: int, new_root: bytes
) -> tuple[VerificationReport, list[str]]:
    """Verify the previous checkpoint's signature and a consistency proof to the new one:
    the report (subject `checkpoints`) and the proof's hashes (hex)."""
    facts: dict[str, Any] = {"size": new_size, "root": new_root}
    try:
        old = verify_checkpoint(previous_note, store.meta()["verifier_key"])
    except CheckpointInvalid as exc:
        failed = Failed(Problem.CHECKPOINT_INVALID, f"previous checkpoint rejected: {exc.message}")
        return VerificationReport.failure(Subject.CHECKPOINTS, failed, **facts), []
    facts.update(checkpoint=old, entries_after_checkpoint=new_size - old.size)
    if old.size > new_size:
        failed = Failed(
            Problem.TRUNCATED,
            f"the previous audit saw {old.size} entries but the ledger now has "
            f"{new_size}: entries were removed",
        )
        return VerificationReport.failure(Subject.CHECKPOINTS, failed, **facts), []
    proof = store.consistency_proof(old.size, new_size)
    hashes = [h.hex() for h in proof.proof]
    if not merkle.verify_consistency(old.size, new_size, old.root, new_root, proof.proof):
        failed = Failed(
            Problem.CHECKPOINT_CONFLICT,
            "the consistency proof does not verify: the history the previous "
            "audit saw was rewritten",
        )
        return VerificationReport.failure(Subject.CHECKPOINTS, failed, **facts), hashes
    note = (
        f"the ledger of {old.size} entries seen by the previous audit is a "
        f"prefix of the ledger of {new_size} entries: nothing was rewritten"
    )
    return VerificationReport(subject=Subject.CHECKPOINTS, ok=True, notes=(note,), **facts), hashes


def build_audit(
    store: LedgerStore,
    artifacts: ArtifactStore | None,
    since: str | date | datetime,
    until: str | date | datetime,
    previous_checkpoint: str | None,
) -> AuditReport:
    """The audit report of entries recorded in [since, until)."""
    start, end = time_bound(since, end=False) or "", time_bound(until, end=True)
    if end is not None and start >= end:
        raise InvalidStatement(f"the range is empty: since {start} is not before until {end}")
    checkpoint = witnessed_checkpoint(store, covers=store.size())
    report = verify_ledger(store, artifact_store=artifacts)
    consistency, proof = (
        (None, [])
        if previous_checkpoint is None
        else check_consistency(store, previous_checkpoint, checkpoint.size, checkpoint.root)
    )
    keys = KeyBook.from_store(store)
    first, stop = store.seq_range(start or None, end)
    now = store.rules()
    at_end = now if now.upto < stop else store.rules(before=stop)
    period = all_entries(store, EntryFilter(since=start, until=end))
    rows = [_row(e, keys, at_end) for e in period]
    by_model: dict[str, list[AuditEntry]] = {}
    for row in rows:
        by_model.setdefault(row.model or LEDGER_WIDE, []).append(row)
    models = []
    for name in sorted(by_model, key=lambda n: (n == LEDGER_WIDE, n)):
        counts: dict[str, int] = {}
        for row in by_model[name]:
            counts[row.kind] = counts.get(row.kind, 0) + 1
        models.append(ModelActivity(name, by_model[name], counts))
    decision_kinds = {k.value for k in DECISION_KINDS}
    key_kinds = {Kind.KEY_REGISTERED.value, Kind.KEY_REVOKED.value}
    return AuditReport(
        origin=store.origin,
        verifier_key=store.meta().get("verifier_key", ""),
        since=start,
        until=end or "",
        generated_at=format_rfc3339(datetime.now(UTC)),
        checkpoint_note=checkpoint.note,
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root.hex(),
        total_entries=len(rows),
        models=models,
        decisions=[r for r in rows if r.kind in decision_kinds],
        refusals=[r for r in rows if r.kind == Kind.REQUEST_REFUSED.value],
        keys=[r for r in rows if r.kind in key_kinds],
        oversight=[r for r in rows if r.kind == Kind.OVERSIGHT_RECORDED.value],
        promotions=promotion_rows(store, period),
        verification=report,
        consistency=consistency,
        consistency_proof=proof,
        previous_checkpoint=previous_checkpoint or "",
        access_changes=access_changes(period, at_end),
        policies=policies_in_force(at_end),
        policies_awaiting=policies_awaiting(at_end, first, stop, now=now),
        configured_policy=store.policy.describe(),
        monitoring=period_monitoring(store, period),
        scoring=period_scoring(store, period),
    )
