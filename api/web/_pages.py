"""What the web pages show, assembled from the ledger core as plain data (no HTML here).

The models overview reads each version's derived view (`ledger.version_view`), so
the page can never disagree with the API or the card about a status or an approval; the
model page's serving timeline is the one serving fold (`ledger.store.model_serving`), with
the monitoring status of each version serving in an environment (its view's). The
timeline words access and policy entries with the audit report's one wording
(`reports.rules.rule_summary`), so a change reads the same on both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from ledger.errors import InvalidTimeBound
from ledger.governance import PromotionFact, Tenure
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.log.time_bounds import parse_day, time_bound
from ledger.store import (
    EntryFilter,
    LedgerStore,
    model_names,
    model_serving,
    model_summary,
    version_evidence_missing,
    version_view,
)
from reports.rules import is_rule_kind, rule_summary

TIMELINE_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Decision:
    """An approval or a rejection as a reader sees it."""

    actor: str
    role: str
    granted: bool
    recorded_at: str
    reason: str


@dataclass
class VersionRow:
    """One version of a model on the overview."""

    version: str
    status: str
    kind: str
    logged_by: str
    logged_at: str
    decisions: list[Decision]
    missing_approvals: list[str]
    evidence_missing: list[str] = field(default_factory=list)
    """The evidence the policy requires before a promotion that a version not yet deployed
    lacks (`ledger.governance._evidence`): the deployment will be refused until recorded."""
    policy: str = ""
    """The approval policy its status is derived under, e.g. 'high / production: 2
    validator and 1 approver', or 'configured: 1 validator and 1 approver'."""
    deployed_by: str | None = None
    deployed_at: str | None = None
    environment: str | None = None
    serving: list[str] = field(default_factory=list)
    """Where it serves or served, one line per tenure ('serving in production since seq
    12', 'served in production from seq 12; replaced by 1.1 at seq 40')."""


@dataclass(frozen=True, slots=True)
class TenureRow:
    """One version's time serving in an environment, as the timeline shows it."""

    version: str
    since_seq: int
    since: str
    promoted_by: str
    reason: str
    rollback: bool
    model_file: str
    """The first 12 hex digits of the bound model file, or '' when none was named."""
    serving: bool
    ended_seq: int | None
    ended_at: str
    ended_how: str
    """'replaced by 1.1', 'retired', or '' while it serves."""


@dataclass
class EnvironmentHistory:
    """An environment's serving history, newest tenure first."""

    environment: str
    tenures: list[TenureRow]
    monitoring: list[tuple[str, str]] = field(default_factory=list)
    """(version, status) of each version serving here: `ok`, `under review`, `monitoring
    overdue` or `no plan` (`ledger.governance.MonitoringState.status`, derived now)."""

    @property
    def serving(self) -> list[TenureRow]:
        return [t for t in self.tenures if t.serving]


def tenure_row(tenure: Tenure) -> TenureRow:
    """A tenure (`ledger.governance.Tenure`) as a timeline row."""
    p, end = tenure.promotion, tenure.ended_by
    how = ""
    if isinstance(end, PromotionFact):
        how = f"replaced by {end.version}"
    elif end is not None:
        how = "retired" if end.version else "model retired"
    return TenureRow(
        version=tenure.version,
        since_seq=p.seq,
        since=p.recorded_at,
        promoted_by=p.actor,
        reason=p.reason,
        rollback=p.rollback,
        model_file=(p.model_sha256 or "")[:12],
        serving=end is None,
        ended_seq=tenure.ended_seq,
        ended_at="" if end is None else end.recorded_at,
        ended_how=how,
    )


@dataclass
class ModelRow:
    """A model with its inventory facts and its versions, newest first."""

    name: str
    description: str
    owner: str
    retired: bool
    versions: list[VersionRow] = field(default_factory=list)
    serving: list[EnvironmentHistory] = field(default_factory=list)
    """Each environment's serving history (the model page's timeline)."""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def model_row(store: LedgerStore, name: str) -> ModelRow:
    """One model's row; UnknownModelVersion (404) when the ledger never named it."""
    summary = model_summary(store, name)
    registration = summary.get("registration")
    if not isinstance(registration, dict):
        registration = {}
    row = ModelRow(
        name=name,
        description=_text(registration.get("description")),
        owner=_text(registration.get("owner")),
        retired=bool(summary.get("retired")),
    )
    listed = summary.get("versions")
    monitoring: dict[str, list[tuple[str, str]]] = {}
    for item in reversed(listed if isinstance(listed, list) else []):
        view = version_view(store, name, str(item["version"]))
        for state in view.monitoring:
            if state.environment in view.serving_in:
                monitoring.setdefault(state.environment, []).append((view.version, state.status))
        decisions = [
            Decision(
                actor=e.statement.actor,
                role=_text(e.statement.payload.get("role")),
                granted=e.statement.kind == Kind.APPROVAL_GRANTED,
                recorded_at=e.recorded_at,
                reason=e.statement.reason,
            )
            for e in view.decisions
        ]
        version = VersionRow(
            version=view.version,
            status=view.status.value,
            kind=view.run.statement.kind,
            logged_by=view.run.statement.actor,
            logged_at=view.run.recorded_at,
            decisions=decisions,
            missing_approvals=list(view.missing_approvals),
            evidence_missing=version_evidence_missing(store, view) if not view.tenures else [],
            policy=view.policy_fact.describe()
            if view.policy_fact is not None
            else f"configured: {view.policy.describe()}",
        )
        version.serving = [t.describe() for t in view.tenures]
        if view.deployments:
            last = view.deployments[-1]
            version.deployed_by = last.statement.actor
            version.deployed_at = last.recorded_at
            version.environment = _text(last.statement.payload.get("environment")) or None
        row.versions.append(version)
    history = model_serving(store, name)
    row.serving = [
        EnvironmentHistory(
            env, [tenure_row(t) for t in reversed(history.tenures(env))], monitoring.get(env, [])
        )
        for env in history.environments()
    ]
    return row


def models_overview(store: LedgerStore) -> list[ModelRow]:
    """Every model in the ledger with its versions' status and decisions."""
    return [model_row(store, name) for name in model_names(store)]


class TimelineInputError(ValueError):
    """A timeline filter the page cannot use (shown next to the form, status 400)."""


@dataclass(frozen=True, slots=True)
class TimelineQuery:
    """The timeline's filters as the form sends them (strings, empty meaning 'any')."""

    model: str = ""
    kind: str = ""
    actor: str = ""
    since: str = ""
    until: str = ""

    def entry_filter(self) -> EntryFilter:
        """The store filter; `until` is a whole day, so it ends at the next midnight UTC."""
        return EntryFilter(
            model=_nfc(self.model) or None,
            kind=self.kind or None,
            actor=_nfc(self.actor) or None,
            since=_midnight(self.since, "since") if self.since else None,
            until=_midnight(self.until, "until", next_day=True) if self.until else None,
        )

    def validate(self) -> None:
        """Raise TimelineInputError naming the first unusable filter."""
        if self.kind and self.kind not in {k.value for k in Kind}:
            raise TimelineInputError(f"unknown kind {self.kind!r}")
        for name, value in (("model", self.model), ("actor", self.actor)):
            if len(value) > 200:
                raise TimelineInputError(f"{name} is longer than 200 characters")
        self.entry_filter()
        if self.since and self.until and self.since > self.until:
            raise TimelineInputError("'from' must not be after 'to'")

    def params(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them (pagination)."""
        return {
            k: v
            for k, v in (
                ("model", self.model),
                ("kind", self.kind),
                ("actor", self.actor),
                ("since", self.since),
                ("until", self.until),
            )
            if v
        }


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


def _midnight(value: str, name: str, *, next_day: bool = False) -> str | None:
    """A day filter as a bound (`ledger.time_bounds`); the last day of the calendar as
    `until` is an open end (None)."""
    try:
        return time_bound(parse_day(value.strip(), name), name, end=next_day)
    except InvalidTimeBound as exc:
        raise TimelineInputError(exc.message) from None


@dataclass
class TimelinePage:
    """One page of entries, newest first, with the cursors to the neighbouring pages."""

    entries: list[Entry]
    older_than: int | None
    newer_than: int | None
    summaries: dict[int, str] = field(default_factory=dict)
    """What each access or policy entry on the page changed, in one line, by seq."""


def parse_cursor(value: str | None, name: str) -> int | None:
    """A pagination cursor (a seq) from the query string."""
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 18:
        raise TimelineInputError(f"{name} must be an entry number")
    return int(value)


def timeline_page(
    store: LedgerStore,
    filters: EntryFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
) -> TimelinePage:
    """Entries newest first: the newest page, the page `before` a seq, or the page `after`
    one (keyset pagination both ways, one extra row read to know whether more exist)."""
    if after is not None:
        rows = store.list_entries(filters, after_seq=after, limit=limit + 1)
        more_newer = len(rows) > limit
        page = list(reversed(rows[:limit]))
        more_older = True
    else:
        rows = store.list_entries(
            filters,
            after_seq=before if before is not None else -1,
            limit=limit + 1,
            descending=True,
        )
        page = rows[:limit]
        more_older = len(rows) > limit
        more_newer = before is not None
    if not page:
        return TimelinePage([], None, None)
    return TimelinePage(
        page,
        older_than=page[-1].seq if more_older and page[-1].seq > 0 else None,
        newer_than=page[0].seq if more_newer else None,
        summaries=rule_summaries(store, page),
    )


def rule_summaries(store: LedgerStore, page: list[Entry]) -> dict[int, str]:
    """The one-line summary of each access or policy entry among `page`, by seq (the rules
    are read only when the page holds such an entry)."""
    rule_entries = [e for e in page if is_rule_kind(e.statement.kind)]
    if not rule_entries:
        return {}
    rules = store.rules()
    return {e.seq: rule_summary(e.statement, rules) for e in rule_entries}
