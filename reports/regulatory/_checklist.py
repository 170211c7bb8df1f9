"""Completeness of a model version against a regime's checklist (`reports/regimes`).

`check_version` reads the version's entries (`ledger.registry.version_view`) and, for each
checklist item, names the ledger entries that satisfy it, or lists what is missing: a gap is
a result, never an error. Only the derived facts of `ledger` are used (the version's run,
its catalogues and the approvals the policy counts), so the check can never disagree with
the card or the registry. `max_seq` limits the check to the entries a signed checkpoint
covers, as the card's "Regulatory mapping" section needs for its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.governance import ApprovalPolicy, RunFact, approvals_missing, decision_fact
from ledger.log.entries import Entry
from ledger.log.kinds import RUN_KINDS
from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.store import LedgerStore, VersionView, model_entries, serving_of, version_view
from reports.citations import EntryRef, cite
from reports.monitoring import monitoring_at, status_line
from reports.regulatory.regimes import AnyOf, Item, Regime, Rule, load_regime

MAX_EVIDENCE_PER_RULE = 5
"""The latest matching entries cited per rule (older matches add nothing to the proof)."""


@dataclass(frozen=True)
class ItemResult:
    """One checklist item: satisfied by `evidence`, or a gap listing what is `missing`
    (a gap's `evidence` holds the entries that meet its other requirements)."""

    id: str
    title: str
    citation: str
    requirement: str
    evidence: list[EntryRef]
    missing: list[str]
    statements: list[str] = field(default_factory=list)
    """What the item states from the ledger besides its evidence (a `serving` rule: which
    version serves in the environment, since when, bound to which model file)."""

    @property
    def satisfied(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "citation": self.citation,
            "requirement": self.requirement,
            "status": "satisfied" if self.satisfied else "gap",
            "evidence": [
                {"seq": r.seq, "kind": r.kind, "entry_hash": r.entry_hash, "why": r.why}
                for r in self.evidence
            ],
            "missing": self.missing,
            "statements": self.statements,
        }


@dataclass
class ComplianceCheck:
    """A version's completeness against one regime."""

    regime: str
    title: str
    source: str
    model: str
    version: str
    status: str
    items: list[ItemResult] = field(default_factory=list)

    @property
    def gaps(self) -> list[ItemResult]:
        return [i for i in self.items if not i.satisfied]

    @property
    def ok(self) -> bool:
        """True when every item is satisfied."""
        return not self.gaps

    def cited(self) -> list[EntryRef]:
        """Every entry cited as evidence, once, by seq."""
        found: dict[int, EntryRef] = {}
        for item in self.items:
            for ref in item.evidence:
                found.setdefault(ref.seq, ref)
        return sorted(found.values(), key=lambda r: r.seq)

    def to_dict(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "title": self.title,
            "source": self.source,
            "model": self.model,
            "version": self.version,
            "version_status": self.status,
            "ok": self.ok,
            "satisfied": len(self.items) - len(self.gaps),
            "gaps": len(self.gaps),
            "items": [i.to_dict() for i in self.items],
        }


def check_version(
    store: LedgerStore,
    model: str,
    version: str,
    regime: str,
    *,
    max_seq: int | None = None,
    now: datetime | None = None,
) -> ComplianceCheck:
    """Check `model` `version` against `regime` (UnknownRegime, UnknownModelVersion);
    monitoring is judged as of `now` (default: the time of the call)."""
    checklist = load_regime(regime)
    family = model_entries(store, model)
    if max_seq is not None:
        family = [e for e in family if e.seq < max_seq]
    view = version_view(store, model, version, entries_of_model=family)
    return evaluate(checklist, view, family, view.policy, now=now)


def evaluate(
    regime: Regime,
    view: VersionView,
    family: list[Entry],
    policy: ApprovalPolicy,
    *,
    now: datetime | None = None,
) -> ComplianceCheck:
    """The check of one regime over a version's view and its model's entries (pure but for
    the clock: monitoring is judged as of `now`, default the time of the call)."""
    context = _Context(view, family, policy, now or datetime.now(UTC))
    check = ComplianceCheck(
        regime.id, regime.title, regime.source, view.model, view.version, view.status.value
    )
    for item in regime.items:
        check.items.append(context.item(item))
    return check


class _Context:
    """What the rules of one version look at: its entries and the derived approvals."""

    def __init__(
        self, view: VersionView, family: list[Entry], policy: ApprovalPolicy, now: datetime
    ) -> None:
        self.view = view
        self.now = now
        self.monitoring = monitoring_at(view.monitoring, view.tenures, now)
        self.serving = serving_of(
            sorted(family, key=lambda e: e.seq), tuple(policy.shadow_environments)
        )
        self.version_entries = [e for e in family if e.statement.version == view.version]
        self.model_entries = [e for e in family if e.statement.version == ""]
        self.by_hash = {e.entry_hash.hex(): e for e in family}
        self.run_hash = view.run.entry_hash.hex()
        self.catalogue_hashes = {e.entry_hash.hex() for e in view.catalogues}
        self.approved: dict[str, list[Entry]] = {}
        self._approvals(policy)

    def _approvals(self, policy: ApprovalPolicy) -> None:
        """Subjects whose approvals are complete -> the approvals the policy counts."""
        decisions = {e.entry_hash: e for e in self.view.decisions}
        st = self.view.run.statement
        run = RunFact(
            self.view.run.seq, self.view.run.entry_hash, st.actor, st.kind, st.model, st.version
        )
        facts = [
            decision_fact(e.seq, e.entry_hash, e.statement.actor, e.statement.kind,
                          e.statement.reason, e.statement.payload_json)
            for e in self.view.decisions
        ]  # fmt: skip
        missing, counted, rejections = approvals_missing(
            policy, run, facts, self.view.rules.team_of
        )
        if not missing and not rejections:
            self.approved[self.run_hash] = [decisions[d.entry_hash] for d in counted]
        catalogue_decisions = {e.entry_hash: e for e in self.view.catalogue_decisions}
        for state in self.view.catalogue_states:
            if state.status == "approved":
                self.approved[state.entry_hash.hex()] = [
                    catalogue_decisions[d.entry_hash] for d in state.approvals
                ]

    def item(self, item: Item) -> ItemResult:
        evidence: dict[int, EntryRef] = {}
        missing: list[str] = []
        statements: list[str] = []
        for requirement in item.evidence:
            if isinstance(requirement, Rule) and requirement.every:
                found, lacking = self.every(requirement)
                if lacking:
                    seqs = ", ".join(f"seq {e.seq}" for e in lacking)
                    missing.append(f"{requirement.need} (not met by {seqs})")
            elif isinstance(requirement, Rule) and requirement.monitored is not None:
                found, why, said = self.monitored(requirement)
                statements += said
                missing += [f"{requirement.need}: {w}" for w in why]
            elif isinstance(requirement, Rule) and requirement.serving is not None:
                found, said = self.serving_now(requirement)
                statements += said
                if not found:
                    missing.append(requirement.need)
            else:
                rules = requirement.any_of if isinstance(requirement, AnyOf) else [requirement]
                found = []
                for rule in rules:
                    found = self.satisfying(rule)
                    if found:
                        break
                if not found:
                    missing.append(requirement.need)
            for entry in found:
                evidence.setdefault(entry.seq, cite(entry, f"{item.id}: {requirement.need}"))
        return ItemResult(
            item.id,
            item.title,
            item.citation,
            item.requirement,
            sorted(evidence.values(), key=lambda r: r.seq),
            missing,
            statements,
        )

    def every(self, rule: Rule) -> tuple[list[Entry], list[Entry]]:
        """An `every` rule: the latest entries that meet it, and each one that does not."""
        scoped = self._scoped(rule)
        fields = rule.model_copy(update={"fields": [], "every": False})
        candidates = [e for e in scoped if self._matches(fields, e)]
        lacking = [e for e in candidates if not self._matches(rule, e)]
        met = [e for e in candidates if e not in lacking]
        return met[-MAX_EVIDENCE_PER_RULE:], lacking

    def serving_now(self, rule: Rule) -> tuple[list[Entry], list[str]]:
        """A `serving` rule: the promotions serving in the environment now, and what the
        item states about each (which version, since when, which model file)."""
        environment = str(rule.serving)
        found: list[Entry] = []
        said: list[str] = []
        for tenure in self.serving.serving(environment):
            entry = self.by_hash.get(tenure.promotion.entry_hash.hex())
            if entry is None or entry.statement.kind not in rule.kind:
                continue
            found.append(entry)
            p = tenure.promotion
            bound = (
                f"model file {p.model_sha256}"
                if p.model_sha256
                else "not bound to a model file (recorded before promotions named one)"
            )
            said.append(
                f"{tenure.version} serves in {environment} since seq {p.seq} "
                f"({entry.recorded_at[:10]}, promoted by {p.actor}"
                f"{', a rollback' if p.rollback else ''}; {bound})"
            )
        if not found:
            said.append(f"no version of {self.view.model} serves in {environment}")
        return found, said

    def monitored(self, rule: Rule) -> tuple[list[Entry], list[str], list[str]]:
        """A `monitored` rule: the plan in force with its approvals, the reports since the
        version's latest promotion into the environment and the answers to their breaches;
        each reason the monitoring falls short; the status as of the check's time."""
        environment = str(rule.monitored)
        name = f"{self.view.model} {self.view.version}"
        tenures = [t for t in self.view.tenures if t.environment == environment]
        if not tenures:
            return [], [f"{name} was never promoted in {environment}"], []
        promotion = tenures[-1].promotion
        state = next((s for s in self.monitoring if s.environment == environment), None)
        as_of = format_rfc3339(self.now)[:16].replace("T", " ") + " UTC"
        if state is None or state.plan is None:
            return [], [f"no approved monitoring plan in force for {environment}"], []
        said = [f"monitoring in {status_line(state)}, as of {as_of}"]
        why = []
        found = [self.by_hash[state.plan.plan.entry_hash.hex()]]
        found += [
            self.by_hash[d.entry_hash.hex()]
            for d in state.plan.approvals
            if d.entry_hash.hex() in self.by_hash
        ]
        after = [r for r in state.reports if r.seq > promotion.seq]
        if not after:
            why.append(
                f"no monitoring report recorded since the promotion to {environment} at seq "
                f"{promotion.seq} ({promotion.recorded_at[:10]})"
            )
        due = state.next_report_due
        if due is not None and parse_rfc3339(due) < self.now:
            why.append(
                f"the {state.plan.plan.cadence} report was due by {due[:10]} and none is "
                f"recorded (as of {as_of})"
            )
        for breach in state.breaches:
            if not breach.answered:
                why.append(
                    f"the breach of {', '.join(breach.report.red)} reported at seq "
                    f"{breach.report.seq} is unanswered (due {breach.due[:10]})"
                )
        found += [self.by_hash[r.entry_hash.hex()] for r in after[-MAX_EVIDENCE_PER_RULE:]]
        found += [
            self.by_hash[b.response.entry_hash.hex()]
            for b in state.breaches
            if b.response is not None
            and b.report in after[-MAX_EVIDENCE_PER_RULE:]
            and b.response.entry_hash.hex() in self.by_hash
        ]
        return found, why, said

    def _scoped(self, rule: Rule) -> list[Entry]:
        return {
            "version": self.version_entries,
            "model": self.model_entries,
            "any": self.version_entries + self.model_entries,
        }[rule.scope]

    def satisfying(self, rule: Rule) -> list[Entry]:
        """The entries that meet a rule (with what they cite or count), or [] if too few."""
        matches = [e for e in self._scoped(rule) if self._matches(rule, e)]
        if len(matches) < rule.min:
            return []
        latest = sorted(matches, key=lambda e: e.seq)[-max(rule.min, MAX_EVIDENCE_PER_RULE) :]
        found = list(latest)
        for entry in latest:
            if rule.cites:
                found += self._cited(entry, rule.cites)
            if rule.approved:
                found += self.approved.get(entry.entry_hash.hex(), [])
        return found

    def _matches(self, rule: Rule, entry: Entry) -> bool:
        st = entry.statement
        payload = st.payload
        if st.kind not in rule.kind or (rule.signed and entry.signature is None):
            return False
        for path, wanted in rule.where.items():
            accepted = wanted if isinstance(wanted, list) else [wanted]
            value = _get(payload, path)
            values = value if isinstance(value, list) else [value]
            if not any(v in accepted for v in values if v is not None):
                return False
        if not all(_present(_get(payload, path)) for path in rule.fields):
            return False
        for path, bound in rule.at_most.items():
            value = _get(payload, path)
            if isinstance(value, bool) or not isinstance(value, int | float) or value > bound:
                return False
        decided = str(payload.get("subject") or payload.get("run") or "")
        if rule.decides == "run" and decided != self.run_hash:
            return False
        if rule.decides == "catalogue" and decided not in self.catalogue_hashes:
            return False
        if rule.cites and not self._cited(entry, rule.cites):
            return False
        if rule.approved:
            if st.kind not in {*RUN_KINDS, "catalogue.recorded"}:
                return False
            return entry.entry_hash.hex() in self.approved
        return True

    def _cited(self, entry: Entry, kind: str) -> list[Entry]:
        payload = entry.statement.payload
        hashes = [*(payload.get("evidence") or []), *(payload.get("refers_to") or [])]
        found = [self.by_hash.get(str(h)) for h in hashes]
        return [
            e
            for e in found
            if e is not None
            and e.statement.kind == kind
            and e.statement.version in ("", self.view.version)
        ]


def _get(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}
