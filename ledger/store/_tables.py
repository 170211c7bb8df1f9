"""Every table of the ledger database, on one `MetaData`. The schema itself is made by Alembic.

One `metadata` describes the whole database, the ledger's tables and the service's (web
sessions) alike, so `migrations/env.py` has one `target_metadata` and
`tests/ledger/test_migrations.py` checks that what the migrations create is exactly what is
described here. The service's tables live here, not in `api/`, because they are part of the
same schema and `ledger` may not import `api` (docs/architecture.md); the code that reads
and writes them stays in `api.service._identity` and `api.web._sessions`.

`entries`, `merkle_nodes`, `checkpoints` and `signed_statements` are append-only: migrations
install triggers that refuse UPDATE and DELETE on them (APPEND_ONLY_TABLES). `ledger_head`
is the sequencer row (size, last hash, Merkle frontier), locked by every append.
`signing_keys` is a derived index of key.registered / key.revoked entries, rebuildable from
the log.

`scoring_decisions` and `scoring_batches` (migration 0009) hold scoring decisions: their
details (erasable, never otherwise changed: triggers) and the index of their batches.

`webhook_events`, `webhook_deliveries` and `webhook_cursor` are the notification outbox
(migration 0008): operational, not hash-chained, never written by an append (the notifier
tails the log and writes them in its own transactions, `ledger.store._outbox`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from ledger.log.webauthn import MAX_SIGNATURE_CHARS
from ledger.store._sql import GOVERNANCE_KIND_SQL

metadata = MetaData()
"""The one schema: every table below, and nothing else, is in the migrated database."""

# A 64-bit key that is also SQLite's rowid (`INTEGER PRIMARY KEY`, migration 0004): one
# B-tree per append-only table instead of a rowid tree plus a unique index on the key.
RowKey = BigInteger().with_variant(Integer(), "sqlite")

entries = Table(
    "entries",
    metadata,
    Column("seq", RowKey, primary_key=True, autoincrement=False),
    Column("entry_id", String(36), nullable=False, unique=True),
    Column("recorded_at", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("model", String(200), nullable=False),
    Column("version", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("issued_at", String(32), nullable=True),
    # An Ed25519 signature is 88 characters, a passkey's assertion up to MAX_SIGNATURE_CHARS
    # (migration 0011). SQLite checks no VARCHAR length, so its column keeps its declared 100
    # rather than rebuilding the append-only table for a number it never enforces.
    Column(
        "signature", String(MAX_SIGNATURE_CHARS).with_variant(String(100), "sqlite"), nullable=True
    ),
    Column("key_id", String(64), nullable=True),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("entry_hash", LargeBinary(32), nullable=False, unique=True),
    Index("ix_entries_model_version_kind", "model", "version", "kind"),
    Index(
        "ix_entries_governance_kind",
        "kind",
        sqlite_where=text(GOVERNANCE_KIND_SQL),
        postgresql_where=text(GOVERNANCE_KIND_SQL),
    ),
    Index("ix_entries_actor", "actor"),
    Index(
        "ux_entries_signature",
        "signature",
        unique=True,
        sqlite_where=text("signature IS NOT NULL"),
        postgresql_where=text("signature IS NOT NULL"),
    ),
)
"""One ledger entry; `payload` holds the payload's RFC 8785 canonical JSON text.

Indexes (migration 0005): no index on `recorded_at`, which never decreases along `seq` (a
time range is a seq range); the kind index covers the rare governance kinds only. Since
migration 0009 the (model, version) index ends with the kind, so a question about one kind
of a version seeks it instead of reading the version's every scoring batch."""

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("node_id", RowKey, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)
"""A complete aligned Merkle subtree hash; node_id = (level << 48) | index."""

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", RowKey, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)
"""A signed tree head the ledger issued (C2SP checkpoint text)."""

ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("last_hash", LargeBinary(32), nullable=False),
    Column("last_recorded_at", String(32), nullable=False),
    Column("frontier", LargeBinary, nullable=False),
)
"""The sequencer row: one per ledger, locked for the length of every append."""

ledger_meta = Table(
    "ledger_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Ledger-wide facts: origin, checkpoint verifier key, creation time, format."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("request_hash", LargeBinary(32), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
)
"""A write's Idempotency-Key, the hash of its request and the entries it produced."""

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("actor", String(200), nullable=False, index=True),
    # 44 characters for an Ed25519 key, up to 200 for a passkey's DER SubjectPublicKeyInfo
    # (migration 0011; SQLite checks no VARCHAR length).
    Column("public_key", String(200).with_variant(String(64), "sqlite"), nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
    Column("revoked_seq", BigInteger, nullable=True),
)
"""Derived index of registered actor keys (from key.registered / key.revoked entries). What
a passkey's assertions are checked against besides its key (algorithm, relying party,
origins) is read from its registration entry, at `registered_seq`."""

signed_statements = Table(
    "signed_statements",
    metadata,
    Column("seq", RowKey, primary_key=True, autoincrement=False),
    Column("statement_digest", LargeBinary(32), nullable=False, unique=True),
    Column("signature", LargeBinary(64), nullable=False, unique=True),
)
"""One row per signed entry: the replay guard the database enforces (migration 0006).

`statement_digest` is SHA-256 of the canonical statement (what the signature covers),
`signature` the signature's 64 decoded bytes; each is UNIQUE, so neither the same signed
statement nor the same signature in another base64 spelling can be written twice."""

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("user_name", String(200), nullable=False, index=True),
    Column("key_id", String(16), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False, index=True),
    Column("issuer", String(500), nullable=True),
    Column("subject", String(255), nullable=True),
    Column("roles", String(500), nullable=True),
)
"""Signed-in browsers (migration 0003): only SHA-256 of each session token is stored, with
the API key the session was opened with (revoking the key ends the session). Users and
keys are entries of the log since migration 0007, so neither column is a foreign key: each
request checks both against the access set in force (`api.web._sessions`). A single sign-on
(migration 0012) has no key: its row names the OpenID provider's issuer and subject and the
roles its claims granted at sign-in."""

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", RowKey, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("event_key", String(255), nullable=False, unique=True),
    Column("seq", BigInteger, nullable=True),
    Column("data", Text, nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("fanned_out_at", String(32), nullable=True),
)
"""A notification event (migration 0008): `data` is its JSON text, `event_key` makes it
happen once (`entry:<seq>:<type>` for an entry's, the caller's key otherwise), `message_id`
is the Standard Webhooks `webhook-id` every attempt to every endpoint carries;
`fanned_out_at` is set when its deliveries to the configured endpoints were created."""

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", RowKey, primary_key=True, autoincrement=True),
    Column("event_id", BigInteger, ForeignKey("webhook_events.id"), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", String(32), nullable=False),
    Column("claimed_until", String(32), nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("delivered_at", String(32), nullable=True),
    UniqueConstraint("event_id", "endpoint", name="uq_webhook_deliveries_event_endpoint"),
    Index("ix_webhook_deliveries_queue", "endpoint", "status", "event_id"),
)
"""One event to one endpoint: `pending` until a 2xx (`delivered`) or until retries run out
(`failed`, kept). `claimed_until` and `claim_token` are the lease of the attempt in flight,
so that of several service processes only one makes each attempt."""

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
)
"""The last seq whose entry was turned into events: one row, created at the head of the log
by the first notifier that runs (notifications begin when webhooks are first configured)."""

scoring_batches = Table(
    "scoring_batches",
    metadata,
    Column("seq", RowKey, primary_key=True, autoincrement=False),
    Column("model", String(200), nullable=False),
    Column("version", String(64), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_decided_at", String(32), nullable=False),
    Column("last_decided_at", String(32), nullable=False),
    Index("ix_scoring_batches_model_version", "model", "version"),
)
"""One `scoring.batch` entry (migration 0009): its version, environment, count and time
range, derived from the entry and written with it; purges and documents read it."""

scoring_decisions = Table(
    "scoring_decisions",
    metadata,
    Column("batch_seq", BigInteger, nullable=False),
    Column("leaf_index", Integer, nullable=False),
    Column("decision_id", String(128), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("erased_seq", BigInteger, nullable=True),
    PrimaryKeyConstraint("batch_seq", "leaf_index", name="pk_scoring_decisions"),
    UniqueConstraint("decision_id", name="uq_scoring_decisions_decision_id"),
)
"""The detail store of scoring decisions (migration 0009): one row per decision, written in
the transaction of its batch's entry. `detail` is the decision's RFC 8785 JSON
(`ledger.log.scoring`), NULL once erased or purged by the entry at `erased_seq`; triggers
refuse any other change. No index on the applicant's keyed hash (random values: a page of
write-ahead log per decision); it sits at a fixed place of `detail`
(`ledger.store._sql.APPLICANT_AT`)."""

WEBHOOK_STATUSES = ("pending", "delivered", "failed")

APPEND_ONLY_TABLES = ("entries", "merkle_nodes", "checkpoints", "signed_statements")

witness_cosignatures = Table(
    "witness_cosignatures",
    metadata,
    Column("witness", String(512), primary_key=True),
    Column("size", RowKey, primary_key=True, autoincrement=False),
    Column("line", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)
"""A witness's cosignature line (c2sp.org/tlog-cosignature) on the checkpoint of `size`,
keyed by the witness's vkey; appended to the note `GET /v1/checkpoint` serves. Operational,
not evidence: the line proves itself against the witness key, so it is not hash-chained."""
