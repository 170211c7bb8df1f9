"""What a batch of scoring decisions needs to join the ledger, and when details may go.

A batch (`scoring.batch`, its decisions parsed by `ledger.log.scoring.parse_batch`) is
admitted whole or refused whole, naming the first bad decision:

- the version served in the batch's environment at every decision's `decided_at`: inside a
  tenure of the serving fold (`_serving.ServingHistory`), from its promotion's
  `recorded_at` until the promotion that replaced it or the retirement that ended it, and
  outside every human oversight stop of the version (from the stop's `recorded_at` until
  the resume's, in every environment). A decision before the version was promoted there,
  after it left, or while it was stopped is refused: a decision must come from the version
  serving in that environment at that time (`not_serving_at`, which the audit report asks
  too);
- every reason is a code of the reason catalogue in force for the version (the latest
  approved one, `_catalogue.catalogue_states`, under the approval policy in force for the
  model's tier and the environment), which the batch names (`catalogue`), so that a notice
  states reasons from a controlled catalogue mapped to scored features (12 CFR 1002.9(b)(2));
- no decision id is in the ledger already (read inside the write transaction, so two
  batches racing for one id cannot both win).

Erasure (`scoring.erased`, GDPR Art. 17) names decisions that exist and are not erased yet;
a purge (`scoring.purged`) names a cut-off no later than now minus the retention period
(`DecisionRetention`, 25 months by default: 12 CFR 1002.12(b)) and reaches only batches
decided wholly before it. Who may submit each kind: `_permissions.WRITERS`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.errors import (
    CatalogueChanged,
    DecisionErased,
    DecisionIdTaken,
    DecisionNotServing,
    InvalidConfiguration,
    InvalidDecision,
    InvalidStatement,
    ReasonNotInCatalogue,
    RetentionNotOver,
    UnknownDecision,
)
from ledger.governance._catalogue import CatalogueState
from ledger.governance._serving import PromotionFact, ServingHistory, Tenure
from ledger.log.decision_batch import DecisionBatch
from ledger.log.entries import Statement
from ledger.log.timestamps import format_rfc3339

_RETENTION = re.compile(r"\s*(\d{1,4})\s*(month|months|day|days)?\s*")


@dataclass(frozen=True, slots=True)
class DecisionRetention:
    """How long decision details are kept before a purge may remove them."""

    months: int = 25
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> DecisionRetention:
        """'25 months' (the default, 12 CFR 1002.12(b)), '760 days' or a number of months."""
        match = _RETENTION.fullmatch(str(text))
        if match is None:
            raise InvalidConfiguration(
                f"GOVLEDGER_DECISION_RETENTION is {text!r}: give a period like '25 months' "
                "or '760 days' (Regulation B keeps records 25 months, 12 CFR 1002.12(b))"
            )
        amount, unit = int(match[1]), match[2] or "months"
        return cls(days=amount) if unit.startswith("day") else cls(months=amount)

    def cut_off(self, now: datetime) -> datetime:
        """The latest moment whose decisions are out of retention at `now`."""
        if self.days:
            return now - timedelta(days=self.days)
        month = now.year * 12 + now.month - 1 - self.months
        year, month = divmod(month, 12)
        day = min(now.day, _days_in(year, month + 1))
        return now.replace(year=year, month=month + 1, day=day)

    def describe(self) -> str:
        return f"{self.days} days" if self.days else f"{self.months} months"


def _days_in(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (datetime(year, month + 1, 1) - datetime(year, month, 1)).days


def check_batch(
    statement: Statement,
    batch: DecisionBatch | None,
    *,
    history: ServingHistory,
    catalogue: CatalogueState | None,
    taken: Mapping[str, int],
) -> None:
    """Raise the refusal of a `scoring.batch` statement and its decisions, or return.

    `history` is the model's serving fold, `catalogue` the one in force for the version
    (None: none is), `taken` the batch's decision ids the ledger holds already (id -> the
    seq of their batch)."""
    if batch is None:
        raise InvalidStatement(
            "scoring.batch entries carry their decisions: record them with POST "
            "/v1/scoring/batches (LedgerClient.record_decisions)"
        )
    payload = statement.payload
    named = payload.get("catalogue")
    if (statement.model, statement.version) != (batch.model, batch.version) or payload != (
        batch.payload(named)
    ):
        raise InvalidStatement(
            "the scoring.batch payload is not the batch's: its root, count, outcomes and time "
            "range are computed from the decisions (LedgerStore.record_decisions builds it)"
        )
    _check_serving(batch, history)
    _check_reasons(batch, catalogue, named)
    for index, decision_id in enumerate(batch.decision_ids):
        if decision_id in taken:
            raise DecisionIdTaken(
                f"decision {index} ({decision_id}): that decision id is already recorded, in "
                f"the batch at seq {taken[decision_id]}; nothing of this batch was written "
                "(a retry of the same request must use the same Idempotency-Key)",
                row=index,
            )


def _check_serving(batch: DecisionBatch, history: ServingHistory) -> None:
    """Every decided_at falls inside a tenure of the version in the environment."""
    model, version, env = batch.model, batch.version, batch.environment
    served: set[str] = set()  # a batch's decisions share few times: ask once per time
    for index, decided_at in enumerate(batch.decided_at):
        if decided_at in served:
            continue
        why_not = not_serving_at(history, version, env, decided_at)
        if why_not is None:
            served.add(decided_at)
            continue
        raise DecisionNotServing(
            f"decision {index} ({batch.decision_ids[index]}): {model} {version} was not "
            f"serving in {env} at {decided_at}: {why_not}; nothing of the batch was written",
            row=index,
        )


def not_serving_at(
    history: ServingHistory,
    version: str,
    environment: str,
    decided_at: str,
    until: str | None = None,
) -> str | None:
    """None when `version` served in `environment` at the RFC 3339 time `decided_at` (from
    its promotion's recorded_at until the entry that ended the tenure) and no oversight stop
    was in force then (from the stop's recorded_at until the resume's, `history.stops`),
    else why not. With `until`, every moment from `decided_at` to `until` must be served
    (a batch's first and last decision: a tenure's end or a stop between them counts)."""
    tenures = [t for t in history.tenures(environment) if t.version == version]
    spans = [(t.promotion.recorded_at, _end(t)) for t in tenures]
    at = bisect_right([start for start, _ in spans], decided_at) - 1
    last = decided_at if until is None else until
    if at < 0 or decided_at >= spans[at][1]:
        return _why_not(tenures, at, decided_at, environment)
    if last >= spans[at][1]:
        return _why_not(tenures, at, spans[at][1], environment)
    for stop in history.stops(version):
        if stop.stop.recorded_at <= last and decided_at < stop.until:
            record = stop.stop
            resumed = (
                "not resumed since"
                if stop.resumed_by is None
                else f"resumed at seq {stop.resumed_by.seq} ({stop.until})"
            )
            return (
                f"it was stopped by {record.actor} at seq {record.seq} ({record.recorded_at}: "
                f"{record.reason}), {resumed}"
            )
    return None


def _end(tenure: Tenure) -> str:
    ended = tenure.ended_by
    return "\uffff" if ended is None else ended.recorded_at


def _why_not(tenures: Sequence[Tenure], at: int, decided_at: str, env: str) -> str:
    if not tenures:
        return f"it was never promoted into {env}"
    if at < 0:
        first = tenures[0].promotion
        return f"that is before it was promoted (seq {first.seq}, {first.recorded_at})"
    ended = tenures[at].ended_by
    assert ended is not None
    how = (
        f"replaced by {ended.version}"
        if isinstance(ended, PromotionFact)
        else "retired"
        if ended.version
        else "retired with its model"
    )
    return f"it was {how} at seq {ended.seq} ({ended.recorded_at})"


def _check_reasons(batch: DecisionBatch, catalogue: CatalogueState | None, named: object) -> None:
    """The named catalogue is the one in force, and every reason is one of its codes."""
    in_force = None if catalogue is None else catalogue.entry_hash.hex()
    if named != in_force and (named is not None or batch.uses_reasons()):
        raise CatalogueChanged(
            f"the batch names catalogue {named or 'none'}, but the catalogue in force for "
            f"{batch.model} {batch.version} is {in_force or 'none'}: record the batch again"
        )
    if not batch.uses_reasons():
        return
    if catalogue is None:
        index = next(i for i, r in enumerate(batch.reasons) if r)
        raise ReasonNotInCatalogue(
            f"decision {index} ({batch.decision_ids[index]}) gives reasons, but "
            f"{batch.model} {batch.version} has no approved reason catalogue in force: record "
            "and approve one (catalogue.recorded) before recording declines",
            row=index,
        )
    codes = {str(e.get("code")) for e in catalogue.entries}
    for index, reasons in enumerate(batch.reasons):
        for code in reasons:
            if code not in codes:
                raise ReasonNotInCatalogue(
                    f"decision {index} ({batch.decision_ids[index]}): reason {code!r} is not in "
                    f"the catalogue in force for {batch.model} {batch.version} (catalogue "
                    f"{catalogue.catalogue_version}, seq {catalogue.seq}); nothing of the "
                    "batch was written",
                    row=index,
                )


def check_erasure(
    payload: Mapping[str, object], found: Mapping[str, tuple[int, int | None]]
) -> None:
    """Every decision id an erasure names exists and is not erased yet (`found`: id ->
    (batch seq, erasing seq or None))."""
    ids = [str(i) for i in payload.get("decision_ids") or []]  # type: ignore[attr-defined]
    if len(set(ids)) != len(ids):
        raise InvalidDecision("an erasure names a decision id twice")
    for index, decision_id in enumerate(ids):
        if decision_id not in found:
            raise UnknownDecision(
                f"decision {decision_id} (item {index}) is not in the ledger: nothing was erased"
            )
        erased = found[decision_id][1]
        if erased is not None:
            raise DecisionErased(
                f"decision {decision_id} was already erased by seq {erased}: nothing was erased"
            )


def check_purge(
    payload: Mapping[str, object], now: datetime, retention: DecisionRetention, batches: int
) -> None:
    """A purge's cut-off is out of retention, and it reaches `batches` batches (at least one)."""
    before = str(payload["before"])
    latest = format_rfc3339(retention.cut_off(now))
    if before > latest:
        raise RetentionNotOver(
            f"decision details are kept {retention.describe()} (GOVLEDGER_DECISION_RETENTION; "
            f"12 CFR 1002.12(b)): a purge may reach decisions before {latest} at the latest, "
            f"not {before}"
        )
    if batches == 0:
        raise UnknownDecision(
            f"no batch decided wholly before {before} still holds details: nothing to purge"
        )
