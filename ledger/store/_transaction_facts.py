"""Ledger facts read inside an append transaction, with the batch's own entries overlaid.

A batch of statements is admitted one by one before any row is written, so each statement
must see the ones before it in the batch (a run, then its evaluation, in one request). The
overlay keeps those pending facts in dicts; everything else is an indexed query.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from ledger.governance import (
    ComparisonFact,
    DecisionFact,
    KeyFact,
    MonitoringFacts,
    OversightFact,
    PromotionFact,
    RetirementFact,
    RulesState,
    RunFact,
    comparison_from,
    decision_fact,
    oversight_fact,
    run_fact,
    serving_event,
)
from ledger.log import webauthn
from ledger.log.decision_batch import DecisionBatch
from ledger.log.entries import Entry, Statement
from ledger.log.kinds import DECISION_KINDS, MONITORING_KINDS, RULE_KINDS, RUN_KINDS, Kind
from ledger.log.signing import signed_statement_row
from ledger.store._sql import COMPARISON_PATTERN, Statements
from ledger.store._write_tx import DriverCursor

_RUN_KIND_VALUES = tuple(k.value for k in RUN_KINDS)
_MONITORING_KIND_VALUES = frozenset(k.value for k in MONITORING_KINDS)
_DECISION_KIND_VALUES = tuple(k.value for k in DECISION_KINDS)
RULE_KIND_VALUES = frozenset(k.value for k in RULE_KINDS)


class TransactionFacts:
    """`LedgerFacts` read inside the append transaction (a driver cursor), plus pending entries."""

    def __init__(self, tx: DriverCursor, sql: Statements, rules: RulesState) -> None:
        self._tx = tx
        self._sql = sql
        self._stored_rules = rules
        self._rules: RulesState | None = None
        self._tiers: dict[str, str | None] = {}
        self._runs: dict[tuple[str, str], RunFact] = {}
        self._decisions: dict[tuple[str, str], list[DecisionFact]] = {}
        self._models: set[str] = set()
        self._retired: set[tuple[str, str]] = set()
        self._keys: dict[str, KeyFact] = {}
        self._signatures: set[bytes] = set()
        self._statement_digests: set[bytes] = set()
        self._registered: dict[str, int] = {}
        self._subjects: dict[bytes, RunFact] = {}
        self._run_payloads: dict[tuple[str, str], str] = {}
        self._catalogues: dict[tuple[str, str], list[str]] = {}
        self._oversight: dict[tuple[str, str], list[OversightFact]] = {}
        self._loaded: set[tuple[str, str]] = set()
        self._stored_runs: dict[tuple[str, str], RunFact] = {}
        self._stored_retired: set[tuple[str, str]] = set()
        self._serving: dict[str, list[PromotionFact | RetirementFact]] = {}
        self._comparisons: dict[tuple[str, str], list[ComparisonFact]] = {}
        self._evaluations: dict[tuple[str, str], list[str]] = {}
        self._monitoring: dict[tuple[str, str], list[Entry]] = {}
        self._catalogue_rows: dict[tuple[str, str], list[tuple[RunFact, dict[str, Any]]]] = {}
        self._decision_ids: dict[str, int] = {}
        """Decision ids of the batches admitted in this transaction -> their batch's seq."""
        self._erased: dict[str, int] = {}
        """Decision ids erased by entries admitted in this transaction -> the erasing seq."""

    # -- read ahead ----------------------------------------------------------------------

    @staticmethod
    def wanted(statements: list[Statement]) -> list[tuple[str, str]]:
        """The (model, version) pairs whose runs and retirements `preload` should read: the
        admission of a run asks whether its version exists and whether its model is retired,
        that of an evaluation, decision or deployment which run its version has."""
        pairs: dict[tuple[str, str], None] = {}
        for st in statements:
            if st.model and st.version:
                pairs[(st.model, st.version)] = None
                pairs[(st.model, "")] = None
        return list(pairs)

    def preload(self, pairs: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
        """Take the rows of `Statements.group_facts(pairs)`: later questions about these
        pairs are answered without a query (one round trip for a whole group of runs)."""
        self._loaded.update(pairs)
        for row in rows:
            fact = _run_from_row(row)
            key = (fact.model, fact.version)
            if fact.kind == Kind.MODEL_RETIRED.value:
                self._stored_retired.add(key)
            elif key not in self._stored_runs:
                self._stored_runs[key] = fact

    # -- pending entries -----------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Record a just-admitted entry so that later statements in the batch see it."""
        st = entry.statement
        self._subjects[entry.entry_hash] = run_fact(
            entry.entry_hash, entry.seq, st.kind, st.model, st.version, st.actor
        )
        if st.model:
            self._models.add(st.model)
        if entry.signature is not None:
            _, digest, signature = signed_statement_row(entry)
            self._signatures.add(signature)
            self._statement_digests.add(digest)
        key = (st.model, st.version)
        if st.kind in _RUN_KIND_VALUES:
            fact = run_fact(entry.entry_hash, entry.seq, st.kind, st.model, st.version, st.actor)
            self._runs[key] = fact
            self._run_payloads[key] = st.payload_json
        elif st.kind == Kind.MODEL_REGISTERED.value:
            self._registered.setdefault(st.model, entry.seq)
            tier = st.payload.get("materiality_tier")
            self._tiers[st.model] = None if tier is None else str(tier)
        elif st.kind in RULE_KIND_VALUES:
            if self._rules is None:  # copy on the batch's first rule entry
                self._rules = self._stored_rules.copy()
            self._rules.apply(entry.seq, entry.entry_hash, st)
        elif st.kind == Kind.CATALOGUE_RECORDED.value:
            self._catalogues.setdefault(key, []).append(str(st.payload["catalogue_version"]))
            self._catalogue_rows.setdefault(key, []).append(
                (
                    run_fact(entry.entry_hash, entry.seq, st.kind, st.model, st.version, st.actor),
                    st.payload,
                )
            )
        elif st.kind == Kind.SCORING_ERASED.value:
            for decision_id in st.payload["decision_ids"]:
                self._erased[str(decision_id)] = entry.seq
        elif st.kind == Kind.OVERSIGHT_RECORDED.value:
            self._oversight.setdefault(key, []).append(
                oversight_fact(
                    entry.seq,
                    entry.entry_hash,
                    st.actor,
                    st.reason,
                    st.payload_json,
                    entry.recorded_at,
                )
            )
        elif st.kind in _DECISION_KIND_VALUES:
            self._decisions.setdefault((st.model, st.version), []).append(
                decision_fact(
                    entry.seq, entry.entry_hash, st.actor, st.kind, st.reason, st.payload_json
                )
            )
        elif st.kind == Kind.MODEL_RETIRED.value:
            self._retired.add((st.model, st.version))
            self._add_serving_event(entry)
        elif st.kind == Kind.DEPLOYMENT_PROMOTED.value:
            self._add_serving_event(entry)
        elif st.kind in _MONITORING_KIND_VALUES:
            self._monitoring.setdefault(key, []).append(entry)
        elif st.kind == Kind.EVALUATION_RECORDED.value:
            found = comparison_from(entry.seq, entry.entry_hash, st.version, st.payload_json)
            if found is not None:
                self._comparisons.setdefault(key, []).append(found)
            self._evaluations.setdefault(key, []).append(str(st.payload.get("evaluation", "")))
        elif st.kind == Kind.KEY_REGISTERED.value:
            payload = st.payload
            self._keys[payload["key_id"]] = KeyFact(
                payload["key_id"],
                st.actor,
                payload["public_key"],
                revoked=False,
                passkey=webauthn.credential_of(payload),
            )
        elif st.kind == Kind.KEY_REVOKED.value:
            key_id = st.payload["key_id"]
            known = self.signing_key(key_id)
            if known is not None:
                self._keys[key_id] = dataclasses.replace(known, revoked=True)

    def add_decisions(self, batch: DecisionBatch, seq: int) -> None:
        """Record the decision ids of a just-admitted batch (at `seq`): a later batch of the
        transaction naming one of them is refused like one naming a stored id."""
        for decision_id in batch.decision_ids:
            self._decision_ids[decision_id] = seq

    def _add_serving_event(self, entry: Entry) -> None:
        st = entry.statement
        event = serving_event(
            entry.seq,
            entry.entry_hash,
            st.kind,
            st.actor,
            st.model,
            st.version,
            entry.recorded_at,
            st.reason,
            st.payload_json,
        )
        self._serving.setdefault(st.model, []).append(event)

    # -- LedgerFacts ---------------------------------------------------------------------

    def _first(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        return self._tx.first(sql, params)

    def run_for(self, model: str, version: str) -> RunFact | None:
        if (model, version) in self._runs:
            return self._runs[(model, version)]
        if (model, version) in self._loaded:
            return self._stored_runs.get((model, version))
        row = self._first(self._sql.run_for, model, version)
        return None if row is None else _run_from_row(row)

    def decisions_for(self, model: str, version: str) -> list[DecisionFact]:
        rows = self._tx.all(self._sql.decisions_for, (model, version))
        stored = [
            decision_fact(int(r[0]), bytes(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]))
            for r in rows
        ]
        return stored + self._decisions.get((model, version), [])

    def model_known(self, model: str) -> bool:
        return model in self._models or self._first(self._sql.model_known, model) is not None

    def is_retired(self, model: str, version: str) -> bool:
        if (model, "") in self._retired or (model, version) in self._retired:
            return True
        if (model, "") in self._loaded and (model, version) in self._loaded:
            return (model, "") in self._stored_retired or (model, version) in self._stored_retired
        return self._first(self._sql.retired, model, version) is not None

    def signing_key(self, key_id: str) -> KeyFact | None:
        if key_id in self._keys:
            return self._keys[key_id]
        row = self._first(self._sql.signing_key, key_id)
        if row is None:
            return None
        return KeyFact(
            str(row[0]),
            str(row[1]),
            str(row[2]),
            revoked=row[3] is not None,
            passkey=webauthn.credential_of(json.loads(str(row[4]))),
        )

    def signature_seen(self, signature: bytes, statement_digest: bytes) -> bool:
        if signature in self._signatures or statement_digest in self._statement_digests:
            return True
        return self._first(self._sql.signature_seen, signature, statement_digest) is not None

    # -- rules, inventory, catalogues, oversight --------------------------------------------

    def rules(self) -> RulesState:
        return self._stored_rules if self._rules is None else self._rules

    def materiality_tier(self, model: str) -> str | None:
        if model in self._tiers:
            return self._tiers[model]
        row = self._first(self._sql.latest_registration, model)
        tier = None if row is None else json.loads(str(row[0])).get("materiality_tier")
        return None if tier is None else str(tier)

    def registration_seq(self, model: str) -> int | None:
        if model in self._registered:
            return self._registered[model]
        row = self._first(self._sql.registration_seq, model)
        return None if row is None else int(row[0])

    def registered_models(self) -> list[str]:
        rows = self._tx.all(self._sql.registered_models, ())
        return sorted({str(row[0]) for row in rows} | set(self._registered))

    def subject_by_hash(self, entry_hash: bytes) -> RunFact | None:
        if entry_hash in self._subjects:
            return self._subjects[entry_hash]
        row = self._first(self._sql.subject_by_hash, entry_hash)
        return None if row is None else _run_from_row(row)

    def run_payload(self, model: str, version: str) -> dict[str, Any] | None:
        if (model, version) in self._run_payloads:
            return dict(json.loads(self._run_payloads[(model, version)]))
        run = self.run_for(model, version)
        if run is None:
            return None
        row = self._first(self._sql.payload_by_hash, run.entry_hash)
        return None if row is None else dict(json.loads(str(row[0])))

    def catalogue_versions(self, model: str, version: str) -> list[str]:
        rows = self._tx.all(self._sql.catalogue_payloads, (model, version))
        stored = [str(json.loads(str(r[0]))["catalogue_version"]) for r in rows]
        return stored + self._catalogues.get((model, version), [])

    def oversight_for(self, model: str, version: str) -> list[OversightFact]:
        rows = self._tx.all(self._sql.oversight_rows, (model, version))
        stored = [
            oversight_fact(int(r[0]), bytes(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]))
            for r in rows
        ]
        return stored + self._oversight.get((model, version), [])

    # -- serving -------------------------------------------------------------------------

    def serving_events(self, model: str) -> tuple[list[PromotionFact], list[RetirementFact]]:
        rows = self._tx.all(self._sql.serving_events, (model,))
        events = [
            serving_event(
                int(r[0]),
                bytes(r[1]),
                str(r[2]),
                str(r[3]),
                model,
                str(r[4]),
                str(r[5]),
                str(r[6]),
                str(r[7]),
            )
            for r in rows
        ] + self._serving.get(model, [])
        promotions = [e for e in events if isinstance(e, PromotionFact)]
        retirements = [e for e in events if isinstance(e, RetirementFact)]
        return promotions, retirements

    def comparisons_for(self, model: str, version: str) -> list[ComparisonFact]:
        rows = self._tx.all(self._sql.comparison_rows, (model, version, COMPARISON_PATTERN))
        stored = [comparison_from(int(r[0]), bytes(r[1]), version, str(r[2])) for r in rows]
        return [c for c in stored if c is not None] + self._comparisons.get((model, version), [])

    def evaluations_for(self, model: str, version: str) -> list[str]:
        rows = self._tx.all(self._sql.evaluation_rows, (model, version))
        stored = [str(json.loads(str(r[0])).get("evaluation", "")) for r in rows]
        return stored + self._evaluations.get((model, version), [])

    def monitoring_for(self, model: str, version: str) -> MonitoringFacts:
        found = MonitoringFacts()
        for r in self._tx.all(self._sql.monitoring_rows, (model, version)):
            found.add(int(r[0]), bytes(r[1]), str(r[2]), str(r[3]), model, version, str(r[4]),
                      str(r[5]))  # fmt: skip
        for e in self._monitoring.get((model, version), []):
            st = e.statement
            found.add(e.seq, e.entry_hash, st.kind, st.actor, model, version, e.recorded_at,
                      st.payload_json)  # fmt: skip
        return found

    # -- scoring decisions ---------------------------------------------------------------

    def catalogues_for(self, model: str, version: str) -> list[tuple[RunFact, dict[str, Any]]]:
        rows = self._tx.all(self._sql.catalogue_rows, (model, version))
        stored = [(_run_from_row(r), dict(json.loads(str(r[6])))) for r in rows]
        return stored + self._catalogue_rows.get((model, version), [])

    def _stored_decisions(self, decision_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        step = _DECISION_IDS_PER_QUERY
        for start in range(0, len(decision_ids), step):
            chunk = list(decision_ids[start : start + step])
            rows.extend(self._tx.all(self._sql.decision_ids_in(len(chunk)), chunk))
        return rows

    def decisions_taken(self, decision_ids: Sequence[str]) -> dict[str, int]:
        taken = {str(r[0]): int(r[1]) for r in self._stored_decisions(decision_ids)}
        if self._decision_ids:
            pending = self._decision_ids
            taken.update({i: pending[i] for i in decision_ids if i in pending})
        return taken

    def decision_details(self, decision_ids: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        found = {
            str(r[0]): (int(r[1]), None if r[2] is None else int(r[2]))
            for r in self._stored_decisions(decision_ids)
        }
        for decision_id in decision_ids:
            if decision_id in self._decision_ids and decision_id not in found:
                found[decision_id] = (self._decision_ids[decision_id], None)
            if decision_id in self._erased and decision_id in found:
                found[decision_id] = (found[decision_id][0], self._erased[decision_id])
        return found

    def purgeable_batches(self, before: str) -> int:
        row = self._tx.first(self._sql.purgeable_batches, (before,))
        return 0 if row is None else int(row[0])


_DECISION_IDS_PER_QUERY = 500
"""Decision ids per `IN` query: well inside either driver's limit of bound parameters."""


def _run_from_row(row: tuple[Any, ...]) -> RunFact:
    return run_fact(bytes(row[0]), int(row[1]), str(row[2]), str(row[3]), str(row[4]), str(row[5]))
