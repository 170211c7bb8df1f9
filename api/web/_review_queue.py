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

from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.errors import FourEyesViolation, UnknownEntry
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
from ledger.log.kinds import Kind
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
class Subject:
    """What a decision is about: a version's run, or one of its reason catalogues, with
    the decisions on it and what the policy still needs (the view's own derivation)."""

    fact: RunFact
    decisions: list[DecisionFact]
    missing: list[str]
    label: str
    """In words: "version 1.0" or "reason catalogue rc-3 of version 1.0"."""
    recorded_at: str
    reason: str
    team_of: Callable[[str], str | None] | None = None
    """The policy's team rule for this subject (catalogues are counted without one, as
    `ledger.governance.catalogue_states` counts them)."""

    @property
    def hash(self) -> str:
        return self.fact.entry_hash.hex()

    @property
    def is_run(self) -> bool:
        return self.fact.kind != Kind.CATALOGUE_RECORDED.value


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One subject that waits for the reader's decision (or, built by them, for another's)."""

    model: str
    version: str
    what: str
    subject: str
    """The entry hash decided on; the version's run or a catalogue.recorded entry."""
    is_run: bool
    built_by: str
    logged_at: str
    reason: str
    """The builder's own words (the run's or the catalogue's reason)."""
    my_roles: tuple[str, ...]
    """The reader's roles in which a decision would count now (empty for the builder)."""
    still_needed: tuple[str, ...]
    built_by_me: bool


def _facts(entries: list[Entry]) -> list[DecisionFact]:
    return [
        decision_fact(
            e.seq,
            e.entry_hash,
            e.statement.actor,
            e.statement.kind,
            e.statement.reason,
            e.statement.payload_json,
        )
        for e in entries
    ]


def run_subject(view: VersionView) -> Subject:
    """The version's run as the subject of a decision."""
    run = view.run
    st = run.statement
    return Subject(
        RunFact(run.seq, run.entry_hash, st.actor, st.kind, view.model, view.version),
        _facts(view.decisions),
        list(view.missing_approvals),
        f"version {view.version}",
        run.recorded_at,
        st.reason,
        view.rules.team_of,
    )


def subjects(view: VersionView) -> list[Subject]:
    """What of the version may wait for a decision: its run while the version is only
    logged, and each reason catalogue still pending (a catalogue is in force, and used by
    adverse-action notices, only once approved)."""
    found = [run_subject(view)] if view.status is VersionStatus.LOGGED else []
    recorded = {e.entry_hash: e for e in view.catalogues}
    for state in view.catalogue_states:
        entry = recorded.get(state.entry_hash)
        if state.status != "pending" or entry is None:
            continue
        found.append(
            Subject(
                RunFact(
                    state.seq,
                    state.entry_hash,
                    state.actor,
                    Kind.CATALOGUE_RECORDED.value,
                    view.model,
                    view.version,
                ),
                _facts(view.catalogue_decisions),
                list(state.missing),
                f"reason catalogue {state.catalogue_version} of version {view.version}",
                entry.recorded_at,
                entry.statement.reason,
            )
        )
    return found


def subject_of(view: VersionView, subject: str) -> Subject:
    """The subject named by its entry hash (empty: the run); UnknownEntry if the version
    has no such subject waiting."""
    if not subject or subject == view.run.entry_hash.hex():
        return run_subject(view)
    for found in subjects(view):
        if found.hash == subject:
            return found
    raise UnknownEntry(
        f"{subject} is not a reason catalogue of {view.model} {view.version} that waits for "
        "a decision: open the version from the review queue"
    )


def is_builder(subject: Subject, name: str) -> bool:
    """True when `name` logged the version or recorded the catalogue, so cannot decide on
    it (the four-eyes rule, `ledger.governance.check_four_eyes`)."""
    try:
        check_four_eyes(subject.fact, name)
    except FourEyesViolation:
        return True
    return False


def _roles(view: VersionView, principal: Principal) -> list[str]:
    return [r for r in sorted(view.policy.required) if any(p.value == r for p in principal.roles)]


def _team(subject: Subject) -> dict[str, Callable[[str], str | None]]:
    return {} if subject.team_of is None else {"team_of": subject.team_of}


def deciding_roles(view: VersionView, subject: Subject, principal: Principal) -> list[str]:
    """The principal's roles in which an approval of the subject would count now."""
    return [
        role
        for role in _roles(view, principal)
        if approval_would_count(
            view.policy, subject.fact, subject.decisions, principal.name, role, **_team(subject)
        )
    ]


def queue_item(view: VersionView, subject: Subject, principal: Principal) -> QueueItem | None:
    """The subject as a queue row for `principal`, or None if it does not wait for them."""
    builder = is_builder(subject, principal.name)
    if builder:
        roles: list[str] = []
        if not any(
            role_needed(view.policy, subject.fact, subject.decisions, role, **_team(subject))
            for role in _roles(view, principal)
        ):
            return None
    else:
        roles = deciding_roles(view, subject, principal)
        if not roles:
            return None
    return QueueItem(
        model=view.model,
        version=view.version,
        what=subject.label,
        subject=subject.hash,
        is_run=subject.is_run,
        built_by=subject.fact.actor,
        logged_at=subject.recorded_at,
        reason=subject.reason,
        my_roles=tuple(roles),
        still_needed=tuple(subject.missing),
        built_by_me=builder,
    )


def review_queue(store: LedgerStore, principal: Principal) -> list[QueueItem]:
    """Every version waiting for `principal`'s decision (theirs marked), oldest first."""
    items: list[QueueItem] = []
    for model in model_names(store):
        listed = model_summary(store, model).get("versions")
        for row in listed if isinstance(listed, list) else []:
            view = core_version_view(store, model, str(row["version"]))
            for subject in subjects(view):
                item = queue_item(view, subject, principal)
                if item is not None:
                    items.append(item)
    return sorted(items, key=lambda i: (i.built_by_me, i.logged_at, i.model, i.version))


@dataclass
class ReviewEvidence:
    """What a reviewer reads before deciding, besides the card itself."""

    view: VersionView
    subject: Subject
    builder: bool
    roles: list[str]
    regime_gaps: dict[str, list[str]] = field(default_factory=dict)
    """Each regime checklist's title to the titles of its items that are gaps."""
    open_breaches: list[str] = field(default_factory=list)
    champion: str | None = None
    """The version serving in the policy's environment now, to compare with."""
    champion_differences: int = 0
    """How many things differ from the champion (`reports.version_diff`)."""
    decisions: list[Entry] = field(default_factory=list)
    """The decisions on the subject so far."""


_UNDECIDABLE = (VersionStatus.DEPLOYED, VersionStatus.REPLACED, VersionStatus.RETIRED)


def review_evidence(
    store: LedgerStore, model: str, version: str, principal: Principal, subject: str = ""
) -> ReviewEvidence:
    """The review page's evidence for `principal` on the version's run or on the catalogue
    `subject` (UnknownModelVersion if never logged, UnknownEntry for another subject)."""
    from reports.regulatory import evaluate
    from reports.regulatory.regimes import known_regimes, load_regime

    view = core_version_view(store, model, version)
    decided = subject_of(view, subject)
    on_subject = view.decisions if decided.is_run else view.catalogue_decisions
    open_to_decide = not decided.is_run or view.status not in _UNDECIDABLE
    evidence = ReviewEvidence(
        view=view,
        subject=decided,
        builder=is_builder(decided, principal.name),
        roles=deciding_roles(view, decided, principal) if open_to_decide else [],
        decisions=[
            e
            for e in on_subject
            if (e.statement.payload.get("subject") or e.statement.payload.get("run"))
            == decided.hash
        ],
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
        from reports.version_diff import version_diff

        evidence.champion = champion.version
        evidence.champion_differences = len(
            version_diff(store, model, champion.version, version).differences
        )
    return evidence


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where a subject stands after a decision, as the view derives it."""

    label: str
    missing: list[str]
    status: str
    """"logged", "approved", "rejected"... for a run; "pending", "approved", "rejected" for a
    catalogue."""
    is_run: bool


def decision_outcome(view: VersionView, subject: str) -> Outcome:
    """What the policy still needs on the subject decided, and its status."""
    for state in view.catalogue_states:
        if state.entry_hash.hex() == subject:
            label = f"reason catalogue {state.catalogue_version} of version {view.version}"
            return Outcome(label, list(state.missing), state.status, False)
    return Outcome(f"version {view.version}", list(view.missing_approvals), view.status.value, True)
