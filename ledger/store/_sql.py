"""Raw SQL for the append and verification hot paths, in the placeholder style of each driver.

The append transaction runs a handful of tiny statements; building SQLAlchemy expression
objects for each costs more than the statements themselves, so the hot path runs these
fixed strings on a driver cursor (`ledger.write_tx`). Verification reads every entry, so it
reads them with these strings too (see `LedgerStore.iter_row_chunks`). Written with `?`
(sqlite3) and rewritten to `%s` for psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ledger.log.entries import ROW_FIELDS, ROW_SEQ
from ledger.log.kinds import RULE_KINDS

ENTRY_COLUMNS = ", ".join(ROW_FIELDS)
"""The columns of `entries` in the order every entry query selects and inserts them: the one
order of an entry row (`ledger.log.entries.ROW_FIELDS`)."""
_ENTRY_VALUES = ", ".join("?" * len(ROW_FIELDS))
RUN_KINDS_SQL = "('run.training', 'run.recalibration')"
RULE_KINDS_SQL = "(" + ", ".join(f"'{k.value}'" for k in sorted(RULE_KINDS)) + ")"
"""The access and policy kinds (`ledger.log.kinds.RULE_KINDS`), for `IN`."""
HIGH_VOLUME_KINDS = frozenset({"evaluation.recorded", "note", "run.training"})
"""The kinds that make nearly every entry, always looked up by model and version: the kind
index leaves them out (migration 0005)."""
GOVERNANCE_KIND_SQL = "kind NOT IN ('evaluation.recorded', 'note', 'run.training')"
"""The predicate of the partial index `ix_entries_governance_kind`. SQLite's planner uses a
partial index only for a query whose WHERE clause contains its predicate term verbatim, so
every query by a kind outside HIGH_VOLUME_KINDS adds this exact text."""
APPLICANT_AT = 27
"""Where, 1-based, the 64 hex digits of the applicant's keyed hash begin in a decision's
detail: after `{"applicant":"hmac-sha256:` (RFC 8785 puts `applicant` first)."""
APPLICANT_LOOKUP_LIMIT = 1000
"""The most decisions one applicant look-up returns."""
DECISION_KINDS_SQL = "('approval.granted', 'approval.rejected')"
COMPARISON_PATTERN = '%"compared_with":%'
"""The LIKE pattern (a bound parameter: `%` in SQL text would clash with psycopg's
placeholders) that finds evaluations naming another run, in canonical payload text."""


@dataclass(frozen=True)
class Statements:
    """The hot-path statements for one dialect."""

    lock_head: str
    find_idempotency: str
    insert_entry: str
    insert_node: str
    insert_idempotency: str
    update_head: str
    run_for: str
    decisions_for: str
    model_known: str
    retired: str
    signing_key: str
    signature_seen: str
    insert_signed: str
    insert_key: str
    revoke_key: str
    registration_seq: str
    registered_models: str
    subject_by_hash: str
    payload_by_hash: str
    catalogue_payloads: str
    oversight_rows: str
    entry_at: str
    recorded_from: str
    entries_from: str
    entries_between: str
    key_events: str
    rule_entries_after: str
    latest_registration: str
    serving_events: str
    comparison_rows: str
    evaluation_rows: str
    monitoring_rows: str
    serving_events_between: str
    catalogue_rows: str
    insert_decision: str
    insert_scoring_batch: str
    purgeable_batches: str
    purge_decisions: str
    decision_row: str
    batch_leaves: str
    batch_rows: str
    decision_rows_after: str
    decision_leaves_after: str
    decision_bytes_after: str
    """decision_leaves_after with the decision id and detail as bytes (their UTF-8): the
    verifier hashes the bytes, and reading them as text would decode them only to encode
    them again."""
    applicant_decisions: str
    scoring_entries: str
    stray_decision: str

    FACT_PAIRS_PER_QUERY = 200
    """`group_facts` queries are cut in chunks of this many pairs: well inside the limits of
    bound parameters (SQLite 32,766) and expression depth (SQLite 1,000) of either driver."""

    def group_facts(self, pairs: int) -> str:
        """Runs and retirements of `pairs` (model, version) pairs in one query (each pair's
        parameters: model, version); a group commit's admission reads them up front.

        The pairs drive the join (CROSS JOIN fixes that order in SQLite) and each is a few
        seeks in ix_entries_model_version_kind (model, version and each kind): a version's
        thousands of scoring batches are never read.
        """
        mark = "%s" if "%s" in self.find_idempotency else "?"
        values = ", ".join([f"({mark}, {mark})"] * pairs)
        return (
            f"WITH wanted (model, version) AS (VALUES {values}) "
            "SELECT e.entry_hash, e.seq, e.kind, e.model, e.version, e.actor "
            "FROM wanted CROSS JOIN entries AS e "
            "WHERE e.model = wanted.model AND e.version = wanted.version "
            "AND e.kind IN ('run.training', 'run.recalibration', 'model.retired') "
            "ORDER BY e.seq"
        )

    def entries_in(self, count: int) -> str:
        """The entries at `count` seqs, in seq order."""
        mark = "%s" if "%s" in self.find_idempotency else "?"
        return (
            f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq IN ({', '.join([mark] * count)}) "
            "ORDER BY seq"
        )

    def decision_ids_in(self, count: int) -> str:
        """Which of `count` decision ids the detail store holds: (id, batch seq, erased seq)."""
        mark = "%s" if "%s" in self.find_idempotency else "?"
        return (
            "SELECT decision_id, batch_seq, erased_seq FROM scoring_decisions "
            f"WHERE decision_id IN ({', '.join([mark] * count)})"
        )

    def erase_decisions(self, count: int) -> str:
        """Erase the details of `count` decisions (parameters: the erasing seq, the ids)."""
        mark = "%s" if "%s" in self.find_idempotency else "?"
        return (
            f"UPDATE scoring_decisions SET detail = NULL, erased_seq = {mark} "
            f"WHERE decision_id IN ({', '.join([mark] * count)}) AND erased_seq IS NULL"
        )

    def find_idempotency_keys(self, count: int) -> str:
        """Look up `count` Idempotency-Keys at once (a group commit's keyed requests)."""
        mark = "%s" if "%s" in self.find_idempotency else "?"
        return (
            "SELECT key, request_hash, first_seq, count FROM idempotency_keys "
            f"WHERE key IN ({', '.join([mark] * count)})"
        )


def statements_for(dialect: str) -> Statements:
    """The statements for a SQLAlchemy dialect name ('sqlite' or 'postgresql').

    A query that names model, version and kind seeks all three in
    ix_entries_model_version_kind (migration 0009), so a version's scoring batches (one
    entry per thousand decisions) cost it nothing (tests/ledger/test_query_plans).
    """
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    raw = Statements(
        lock_head="SELECT size, last_hash, last_recorded_at, frontier FROM ledger_head "
        "WHERE id = 1" + lock,
        find_idempotency="SELECT request_hash, first_seq, count FROM idempotency_keys "
        "WHERE key = ?",
        insert_entry=f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES ({_ENTRY_VALUES})",
        insert_node="INSERT INTO merkle_nodes (node_id, hash) VALUES (?, ?)",
        insert_idempotency="INSERT INTO idempotency_keys (key, request_hash, first_seq, count, "
        "created_at) VALUES (?, ?, ?, ?, ?)",
        update_head="UPDATE ledger_head SET size = ?, last_hash = ?, last_recorded_at = ?, "
        "frontier = ? WHERE id = 1",
        run_for="SELECT entry_hash, seq, kind, model, version, actor FROM entries "
        f"WHERE model = ? AND version = ? AND kind IN {RUN_KINDS_SQL} ORDER BY seq LIMIT 1",
        decisions_for="SELECT seq, entry_hash, actor, kind, reason, payload FROM entries "
        f"WHERE model = ? AND version = ? AND kind IN {DECISION_KINDS_SQL} ORDER BY seq",
        model_known="SELECT seq FROM entries WHERE model = ? LIMIT 1",
        retired="SELECT seq FROM entries WHERE model = ? AND (version = '' OR version = ?) "
        "AND kind = 'model.retired' LIMIT 1",
        signing_key="SELECT k.key_id, k.actor, k.public_key, k.revoked_seq, e.payload "
        "FROM signing_keys k JOIN entries e ON e.seq = k.registered_seq WHERE k.key_id = ?",
        signature_seen="SELECT seq FROM signed_statements WHERE signature = ? "
        "OR statement_digest = ?",
        insert_signed="INSERT INTO signed_statements (seq, statement_digest, signature) "
        "VALUES (?, ?, ?)",
        insert_key="INSERT INTO signing_keys (key_id, actor, public_key, registered_seq) "
        "VALUES (?, ?, ?, ?)",
        revoke_key="UPDATE signing_keys SET revoked_seq = ? WHERE key_id = ?",
        registration_seq="SELECT seq FROM entries WHERE model = ? AND kind = 'model.registered' "
        "ORDER BY seq LIMIT 1",
        registered_models="SELECT DISTINCT model FROM entries WHERE kind = 'model.registered'",
        subject_by_hash="SELECT entry_hash, seq, kind, model, version, actor FROM entries "
        "WHERE entry_hash = ?",
        payload_by_hash="SELECT payload FROM entries WHERE entry_hash = ?",
        catalogue_payloads="SELECT payload FROM entries WHERE model = ? AND version = ? "
        "AND kind = 'catalogue.recorded' ORDER BY seq",
        oversight_rows="SELECT seq, entry_hash, actor, reason, payload, recorded_at FROM entries "
        "WHERE model = ? AND version = ? AND kind = 'oversight.recorded' ORDER BY seq",
        entry_at="SELECT entry_hash, recorded_at FROM entries WHERE seq = ?",
        recorded_from="SELECT recorded_at FROM entries WHERE seq >= ? ORDER BY seq LIMIT 1",
        entries_from=f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?",
        entries_between=f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= ? AND seq < ? "
        "ORDER BY seq LIMIT ?",
        key_events="SELECT seq, kind, actor, payload, key_id FROM entries "
        f"WHERE kind IN ('key.registered', 'key.revoked') AND {GOVERNANCE_KIND_SQL} "
        "ORDER BY seq",
        rule_entries_after=f"SELECT {ENTRY_COLUMNS} FROM entries "
        f"WHERE kind IN {RULE_KINDS_SQL} AND {GOVERNANCE_KIND_SQL} AND seq > ? ORDER BY seq",
        latest_registration="SELECT payload FROM entries WHERE model = ? "
        "AND kind = 'model.registered' ORDER BY seq DESC LIMIT 1",
        serving_events="SELECT seq, entry_hash, kind, actor, version, recorded_at, reason, "
        "payload FROM entries WHERE kind IN ('deployment.promoted', 'model.retired') "
        f"AND {GOVERNANCE_KIND_SQL} AND model = ? ORDER BY seq",
        serving_events_between="SELECT seq, entry_hash, kind, actor, version, recorded_at, "
        "reason, payload FROM entries WHERE kind IN ('deployment.promoted', 'model.retired') "
        f"AND {GOVERNANCE_KIND_SQL} AND model = ? AND seq >= ? AND seq < ? ORDER BY seq",
        comparison_rows="SELECT seq, entry_hash, payload FROM entries WHERE model = ? "
        "AND version = ? AND kind = 'evaluation.recorded' "
        "AND payload LIKE ? ORDER BY seq",
        evaluation_rows="SELECT payload FROM entries WHERE model = ? AND version = ? "
        "AND kind = 'evaluation.recorded' ORDER BY seq",
        catalogue_rows="SELECT entry_hash, seq, kind, model, version, actor, payload FROM entries "
        "WHERE model = ? AND version = ? AND kind = 'catalogue.recorded' ORDER BY seq",
        insert_decision="INSERT INTO scoring_decisions (batch_seq, leaf_index, decision_id, "
        "leaf_hash, detail) VALUES (?, ?, ?, ?, ?)",
        insert_scoring_batch="INSERT INTO scoring_batches (seq, model, version, environment, "
        "count, first_decided_at, last_decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        purgeable_batches="SELECT count(*) FROM scoring_batches AS b WHERE b.last_decided_at < ? "
        "AND EXISTS (SELECT 1 FROM scoring_decisions AS d WHERE d.batch_seq = b.seq "
        "AND d.erased_seq IS NULL)",
        purge_decisions="UPDATE scoring_decisions SET detail = NULL, erased_seq = ? "
        "WHERE erased_seq IS NULL AND batch_seq IN (SELECT seq FROM scoring_batches "
        "WHERE last_decided_at < ? AND seq < ?)",
        decision_row="SELECT batch_seq, leaf_index, leaf_hash, detail, erased_seq "
        "FROM scoring_decisions WHERE decision_id = ?",
        batch_leaves="SELECT leaf_hash FROM scoring_decisions WHERE batch_seq = ? "
        "ORDER BY leaf_index",
        batch_rows="SELECT seq, model, version, environment, count, first_decided_at, "
        "last_decided_at FROM scoring_batches WHERE seq >= ? AND seq < ? ORDER BY seq",
        decision_rows_after="SELECT batch_seq, leaf_index, decision_id, leaf_hash, detail, "
        "erased_seq FROM scoring_decisions WHERE batch_seq >= ? AND batch_seq < ? "
        "ORDER BY batch_seq, leaf_index",
        scoring_entries="SELECT seq, kind, payload FROM entries WHERE kind IN ('scoring.batch', "
        f"'scoring.erased', 'scoring.purged') AND {GOVERNANCE_KIND_SQL} ORDER BY seq",
        stray_decision="SELECT batch_seq FROM scoring_decisions WHERE batch_seq < ? "
        "OR batch_seq >= ? LIMIT 1",
        decision_leaves_after="SELECT decision_id, leaf_hash, detail, erased_seq "
        "FROM scoring_decisions WHERE batch_seq >= ? AND batch_seq < ? "
        "ORDER BY batch_seq, leaf_index",
        decision_bytes_after="SELECT CAST(decision_id AS BLOB), leaf_hash, CAST(detail AS BLOB), "
        "erased_seq FROM scoring_decisions WHERE batch_seq >= ? AND batch_seq < ? "
        "ORDER BY batch_seq, leaf_index",
        applicant_decisions="SELECT decision_id, detail FROM scoring_decisions "
        f"WHERE batch_seq >= ? AND batch_seq < ? AND substr(detail, {APPLICANT_AT}, 64) = ? "
        f"ORDER BY batch_seq, leaf_index LIMIT {APPLICANT_LOOKUP_LIMIT}",
        monitoring_rows="SELECT seq, entry_hash, kind, actor, recorded_at, payload FROM entries "
        "WHERE model = ? AND version = ? AND kind IN ('monitoring.plan', "
        "'monitoring.reported', 'monitoring.responded') ORDER BY seq",
    )
    if dialect == "sqlite":
        return raw
    postgresql = {k: v.replace("?", "%s") for k, v in raw.__dict__.items()}
    postgresql["decision_bytes_after"] = (
        postgresql["decision_bytes_after"]
        .replace("CAST(decision_id AS BLOB)", "convert_to(decision_id, 'UTF8')")
        .replace("CAST(detail AS BLOB)", "convert_to(detail, 'UTF8')")
    )
    return Statements(**postgresql)


def entry_chunks(
    fetch_all: Callable[[str, tuple[int, ...]], list[tuple[Any, ...]]],
    statements: Statements,
    start: int,
    stop: int | None,
    chunk: int,
) -> Iterator[list[tuple[Any, ...]]]:
    """Entry rows with start <= seq (< stop) in seq order, up to `chunk` rows at a time.

    Keyset pagination on seq: each chunk is one short query, so memory stays flat and no
    transaction stays open for the length of a pass over the log. `fetch_all(sql, params)`
    runs one query on a DBAPI cursor and returns all its rows, so the store (with its
    pool) and a verification worker (with a bare driver connection) share this loop.
    """
    next_seq = start
    while stop is None or next_seq < stop:
        if stop is None:
            rows = fetch_all(statements.entries_from, (next_seq, chunk))
        else:
            rows = fetch_all(statements.entries_between, (next_seq, stop, chunk))
        if not rows:
            return
        yield rows
        if len(rows) < chunk:
            return
        next_seq = int(rows[-1][ROW_SEQ]) + 1
