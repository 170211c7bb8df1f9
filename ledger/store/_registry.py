"""The model registry as the ledger tells it: models, versions and their derived status.

Nothing here is stored: a version's status (logged, rejected, approved, deployed, retired) is
derived from its entries every time, with the rules of `ledger.policy`, so the registry can
never disagree with the log.

The approvals a version still needs are counted against the policy admission applies
(`ledger.governance.deployment_policy`): the one in force in the ledger for the model's
materiality tier (its latest registration) and the environment, and the same teams for
independent validation (SR 26-2). A version not yet deployed is measured against the policy
in force now for production, where a deployment most often goes; a deployed version against
the policy that was in force at its (latest) deployment's seq for that deployment's
environment, which is the policy it satisfied. Only a ledger that records no policy for
that scope falls back to the configured one (`LedgerStore.policy`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from ledger.errors import UnknownModelVersion
from ledger.governance import (
    DEFAULT_ENVIRONMENT,
    ApprovalPolicy,
    CatalogueState,
    DecisionFact,
    InventoryRow,
    MonitoringFacts,
    MonitoringState,
    OversightFact,
    PolicyFact,
    PromotionFact,
    RulesState,
    RunFact,
    ServingHistory,
    Tenure,
    VersionStatus,
    approvals_missing,
    catalogue_states,
    decision_fact,
    deployment_policy,
    evidence_missing,
    gather_evidence,
    inventory_record,
    inventory_row,
    model_files,
    monitoring_state,
    oversight_fact,
    plan_states,
    policy_terms,
    serving_event,
    stop_in_force,
    version_status,
)
from ledger.log.entries import Entry
from ledger.log.kinds import DECISION_KINDS, MONITORING_KINDS, RUN_KINDS, Kind
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
    policy: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    """The approval policy the status and the missing approvals are derived under."""
    policy_fact: PolicyFact | None = None
    """The ledger's policy (its `policy.proposed` entry, approved) that `policy` is; None
    when the ledger records no policy for this tier and environment and the configured
    policy (`LedgerStore.policy`) applies."""
    materiality_tier: str | None = None
    """The model's tier the policy was chosen for (its registration's, at the deployment's
    seq for a deployed version)."""
    environment: str = DEFAULT_ENVIRONMENT
    """The environment the policy was chosen for: the latest deployment's, else production."""
    rules: RulesState = field(default_factory=RulesState)
    """The ledger's rules the view was derived under (users' teams, policies in force): as
    of the latest deployment for a deployed version, as of now otherwise."""
    monitoring_entries: list[Entry] = field(default_factory=list)
    """The version's monitoring plans, reports and responses, in seq order."""
    plan_decisions: list[Entry] = field(default_factory=list)
    """Approvals and rejections of its monitoring plans."""
    monitoring: list[MonitoringState] = field(default_factory=list)
    """Its monitoring per environment (a plan there, or serving there), derived now."""
    tenures: list[Tenure] = field(default_factory=list)
    """Where the version serves and served: one tenure per promotion into an environment,
    ended by the promotion that replaced it or a retirement (`ledger.governance._serving`)."""
    evidence_missing: list[str] | None = None
    """The evidence `policy` requires before a promotion that the version lacks
    (`ledger.governance._evidence`), as a promotion's refusal names it; None when not
    derived (`version_view(..., evidence=True)` derives it)."""

    @property
    def model_files(self) -> list[str]:
        """The SHA-256 digests of the run's model files (artifacts with role `model`)."""
        return model_files(self.run.statement.payload)

    @property
    def serving_in(self) -> list[str]:
        """The environments the version serves in now."""
        return [t.environment for t in self.tenures if t.ended_by is None]

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
            "policy": self.policy_dict(),
            "model_files": self.model_files,
            "serving": [tenure_dict(t) for t in self.tenures],
            "monitoring": [monitoring_dict(m) for m in self.monitoring],
            "monitoring_entries": [_brief(e) for e in self.monitoring_entries],
            "plan_decisions": [_brief(e) for e in self.plan_decisions],
            "evidence_missing": self.evidence_missing,
        }

    def policy_dict(self) -> dict[str, object]:
        """Which approval policy applies, and where it comes from (JSON form)."""
        fact = self.policy_fact
        found: dict[str, object] = {
            "source": "configured" if fact is None else "ledger",
            "materiality_tier": self.materiality_tier,
            "environment": self.environment,
            **policy_terms(self.policy),
        }
        if fact is not None:
            found.update(
                entry_hash=fact.entry_hash.hex(),
                seq=fact.seq,
                scope={"tier": fact.tier, "environment": fact.environment},
                proposed_by=fact.proposer,
                approved_seq=fact.approved_seq,
                approved_by=fact.approver,
                initial=fact.initial,
            )
        return found


def monitoring_dict(state: MonitoringState) -> dict[str, object]:
    """A version's monitoring in one environment, JSON form."""
    plan = state.plan
    return {
        "environment": state.environment,
        "status": state.status,
        "plan": None
        if plan is None
        else {
            "entry_hash": plan.plan.entry_hash.hex(),
            "seq": plan.plan.seq,
            "cadence": plan.plan.cadence,
            "responders": list(plan.plan.responders),
            "response_days": plan.plan.response_days,
            "measures": {k: v.model_dump() for k, v in plan.plan.measures.items()},
        },
        "reports": [
            {
                "seq": r.seq,
                "entry_hash": r.entry_hash.hex(),
                "period": {"start": r.period_start, "end": r.period_end},
                "statuses": dict(r.statuses),
                "red": r.red,
            }
            for r in state.reports
        ],
        "breaches": [
            {
                "report_seq": b.report.seq,
                "measures": b.report.red,
                "due": b.due,
                "response": None
                if b.response is None
                else {
                    "seq": b.response.seq,
                    "action": b.response.action,
                    "actor": b.response.actor,
                    "role": b.response.role,
                    "review_by": b.response.review_by,
                },
            }
            for b in state.breaches
        ],
        "next_report_due": state.next_report_due,
        "overdue": state.overdue,
    }


def tenure_dict(tenure: Tenure) -> dict[str, object]:
    """A tenure in JSON form: where, since when, bound to which file, how it ended."""
    promotion, end = tenure.promotion, tenure.ended_by
    return {
        "environment": tenure.environment,
        "version": tenure.version,
        "status": "serving" if end is None else tenure.end,
        "description": tenure.describe(),
        "since_seq": promotion.seq,
        "since": promotion.recorded_at,
        "promotion": promotion.entry_hash.hex(),
        "promoted_by": promotion.actor,
        "reason": promotion.reason,
        "rollback": promotion.rollback,
        "model_sha256": promotion.model_sha256,
        "approvals": list(promotion.approvals),
        "ended_seq": None if end is None else end.seq,
        "ended_at": None if end is None else end.recorded_at,
        "ended_by": None
        if end is None
        else {
            "kind": "deployment.promoted" if isinstance(end, PromotionFact) else "model.retired",
            "version": end.version,
            "actor": end.actor,
            "entry_hash": end.entry_hash.hex(),
            "reason": end.reason,
        },
    }


def serving_of(found: list[Entry], shadow_environments: tuple[str, ...]) -> ServingHistory:
    """Fold a model's entries (in seq order) into its serving history, the oversight stops
    of its versions too."""
    history = ServingHistory(shadow_environments)
    for e in found:
        st = e.statement
        if st.kind == Kind.OVERSIGHT_RECORDED:
            history.oversee(st.version, _oversight(e))
        elif st.kind in (Kind.DEPLOYMENT_PROMOTED, Kind.MODEL_RETIRED):
            event = serving_event(
                e.seq,
                e.entry_hash,
                st.kind,
                st.actor,
                st.model,
                st.version,
                e.recorded_at,
                st.reason,
                st.payload_json,
            )
            if isinstance(event, PromotionFact):
                history.promote(event)
            else:
                history.retire(event)
    return history


def promotion_payload(
    store: LedgerStore,
    model: str,
    version: str,
    *,
    environment: str = DEFAULT_ENVIRONMENT,
    model_sha256: str | None = None,
    rollback: bool = False,
    replaces: str | None = None,
) -> dict[str, object]:
    """The payload of a promotion as the API and the CLI build it: the model file is the
    run's only model file unless named (with none or several, admission says what is
    wrong); `approvals` names the approvals the policy in force for the model's tier and
    the environment counts now, so the promotion cites the decisions it rests on (and an
    as-of answer carries them); `rollback` and `replaces` only when asked."""
    payload: dict[str, object] = {"environment": environment}
    run = store.run_of(model, version)
    if model_sha256 is None:
        files = set() if run is None else set(model_files(run.statement.payload))
        model_sha256 = files.pop() if len(files) == 1 else None
    if model_sha256 is not None:
        payload["model_sha256"] = model_sha256
    if run is not None:
        counted = _counted_approvals(store, model, version, environment)
        if counted:
            payload["approvals"] = counted
    if rollback:
        payload["rollback"] = True
    if replaces is not None:
        payload["replaces"] = replaces
    return payload


def _counted_approvals(store: LedgerStore, model: str, version: str, environment: str) -> list[str]:
    """The entry hashes of the approvals that count towards the policy in force now for a
    promotion of the version to `environment` (admission decides; this only cites)."""
    found = model_entries(store, model)
    view = _version_view(store, model, version, found, _RulesAt(store))
    rules = view.rules
    policy = deployment_policy(rules, store.policy, _tier(found, None), environment)
    run = view.run
    run_fact = RunFact(
        run.seq, run.entry_hash, run.statement.actor, run.statement.kind, model, version
    )
    counted = approvals_missing(
        policy, run_fact, [_decision(e) for e in view.decisions], rules.team_of
    )[1]
    return [d.entry_hash.hex() for d in sorted(counted, key=lambda d: d.seq)]


def model_serving(store: LedgerStore, model: str) -> ServingHistory:
    """A model's serving history (every environment, every tenure); UnknownModelVersion
    when the ledger holds nothing about the model."""
    found = model_entries(store, model)
    if not found:
        raise UnknownModelVersion(f"model {model!r} is not in the ledger")
    return serving_of(found, store.policy.shadow_environments)


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


class _RulesAt:
    """The ledger's rules now and before given seqs, each read once: a status page derives
    many versions, and each deployed one is measured against the rules of its deployment."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store
        self._now: RulesState | None = None
        self._before: dict[int, RulesState] = {}

    def now(self) -> RulesState:
        if self._now is None:
            self._now = self._store.rules()
        return self._now

    def before(self, seq: int) -> RulesState:
        now = self.now()
        if now.upto < seq:  # no rule entry since that seq: the rules then are those now
            return now
        if seq not in self._before:
            self._before[seq] = self._store.rules(before=seq)
        return self._before[seq]


def _tier(found: list[Entry], before: int | None) -> str | None:
    """The materiality tier of the model's latest registration (before a seq), if any."""
    registrations = [
        e
        for e in found
        if e.statement.kind == Kind.MODEL_REGISTERED and (before is None or e.seq < before)
    ]
    tier = registrations[-1].statement.payload.get("materiality_tier") if registrations else None
    return None if tier is None else str(tier)


def version_view(
    store: LedgerStore,
    model: str,
    version: str,
    *,
    entries_of_model: list[Entry] | None = None,
    evidence: bool = False,
) -> VersionView:
    """Derive a version's view; UnknownModelVersion if it was never logged.

    `entries_of_model` (every entry of the model, as `model_entries` returns) saves re-reading
    them when deriving several versions at once. `evidence` also derives what the policy
    requires before a promotion and the version lacks (`evidence_missing`; regime checklists
    through `LedgerStore.regime_gaps`, so it costs their evaluation)."""
    found = entries_of_model if entries_of_model is not None else model_entries(store, model)
    view = _version_view(store, model, version, found, _RulesAt(store))
    if evidence:
        view.evidence_missing = version_evidence_missing(store, view)
    return view


def version_evidence_missing(store: LedgerStore, view: VersionView) -> list[str]:
    """The evidence `view.policy` requires before a promotion that the version lacks: the
    rule admission applies (`ledger.governance._evidence`), over the view's entries."""
    policy = view.policy
    found = gather_evidence(
        policy,
        view.model,
        view.version,
        evaluations=[str(e.statement.payload.get("evaluation", "")) for e in view.evaluations],
        catalogue_reviewed=any(s.in_force for s in view.catalogue_states),
        regime_gaps=store.regime_gaps,
    )
    return evidence_missing(policy, found)


def _version_view(
    store: LedgerStore,
    model: str,
    version: str,
    found: list[Entry],
    rules_at: _RulesAt,
    history: ServingHistory | None = None,
) -> VersionView:
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
    plan_hashes = {
        e.entry_hash.hex()
        for e in related
        if e.statement.kind == Kind.MONITORING_PLAN and e.statement.version == version
    }
    for entry in related:
        kind = entry.statement.kind
        if entry.statement.version == version:
            if kind in DECISION_KINDS and _decided(entry) in catalogue_hashes:
                view.catalogue_decisions.append(entry)
            elif kind in DECISION_KINDS and _decided(entry) in plan_hashes:
                view.plan_decisions.append(entry)
            elif kind in MONITORING_KINDS:
                view.monitoring_entries.append(entry)
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
    _choose_policy(view, store.policy, found, rules_at)
    facts = [_decision(e) for e in view.decisions]
    team_of = view.rules.team_of
    view.missing_approvals = approvals_missing(view.policy, run_fact, facts, team_of)[0]
    view.catalogue_states = catalogue_states(
        view.policy,
        [(_subject(e), e.statement.payload) for e in view.catalogues],
        [_decision(e) for e in view.catalogue_decisions],
    )
    stop = stop_in_force(_oversight(e) for e in view.oversight)
    view.stop = next((e for e in view.oversight if stop and e.seq == stop.seq), None)
    if history is None:
        history = serving_of(found, store.policy.shadow_environments)
    view.tenures = history.of_version(version)
    view.monitoring = _monitoring(store, view, found, history)
    view.status = version_status(
        view.policy,
        run_fact,
        facts,
        deployed=bool(view.serving_in),
        replaced=bool(view.tenures),
        retired=bool(view.retirements),
        stopped=view.stop is not None,
        team_of=team_of,
    )
    return view


def _monitoring(
    store: LedgerStore, view: VersionView, found: list[Entry], history: ServingHistory
) -> list[MonitoringState]:
    """The version's monitoring in each environment that has a plan or where it served
    (shadow aside), under the policy in force there now."""
    facts = MonitoringFacts()
    for e in view.monitoring_entries:
        st = e.statement
        facts.add(e.seq, e.entry_hash, st.kind, st.actor, st.model, st.version, e.recorded_at,
                  st.payload_json)  # fmt: skip
    environments = {p.environment for p in facts.plans} | {
        t.environment for t in view.tenures if t.environment not in history.shadow
    }
    if not environments:
        return []
    rules = view.rules
    tier = _tier(found, None)
    decisions = [_decision(e) for e in view.plan_decisions]
    now = datetime.now(UTC)
    states = []
    for environment in sorted(environments):
        policy = deployment_policy(rules, store.policy, tier, environment)
        plans = plan_states(policy, facts.plans, decisions, rules.team_of)
        states.append(
            monitoring_state(environment, plans, facts.reports, facts.responses, view.tenures, now)
        )
    return states


def _choose_policy(
    view: VersionView, configured: ApprovalPolicy, found: list[Entry], rules_at: _RulesAt
) -> None:
    """Set the view's policy as admission chose (or would choose) it for its deployment."""
    deployment = view.deployments[-1] if view.deployments else None
    if deployment is None:
        view.rules = rules_at.now()
        view.materiality_tier = _tier(found, None)
        view.environment = DEFAULT_ENVIRONMENT
    else:
        view.rules = rules_at.before(deployment.seq)
        view.materiality_tier = _tier(found, deployment.seq)
        environment = deployment.statement.payload.get("environment")
        view.environment = str(environment) if environment else DEFAULT_ENVIRONMENT
    view.policy_fact = view.rules.policy_for(view.materiality_tier, view.environment)
    view.policy = deployment_policy(view.rules, configured, view.materiality_tier, view.environment)


def _decided(entry: Entry) -> str:
    payload = entry.statement.payload
    return str(payload.get("subject") or payload.get("run") or "")


def _subject(entry: Entry) -> RunFact:
    st = entry.statement
    return RunFact(entry.seq, entry.entry_hash, st.actor, st.kind, st.model, st.version)


def _oversight(entry: Entry) -> OversightFact:
    st = entry.statement
    return oversight_fact(
        entry.seq, entry.entry_hash, st.actor, st.reason, st.payload_json, entry.recorded_at
    )


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
    rules_at = _RulesAt(store)
    serving = serving_of(found, store.policy.shadow_environments)
    for entry in found:
        if entry.statement.kind in RUN_KINDS:
            view = _version_view(store, model, entry.statement.version, found, rules_at, serving)
            versions.append(
                {
                    "version": view.version,
                    "status": view.status.value,
                    "logged_by": view.run.statement.actor,
                    "logged_at": view.run.recorded_at,
                    "kind": view.run.statement.kind,
                    "run_entry_hash": view.run.entry_hash.hex(),
                    "serving_in": view.serving_in,
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
        "serving": {
            env: [tenure_dict(t) for t in serving.serving(env)] for env in serving.environments()
        },
        "entries": len(found),
    }


def _models_and_views(store: LedgerStore) -> Iterator[tuple[str, list[Entry], list[VersionView]]]:
    """Each model of the ledger with its entries and the views of its versions (the rules
    and the serving history read once per model)."""
    rules_at = _RulesAt(store)
    for model in model_names(store):
        found = model_entries(store, model)
        history = serving_of(found, store.policy.shadow_environments)
        views = [
            _version_view(store, model, e.statement.version, found, rules_at, history)
            for e in found
            if e.statement.kind in RUN_KINDS
        ]
        yield model, found, views


def monitoring_overdue(store: LedgerStore) -> list[tuple[str, str, MonitoringState]]:
    """(model, version, monitoring state) of every version whose monitoring is overdue in an
    environment now: the states the inventory flags `monitoring overdue`."""
    return [
        (model, view.version, state)
        for model, _found, views in _models_and_views(store)
        for view in views
        for state in view.monitoring
        if state.lapses
    ]


def inventory(store: LedgerStore, *, today: date | None = None) -> list[InventoryRow]:
    """The model inventory (SR 26-2): one row per model in the ledger, registered or not,
    with its record in force (ledger.inventory), each version's derived status, and where a
    version's monitoring is overdue or under review now."""
    day = today or datetime.now(UTC).date()
    rows = []
    for model, found, views in _models_and_views(store):
        versions = [(v.version, v.status.value) for v in views]
        monitoring = [(v.version, m.environment, m.status) for v in views for m in v.monitoring]
        retired = any(
            e.statement.kind == Kind.MODEL_RETIRED and not e.statement.version for e in found
        )
        rows.append(
            inventory_row(
                model,
                inventory_record(model, found),
                versions,
                retired=retired,
                today=day,
                monitoring=monitoring,
            )
        )
    return rows
