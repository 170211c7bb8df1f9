"""What waits for a reviewer's decision, and the evidence a review page shows, as plain data.

The queue asks the policy module, never a rule of its own: a version is waiting for the
signed-in person when an approval by them, in a role they hold, would count toward the
policy now (`ledger.governance.approval_would_count`, which runs `approvals_missing`
itself). The builder of a version (four eyes, `ledger.governance.check_four_eyes`) sees it
marked instead when the policy still needs one of their roles from someone else
(`ledger.governance.role_needed`), so they know why it waits and that it is not theirs to
decide. The evidence (regime checklists' gaps, open monitoring breaches, the version
serving now to compare with) is what `govledger approve` prints before signing
(`api.cli._approval_review`), read from the same core functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.errors import FourEyesViolation
from ledger.governance import (
    DecisionFact,
    Principal,
    RunFact,
    VersionStatus,
    approval_would_count,
    check_four_eyes,
    decision_fact,
    role_needed,
)
from ledger.log.entries import Entry
from ledger.store import (
    LedgerStore,
    VersionView,
    model_entries,
    model_names,
    model_serving,
    model_summary,
)
from ledger.store import version_view as core_version_view


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One version that waits for the reader's decision (or, built by them, for another's)."""

    model: str
    version: str
    built_by: str
    logged_at: str
    reason: str
    """The builder's own words for the version (the run's reason)."""
    my_roles: tuple[str, ...]
    """The reader's roles in which a decision would count now (empty for the builder)."""
    still_needed: tuple[str, ...]
    built_by_me: bool


def _run_fact(view: VersionView) -> RunFact:
    run = view.run
    st = run.statement
    return RunFact(run.seq, run.entry_hash, st.actor, st.kind, view.model, view.version)


def _decisions(view: VersionView) -> list[DecisionFact]:
    return [
        decision_fact(
            e.seq,
            e.entry_hash,
            e.statement.actor,
            e.statement.kind,
            e.statement.reason,
            e.statement.payload_json,
        )
        for e in view.decisions
    ]


def is_builder(view: VersionView, name: str) -> bool:
    """True when `name` logged the version, so cannot decide on it (the four-eyes rule)."""
    try:
        check_four_eyes(_run_fact(view), name)
    except FourEyesViolation:
        return True
    return False


def deciding_roles(view: VersionView, principal: Principal) -> list[str]:
    """The principal's roles in which an approval of this version would count now."""
    if view.status is not VersionStatus.LOGGED:
        return []
    run, decisions = _run_fact(view), _decisions(view)
    return [
        role
        for role in sorted(view.policy.required)
        if any(r.value == role for r in principal.roles)
        and approval_would_count(
            view.policy, run, decisions, principal.name, role, view.rules.team_of
        )
    ]


def _roles_needed_from_others(view: VersionView, principal: Principal) -> list[str]:
    run, decisions = _run_fact(view), _decisions(view)
    return [
        role
        for role in sorted(view.policy.required)
        if any(r.value == role for r in principal.roles)
        and role_needed(view.policy, run, decisions, role, view.rules.team_of)
    ]


def queue_item(view: VersionView, principal: Principal) -> QueueItem | None:
    """The version as a queue row for `principal`, or None if it does not wait for them."""
    if view.status is not VersionStatus.LOGGED:
        return None
    builder = is_builder(view, principal.name)
    roles = [] if builder else deciding_roles(view, principal)
    if builder and not _roles_needed_from_others(view, principal):
        return None
    if not builder and not roles:
        return None
    return QueueItem(
        model=view.model,
        version=view.version,
        built_by=view.run.statement.actor,
        logged_at=view.run.recorded_at,
        reason=view.run.statement.reason,
        my_roles=tuple(roles),
        still_needed=tuple(view.missing_approvals),
        built_by_me=builder,
    )


def review_queue(store: LedgerStore, principal: Principal) -> list[QueueItem]:
    """Every version waiting for `principal`'s decision (theirs marked), oldest first."""
    items: list[QueueItem] = []
    for model in model_names(store):
        listed = model_summary(store, model).get("versions")
        for row in listed if isinstance(listed, list) else []:
            view = core_version_view(store, model, str(row["version"]))
            item = queue_item(view, principal)
            if item is not None:
                items.append(item)
    return sorted(items, key=lambda i: (i.built_by_me, i.logged_at, i.model, i.version))


@dataclass
class ReviewEvidence:
    """What a reviewer reads before deciding, besides the card itself."""

    view: VersionView
    builder: bool
    roles: list[str]
    regime_gaps: dict[str, list[str]] = field(default_factory=dict)
    """Each regime checklist's title to the titles of its items that are gaps."""
    open_breaches: list[str] = field(default_factory=list)
    champion: str | None = None
    """The version serving in the policy's environment now, to compare with."""
    decisions: list[Entry] = field(default_factory=list)


def review_evidence(
    store: LedgerStore, model: str, version: str, principal: Principal
) -> ReviewEvidence:
    """The review page's evidence for `principal` (UnknownModelVersion if never logged)."""
    from reports.regulatory import evaluate
    from reports.regulatory.regimes import known_regimes, load_regime

    view = core_version_view(store, model, version)
    evidence = ReviewEvidence(
        view=view,
        builder=is_builder(view, principal.name),
        roles=deciding_roles(view, principal),
        decisions=list(view.decisions),
    )
    family = model_entries(store, model)
    for regime in known_regimes():
        checklist = load_regime(regime)
        check = evaluate(checklist, view, family, view.policy)
        evidence.regime_gaps[checklist.title] = [item.title for item in check.gaps]
    for state in view.monitoring:
        for breach in state.breaches:
            if not breach.answered:
                measures = ", ".join(breach.report.red) or "a measure"
                evidence.open_breaches.append(
                    f"{state.environment}: {measures} red in the report for "
                    f"{breach.report.period_start} to {breach.report.period_end}, "
                    f"to be answered by {breach.due}"
                )
    champion = model_serving(store, model).champion(view.environment)
    if champion is not None and champion.version != version:
        evidence.champion = champion.version
    return evidence
