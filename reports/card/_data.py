"""Assemble a model card for one model version from the ledger and the artifact store.

`build_card` reads the version's entries (`ledger.registry.version_view`), the model's
registration, the run's lineage, the latest evaluation of each kind, every decision (with
its signature re-checked against the registered key), deployments, retirements and refused
requests, and the approval policy the deployment satisfied with the entries that put it in
force (`reports.card._policy`), then signs a checkpoint covering all of them. Every number on
the card is in one of the cited entries or in an artifact whose digest a cited entry holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ledger.governance import COMPARISON_EVALUATION
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.log.timestamps import format_rfc3339
from ledger.store import (
    ArtifactStore,
    LedgerStore,
    model_entries,
    version_view,
    witnessed_checkpoint,
)
from reports.card._changes import changes_section
from reports.card._curves import training_curves
from reports.card._evaluations import (
    READERS,
    GenericEvaluation,
    PerformanceSection,
    StabilitySection,
    latest_by_kind,
    read_generic,
)
from reports.card._fairness_section import FairnessSection
from reports.card._model import (
    Approval,
    Dataset,
    Event,
    Evidence,
    Headline,
    LineageStep,
    ModelCard,
    Registration,
    RunDetails,
)
from reports.card._monitoring import monitoring_section
from reports.card._policy import card_policy
from reports.card._regulatory import (
    catalogue_section,
    mapping_section,
    oversight_section,
    regime_checks,
)
from reports.card._reproducibility import reproducibility_section
from reports.card._serving import serving_section
from reports.citations import EntryRef, cite
from reports.limits import (
    MAX_DATASETS,
    MAX_DECISIONS,
    MAX_EVENTS,
    MAX_METRICS,
    MAX_OPEN_ISSUES,
    MAX_OTHER_EVALUATIONS,
    MAX_PARAMS,
    clip,
    first_sorted,
    latest,
    more_line,
)
from reports.signatures import KeyBook

MAX_LINEAGE = 50
MAX_USERS = 50
MAX_OUT_OF_SCOPE = 20
MAX_CONDITIONS = 10
Cite = Callable[[Entry, str], EntryRef]
"""Records that the card cites an entry (and why) and returns the reference."""


def build_card(
    store: LedgerStore, artifacts: ArtifactStore | None, model: str, version: str
) -> ModelCard:
    """The model card of `model` `version`; UnknownModelVersion if it was never logged."""
    view = version_view(store, model, version)
    entries = model_entries(store, model)
    checkpoint = witnessed_checkpoint(store, covers=entries[-1].seq + 1 if entries else 0)
    family = [e for e in entries if e.seq < checkpoint.size]
    cited: dict[int, EntryRef] = {}

    def use(entry: Entry, why: str) -> EntryRef:
        ref = cite(entry, why)
        cited.setdefault(entry.seq, ref)
        return ref

    registration = registration_of(family, use)
    run = _run(view.run, use)
    lineage = _lineage(store, view.run, family, use)
    sections: dict[str, Any] = {}
    others: list[GenericEvaluation] = []
    for name, entry in latest_by_kind(view.evaluations).items():
        if name == COMPARISON_EVALUATION:  # stated with the serving (`_serving`)
            continue
        reader = READERS.get(name)
        if reader is None:
            others.append(read_generic(entry, artifacts))
            use(entry, others[-1].entry.why)
        else:
            sections[name] = reader(entry, artifacts)
            use(entry, sections[name].entry.why)
    more: dict[str, str] = {}
    if len(others) > MAX_OTHER_EVALUATIONS:
        more["other_evaluations"] = more_line(
            len(others) - MAX_OTHER_EVALUATIONS,
            "other evaluations",
            MAX_OTHER_EVALUATIONS,
            "their evaluation.recorded entries",
        )
        others = others[:MAX_OTHER_EVALUATIONS]
    keys = KeyBook.from_store(store, max_seq=checkpoint.size)
    all_approvals = [_approval(e, view.run, keys, use) for e in view.decisions]
    approvals, hidden = latest(all_approvals, MAX_DECISIONS)
    if hidden:
        more["approvals"] = more_line(
            hidden, "decisions (latest shown)", len(approvals), "their approval entries"
        )
    events: dict[str, list[Event]] = {}
    for name, found, why in (
        ("deployments", view.deployments, "deployment"),
        ("retirements", view.retirements, "retirement"),
        ("refusals", view.refusals, "refused request"),
        ("notes", view.notes, "note"),
    ):
        shown, hidden = latest(found, MAX_EVENTS)
        events[name] = [_event(e, why, use) for e in shown]
        if hidden:
            more[name] = more_line(hidden, f"{name} (latest shown)", len(shown), "the ledger")
    deployments, retirements = events["deployments"], events["retirements"]
    refusals, notes = events["refusals"], events["notes"]
    made_at = datetime.now(UTC)
    card = ModelCard(
        model=model,
        version=version,
        generated_at=format_rfc3339(made_at),
        status=view.status.value,
        policy=view.policy.describe() if view.policy_fact is None else view.policy_fact.describe(),
        missing_approvals=list(view.missing_approvals),
        headline=Headline("", view.status.value, "", "", [], []),
        registration=registration,
        run=run,
        lineage=lineage,
        datasets=_datasets(view.run, sections, others, more),
        performance=sections.get("performance"),
        explanation=sections.get("explanation"),
        reason_codes=sections.get("reason_codes"),
        fairness=sections.get("fairness"),
        stability=sections.get("stability"),
        other_evaluations=others,
        approvals=approvals,
        deployments=deployments,
        retirements=retirements,
        refusals=refusals,
        notes=notes,
        evidence=Evidence(
            origin=store.origin,
            verifier_key=store.meta().get("verifier_key", ""),
            checkpoint_note=checkpoint.note,
            checkpoint_size=checkpoint.size,
            checkpoint_root=checkpoint.root.hex(),
            cited=[],
        ),
        approval_policy=card_policy(store, view, use, max_seq=checkpoint.size),
        more=more,
        serving=serving_section(
            family, model, version, view.run, use, store.policy.shadow_environments
        ),
        monitoring=monitoring_section(view.monitoring, view.tenures, family, use, made_at),
    )
    proven = version_view(store, model, version, entries_of_model=family)
    checks = regime_checks(proven, family, proven.policy, now=made_at)
    card.extra_sections += [
        oversight_section(proven),
        catalogue_section(proven),
        mapping_section(checks),
    ]
    for section in (reproducibility_section(proven.run), changes_section(store, proven, family)):
        if section is not None:  # after the mapping: the sections before it keep their numbers
            card.extra_sections.append(section)
    card.headline = _headline(card, all_approvals)
    if proven.stop is not None:
        stop = proven.stop.statement
        card.headline.open_issues.insert(0, f"Stopped by {stop.actor}: {stop.reason}")
    card.headline.open_issues += [
        f"{c.regime}: {len(c.gaps)} of {len(c.items)} checklist items are gaps (section "
        f"{_section_number(card, 'regulatory-mapping')})."
        for c in checks
        if c.gaps
    ]
    issues = card.headline.open_issues
    if len(issues) > MAX_OPEN_ISSUES:
        rest = len(issues) - MAX_OPEN_ISSUES
        card.headline.open_issues = [*issues[:MAX_OPEN_ISSUES], f"… and {rest:,} more."]
    card.evidence.cited = sorted(cited.values(), key=lambda r: r.seq)
    return card


def _section_number(card: ModelCard, anchor: str) -> int:
    """The number of a card section (9 fixed sections before the extra ones)."""
    anchors = [s.anchor for s in card.extra_sections]
    return 10 + anchors.index(anchor) if anchor in anchors else 0


def registration_of(family: list[Entry], use: Cite) -> Registration | None:
    """The model's latest registration as the card shows it (`reports.card_binding` too)."""
    entries = [e for e in family if e.statement.kind == Kind.MODEL_REGISTERED.value]
    if not entries:
        return None
    latest = entries[-1]
    p = latest.statement.payload
    return Registration(
        entry=use(latest, "model registration (inventory record)"),
        description=str(p.get("description", "")),
        decision=str(p.get("decision", "")),
        owner=p.get("owner"),
        users=_listed([str(u) for u in p.get("users") or []], MAX_USERS, "users"),
        intended_use=str(p.get("intended_use", "")),
        out_of_scope_uses=_listed(
            [clip(u) for u in p.get("out_of_scope_uses") or []], MAX_OUT_OF_SCOPE, "uses"
        ),
        materiality_tier=p.get("materiality_tier"),
        is_model=bool(p.get("is_model", True)),
        validation_status=p.get("validation_status"),
        next_review=p.get("next_review"),
        tags={str(k): str(v) for k, v in (p.get("tags") or {}).items()},
    )


def _listed(items: list[str], limit: int, noun: str) -> list[str]:
    """The first `limit` items, then one line saying how many more the entry holds."""
    if len(items) <= limit:
        return items
    return [*items[:limit], f"… and {len(items) - limit:,} more {noun} in the registration entry"]


def run_details(entry: Entry, use: Cite) -> RunDetails:
    """The run entry as the card shows it: parameters and metrics bounded (`reports.limits`).

    Public because `reports.card_binding` re-derives the same rows from the proven entry."""
    p = entry.statement.payload
    where = f"the {entry.statement.kind} entry at seq {entry.seq}"
    params, params_hidden = first_sorted(dict(p.get("params") or {}), MAX_PARAMS)
    metrics, metrics_hidden = first_sorted(dict(p.get("metrics") or {}), MAX_METRICS)
    before = dict(p.get("metrics_before") or {})
    tags, _ = first_sorted({str(k): str(v) for k, v in (p.get("tags") or {}).items()}, MAX_PARAMS)
    curves, curves_note = training_curves(p, where)
    return RunDetails(
        entry=use(entry, "the run that logged this version"),
        kind=entry.statement.kind,
        run_id=p.get("run_id"),
        algorithm=p.get("algorithm"),
        code_revision=p.get("code_revision"),
        params=params,
        metrics=metrics,
        metrics_before={k: before.get(k) for k in metrics} if before else {},
        tags=tags,
        artifacts=[a for a in p.get("artifacts") or [] if isinstance(a, dict)][:MAX_DATASETS],
        reason=clip(entry.statement.reason, where=where),
        params_note=more_line(params_hidden, "parameters (sorted by name)", len(params), where)
        if params
        else "",
        metrics_note=more_line(metrics_hidden, "metrics (sorted by name)", len(metrics), where)
        if metrics
        else "",
        curves=curves,
        curves_note=curves_note,
    )


_run = run_details


def _step(relation: str, entry: Entry) -> LineageStep:
    st = entry.statement
    return LineageStep(
        relation,
        st.version,
        st.kind,
        st.actor,
        entry.recorded_at,
        clip(st.reason),
        entry.entry_hash.hex(),
        entry.seq,
    )


def _lineage(store: LedgerStore, run: Entry, family: list[Entry], use: Cite) -> list[LineageStep]:
    """Parents (following parent_run) oldest first, then runs derived from this one."""
    parents: list[LineageStep] = []
    current = run
    by_hash = {e.entry_hash.hex(): e for e in family}
    while len(parents) < MAX_LINEAGE:
        parent_hash = current.statement.payload.get("parent_run")
        if not parent_hash:
            break
        parent = by_hash.get(str(parent_hash)) or store.entry_by_hash(bytes.fromhex(parent_hash))
        use(parent, f"parent run (version {parent.statement.version})")
        parents.append(_step("parent", parent))
        current = parent
    children = [
        e
        for e in family
        if e.statement.kind in (Kind.RUN_TRAINING.value, Kind.RUN_RECALIBRATION.value)
        and e.statement.payload.get("parent_run") == run.entry_hash.hex()
    ]
    steps = list(reversed(parents))
    for child in children[:MAX_LINEAGE]:
        use(child, f"derived run (version {child.statement.version})")
        steps.append(_step("derived from this version", child))
    return steps


def _datasets(
    run: Entry, sections: dict[str, Any], others: list[Any], more: dict[str, str]
) -> list[Dataset]:
    found: list[Dataset] = []
    sources = [(run.statement.payload, f"{run.statement.kind} (seq {run.seq})")]
    for section in [*sections.values(), *others]:
        sources.append(({"datasets": section.datasets}, section.entry.why))
    for payload, source in sources:
        for d in payload.get("datasets") or []:
            if isinstance(d, dict) and d.get("sha256"):
                rows = d.get("rows")
                found.append(
                    Dataset(
                        str(d.get("name", "")),
                        rows if isinstance(rows, int) else None,
                        str(d["sha256"]),
                        str(d.get("role", "")),
                        source,
                    )
                )
    if len(found) > MAX_DATASETS:
        more["datasets"] = more_line(
            len(found) - MAX_DATASETS, "dataset fingerprints", MAX_DATASETS, "the cited entries"
        )
    return found[:MAX_DATASETS]


def decision_row(entry: Entry, run: Entry, keys: KeyBook, use: Cite) -> Approval:
    """One approval or rejection as the card shows it (reason clipped, signature re-checked).

    Public because `reports.card_binding` re-derives the same rows from the proven entries."""
    st = entry.statement
    p = st.payload
    check = keys.check(entry)
    if check.key_entry is not None:
        use(check.key_entry, f"signing key of {check.key_entry.statement.actor}")
    granted = st.kind == Kind.APPROVAL_GRANTED.value
    return Approval(
        entry=use(entry, f"{'approval' if granted else 'rejection'} by {st.actor}"),
        actor=st.actor,
        role=str(p.get("role", "")),
        granted=granted,
        recorded_at=entry.recorded_at,
        issued_at=st.issued_at,
        reason=clip(st.reason, where=f"the entry at seq {entry.seq}"),
        conditions=_listed(
            [clip(c) for c in p.get("conditions") or []], MAX_CONDITIONS, "conditions"
        ),
        key_id=entry.key_id,
        signature_status=check.label,
        signature_ok=check.ok,
        signature_detail=check.detail,
        decides_this_run=(p.get("subject") or p.get("run")) == run.entry_hash.hex(),
    )


_approval = decision_row
_EVENT_DETAILS = ("environment", "replacement", "attempted_kind", "problem", "text")


def _event(entry: Entry, why: str, use: Cite) -> Event:
    """An event with the payload fields the card shows, each clipped (`reports.limits`)."""
    st = entry.statement
    p = st.payload
    where = f"the entry at seq {entry.seq}"
    details = {k: clip(p[k], where=where) for k in _EVENT_DETAILS if isinstance(p.get(k), str)}
    return Event(use(entry, why), st.kind, st.actor, entry.recorded_at, clip(st.reason), details)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def performance_line(p: PerformanceSection | None) -> str:
    """The summary's headline performance sentence (from the evaluation's summary only)."""
    if p is None:
        return "No performance evaluation recorded."
    parts = [
        f"{label} {_fmt(p.metric(key))}"
        for key, label in (("auc", "AUC"), ("gini", "Gini"), ("ks", "KS"), ("brier", "Brier"))
        if p.metric(key) is not None
    ]
    n = p.metric("n")
    sample = f" on {int(n):,} applicants" if n is not None else ""
    return (", ".join(parts) or "no headline metrics") + sample + "."


def _fairness_line(f: FairnessSection | None) -> str:
    if f is None:
        return "No fairness evaluation recorded."
    threshold = _fmt(f.threshold, 2)
    flagged = [(p, g) for p in f.partitions for g in p.groups if g.four_fifths == "fail"]
    if not f.violated:
        return (
            f"Four-fifths screen: no reliable group has a selection rate below {threshold} "
            "of the most-favoured group's."
        )
    listed = "; ".join(
        f"{p.name}: {g.group} (impact ratio {_fmt(g.impact_ratio.value, 2)})"
        for p, g in flagged[:4]
    )
    return (
        f"Four-fifths screen FLAGGED at threshold {threshold}: {listed or 'see section 7'}. "
        "A screen, not a finding: see section 7."
    )


def _open_issues(card: ModelCard, approvals: list[Approval]) -> list[str]:
    issues = [f"Approval policy still needs {m}." for m in card.missing_approvals]
    in_force: dict[tuple[str, str], Approval] = {}
    for a in approvals:
        if a.decides_this_run:
            in_force[(a.actor, a.role)] = a
    issues += [
        f"Rejected by {a.actor} ({a.role}): {clip(a.reason, 300)}"
        for a in in_force.values()
        if not a.granted
    ]
    issues += [
        f"Signature of the {a.role} decision by {a.actor} does not verify ({a.signature_status})."
        for a in approvals
        if not a.signature_ok
    ]
    if card.fairness is None:
        issues.append("No fairness evaluation recorded.")
    elif card.fairness.violated:
        issues.append("Four-fifths screen flagged one or more groups (section 7).")
    s: StabilitySection | None = card.stability
    if s is not None and s.shifted:
        issues.append(f"Population shift (PSI above the shift band) in: {', '.join(s.shifted)}.")
    if s is not None and s.score and s.score.get("band") in ("watch", "shift"):
        issues.append(f"Score PSI is in the '{s.score.get('band')}' band.")
    issues += [
        f"The deployment to {r.environment} at seq {r.promotion_seq} is not bound to a model "
        "file (recorded before promotions named one): which bytes were deployed is not on the "
        "ledger."
        for r in card.serving.unbound
    ]
    issues += [
        f"Monitoring in {m.status_line} as of {card.generated_at[:16].replace('T', ' ')} UTC."
        for m in card.monitoring.environments
        if m.status in ("monitoring overdue", "under review")
    ]
    issues += [f"Refused request by {r.actor}: {clip(r.reason, 300)}" for r in card.refusals]
    issues += [f"Retired: {clip(r.reason, 300)}" for r in card.retirements]
    return issues


def approved_by(approvals: list[Approval]) -> list[str]:
    """The summary's "Approved by": verified grants of this run (bounded like the table)."""
    return [
        f"{a.actor} ({a.role}), {a.recorded_at[:10]}"
        for a in approvals[-MAX_DECISIONS:]
        if a.granted and a.decides_this_run and a.signature_ok
    ]


def _headline(card: ModelCard, approvals: list[Approval]) -> Headline:
    reg = card.registration
    decision = (reg.decision or reg.description) if reg else ""
    return Headline(
        decision=clip(decision) or "Not stated in the model's registration.",
        status=card.status,
        performance=performance_line(card.performance),
        fairness=_fairness_line(card.fairness),
        approved_by=approved_by(approvals),
        open_issues=_open_issues(card, approvals),
    )
