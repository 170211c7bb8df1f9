"""Tamper campaign (issue 7, part 1): random single mutations of a mixed SQLite ledger, made
behind the API's and the triggers' back, are every one detected at the right first bad seq.

A ledger of runs, evaluations citing stored artifacts, signed approvals and rejections by
registered keys, key rotations (revocation, new registration), deployments, recalibrations
and notes is built once, its triggers dropped, and the file kept as the pristine copy. Each
mutation starts from a fresh copy of that file, changes one thing with plain SQL (or the
artifact store's files), and runs `verify_ledger` with a checkpoint of the whole pristine
log held outside the database (`trusted_checkpoints`). The result must be `ok is False`,
naming the seq the mutation makes the first bad one and an expected problem.

What the attacker does to the sequencer row (`ledger_head`), per mutation:
- edits in place (raw or with the entry's own hash recomputed), swaps, artifact and signature
  mutations leave the size unchanged; an edit of the LAST entry with its hash recomputed also
  writes the new hash into the head, so the head gives nothing away (only the trusted
  checkpoint then tells: checkpoint-mismatch, no seq to name, like the insider rewrite);
- deletions and forged insertions set the head's size and last hash to the tampered log's
  (otherwise a head-mismatch would catch them, which is too easy);
- truncation and the insider rewrite rebuild the head (and the rewrite the Merkle nodes) and
  delete the stored checkpoints, so that only the checkpoint held outside can tell.
Not in the campaign, by design: appending a well-formed UNSIGNED entry at the tail with
every hash, node and the head updated is an append, indistinguishable from an honest one;
writers are authenticated at the API, and what they sign is checked here.

`make test` runs ~150 mutations on ~1,000 entries (one test per mutation kind); the `slow`
variant the issue's 1,000 mutations on 5,000 entries, reporting a table kind/count/detected.
A failure names the kind, the seed and the mutation's number: rerun that to reproduce it.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from ledger.governance import _citations as citations
from ledger.log import ed25519_strict, signing
from ledger.log.entries import Statement, build_statement
from ledger.store import ArtifactStore, LedgerSettings, LedgerStore, init_ledger, merkle_nodes
from ledger.verify import Problem, VerificationReport, verify_ledger
from tests.ledger.factories import (
    MODEL,
    Actor,
    deployment,
    evaluation,
    note,
    recalibration,
    stored_artifact,
    training,
)
from tests.ledger.regulated import build_regulated_ledger
from tests.ledger.tamper import (
    ENTRY_COLUMNS,
    disable_append_only_triggers,
    entry_rows,
    malleated,
    rebuild_tree,
    reencoded,
    replace_rows,
    rewrite_chain,
    row_hash,
    set_columns,
    set_head,
    truncate_log,
)

SIGNATURE_REQUIRED = frozenset({"approval.granted", "approval.rejected", "key.registered"})
STATEMENT_COLUMNS = ("kind", "model", "version", "actor", "reason", "payload", "issued_at")
KINDS = (
    "note",
    "run.training",
    "evaluation.recorded",
    "deployment.promoted",
    "model.retired",
    "key.revoked",
    "approval.granted",
    "approval.rejected",
    "key.registered",
)


# --- the ledger ------------------------------------------------------------------------------


@dataclass
class Keys:
    """Every reviewer key the builder used: key_id -> (actor, private key, revoked at seq)."""

    owner: dict[str, str] = field(default_factory=dict)
    private: dict[str, signing.Ed25519PrivateKey] = field(default_factory=dict)
    registered_at: dict[str, int] = field(default_factory=dict)
    revoked_at: dict[str, int] = field(default_factory=dict)

    def add(self, actor: Actor, seq: int) -> None:
        self.owner[actor.key_id] = actor.name
        self.private[actor.key_id] = actor.key
        self.registered_at[actor.key_id] = seq

    def valid_at(self, key_id: str, seq: int) -> bool:
        """Registered before `seq` and not revoked before it."""
        return self.registered_at[key_id] < seq and self.revoked_at.get(key_id, seq) >= seq


@dataclass
class CampaignLedger:
    """The pristine ledger: its file, the store and what the builder knows about it."""

    store: LedgerStore
    artifacts: ArtifactStore
    live: Path
    pristine: Path
    verifier_key: str
    trusted_note: str
    size: int
    keys: Keys
    first_citing: dict[str, int]
    """Stored artifact digest -> the first seq citing it (where its check happens)."""
    touched_artifacts: dict[Path, bytes] = field(default_factory=dict)
    """Artifact files a mutation changed, with their original bytes."""

    def restore(self) -> None:
        """Put the pristine file back (the engine reconnects to it)."""
        self.store.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.live}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.pristine, self.live)

    def verify(self, trusted: bool = True) -> VerificationReport:
        return verify_ledger(
            self.store,
            verifier_key=self.verifier_key,
            trusted_checkpoints=[self.trusted_note] if trusted else [],
            artifact_store=self.artifacts,
            workers=1,
        )


def build_campaign_ledger(folder: Path, size: int, seed: int) -> CampaignLedger:
    """A mixed ledger of at least `size` entries on a SQLite file, its triggers dropped."""
    rng = random.Random(seed)
    live = folder / "ledger.db"
    settings = LedgerSettings(
        database_url=f"sqlite:///{live}", home=folder / "home", sqlite_synchronous="NORMAL"
    )  # type: ignore[call-arg]
    store = init_ledger(settings, origin="test.example/tamper-campaign")
    artifacts = ArtifactStore(settings.artifacts_path)
    build_regulated_ledger(store, artifacts)  # another model, its own reviewers and a checkpoint
    keys = Keys()
    reviewers = {"validator": Actor.make("valerie"), "approver": Actor.make("abe")}
    for actor in reviewers.values():
        keys.add(actor, store.append(actor.register()).seq)
    first_citing: dict[str, int] = {}
    cycle = 0
    while store.size() < size:
        version = f"{cycle}.0"
        run = store.append(training(version, params={"depth": 2 + cycle % 5}))
        cited = [
            stored_artifact(
                artifacts, f"shap_{cycle}.csv", f"feature,shap\nincome,{cycle}\n".encode()
            )
        ]
        if first_citing and rng.random() < 0.3:  # cite an earlier artifact again
            digest = rng.choice(sorted(first_citing))
            cited.append({"name": "earlier.csv", "sha256": digest, "stored": True})
        evaluated = store.append(evaluation(version, artifacts=cited))
        for artifact in cited:
            first_citing.setdefault(artifact["sha256"], evaluated.seq)
        store.append_batch([note(f"cycle {cycle} note {n}") for n in range(rng.randint(1, 6))])
        if rng.random() < 0.2:
            store.append(reviewers["validator"].reject(run, role="validator"))
        else:
            store.append(reviewers["validator"].approve(run, role="validator"))
            store.append(reviewers["approver"].approve(run, role="approver"))
            store.append(deployment(version))
        if cycle % 5 == 4:
            store.append(recalibration(f"{cycle}.1", run))
        if cycle % 9 == 8:
            store.append(
                build_statement(
                    kind="model.retired",
                    model=MODEL,
                    version=version,
                    actor="dana",
                    reason="superseded",
                )
            )
        if cycle % 7 == 6:  # key rotation: the old key is revoked, a new one registered
            role = rng.choice(sorted(reviewers))
            old = reviewers[role]
            revocation = store.append(old.revoke())
            keys.revoked_at[old.key_id] = revocation.seq
            reviewers[role] = Actor.make(old.name)
            keys.add(reviewers[role], store.append(reviewers[role].register()).seq)
        cycle += 1
    trusted = store.checkpoint()
    disable_append_only_triggers(store.engine)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.engine.dispose()
    pristine = folder / "pristine.db"
    shutil.copyfile(live, pristine)
    return CampaignLedger(
        store,
        artifacts,
        live,
        pristine,
        store.meta()["verifier_key"],
        trusted.note,
        trusted.size,
        keys,
        first_citing,
    )


# --- mutations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What verification must report: the first bad seq (None: none can be named) and one
    of the problems that fit."""

    seq: int | None
    problems: frozenset[Problem]


def expect(seq: int | None, *problems: Problem) -> Expected:
    return Expected(seq, frozenset(problems))


Mutation = Callable[[CampaignLedger, random.Random], Expected]


def _signed(row: dict[str, Any]) -> bool:
    return row["signature"] is not None and row["key_id"] is not None


def _changed_value(row: dict[str, Any], column: str, rng: random.Random, keys: Keys) -> Any:
    """A different value for one column of one row, of the kind an attacker would write."""
    value = row[column]
    if column == "kind":
        return rng.choice([k for k in KINDS if k != value])
    if column in ("model", "version", "actor", "reason"):
        return (
            rng.choice([value + "x", value + " ", value + "\u200b", value.upper() + "!", ""])
            if value
            else "9.9"
        )
    if column == "payload":
        payload = json.loads(value)
        choice = rng.randrange(3)
        if choice == 0:  # an extra claim, canonical
            payload["amended"] = True
            return json.dumps(payload, sort_keys=True, separators=(",", ":"))
        if choice == 1:  # the same meaning, not canonical
            return json.dumps(payload, sort_keys=True, indent=1)
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        if not digits:
            return value.replace("}", ',"x":1}', 1)
        i = rng.choice(digits)
        return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]
    if column in ("issued_at", "recorded_at"):
        if value is None:
            return "2026-01-01T00:00:00.000000Z"
        return value[:-2] + ("0Z" if value[-2] != "0" else "1Z")
    if column == "signature":
        if value is None or rng.random() < 0.3:
            return base64.b64encode(os.urandom(64)).decode()
        return rng.choice([None, value[:-4] + ("AAA=" if value[-4:] != "AAA=" else "BBB=")])
    if column == "key_id":
        others = [k for k in keys.owner if k != value]
        return rng.choice([None, rng.choice(others)]) if value is not None else rng.choice(others)
    if column == "entry_id":
        return str(uuid.uuid4())
    if column in ("prev_hash", "entry_hash"):
        return os.urandom(32)
    raise AssertionError(column)


def edit_in_place(column: str) -> Mutation:
    """UPDATE one column of one entry, no hash recomputed: caught at that entry."""

    def mutate(ledger: CampaignLedger, rng: random.Random) -> Expected:
        rows = entry_rows(ledger.store.engine)
        seq = rng.randrange(len(rows))
        if column == "seq":  # moved past the end, or below 0 where no reader looks
            moved = len(rows) + rng.randint(1, 50) if rng.random() < 0.5 else -rng.randint(1, 50)
            replace_rows(ledger.store.engine, [seq], [{**rows[seq], "seq": moved}])
            return expect(seq, Problem.GAP, Problem.TRUNCATED)
        set_columns(
            ledger.store.engine,
            seq,
            **{column: _changed_value(rows[seq], column, rng, ledger.keys)},
        )
        if column == "prev_hash":
            return expect(seq, Problem.BROKEN_LINK)
        return expect(seq, Problem.HASH_MISMATCH)

    return mutate


def edit_and_rehash(column: str) -> Mutation:
    """UPDATE one column and recompute that entry's own hash (not the chain after it)."""

    def mutate(ledger: CampaignLedger, rng: random.Random) -> Expected:
        rows = entry_rows(ledger.store.engine)
        seq = rng.randrange(len(rows))
        row = dict(rows[seq])
        was_signed = _signed(row)
        row[column] = _changed_value(row, column, rng, ledger.keys)
        row["entry_hash"] = row_hash(row)
        set_columns(ledger.store.engine, seq, **{column: row[column]}, entry_hash=row["entry_hash"])
        signature_fails = Expected(seq, frozenset({Problem.BAD_SIGNATURE, Problem.UNKNOWN_KEY}))
        if column == "signature":  # a changed S is most often >= L, R sometimes not a point
            return Expected(seq, signature_fails.problems | {Problem.NON_CANONICAL_SIGNATURE})
        if column == "key_id":
            return signature_fails
        if was_signed and column in STATEMENT_COLUMNS:
            return signature_fails  # the signature covers the statement
        if not _signed(row) and row["kind"] in SIGNATURE_REQUIRED:
            return signature_fails  # an approval (or key) without a signature
        if column == "payload" and _cites_missing_artifact(ledger, row["payload"]):
            return expect(seq, Problem.ARTIFACT_MISSING)
        if column == "recorded_at" and seq and row[column] < rows[seq - 1][column]:
            return expect(seq, Problem.TIME_REVERSED)  # earlier than the entry before it
        if _cites_no_earlier_entry(rows[:seq], row):
            return expect(seq, Problem.BAD_REFERENCE)  # e.g. a run's parent_run edited
        if seq == len(rows) - 1:  # the head follows: only the trusted checkpoint tells
            set_head(ledger.store.engine, size=len(rows), last_hash=row["entry_hash"])
            return expect(None, Problem.CHECKPOINT_MISMATCH)
        return expect(seq + 1, Problem.BROKEN_LINK)

    return mutate


def _cites_no_earlier_entry(earlier: list[dict[str, Any]], row: dict[str, Any]) -> bool:
    """Whether a row cites (`ledger.citations`) an entry that no earlier row of the right
    model and kind is."""
    try:
        payload = json.loads(row["payload"])
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    by_hash = {
        bytes(r["entry_hash"]).hex(): citations.Cited(r["seq"], r["kind"], r["model"], r["version"])
        for r in earlier
    }
    return any(
        citations.citation_problem(
            citation,
            value,
            by_hash.get(str(value)),
            seq=row["seq"],
            model=row["model"],
            version=row["version"],
        )
        is not None
        for citation, value in citations.citations_of(row["kind"], payload)
    )


def _cites_missing_artifact(ledger: CampaignLedger, payload_json: str) -> bool:
    try:
        artifacts = json.loads(payload_json).get("artifacts")
    except ValueError:
        return False
    if not isinstance(artifacts, list):
        return False
    for artifact in artifacts:
        if isinstance(artifact, dict) and artifact.get("stored"):
            digest = str(artifact.get("sha256"))
            if len(digest) != 64 or not ledger.artifacts.exists(digest):
                return True
    return False


def delete_entry(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """DELETE one entry; the head is made to agree with the shorter log."""
    rows = entry_rows(ledger.store.engine)
    seq = rng.randrange(len(rows))
    replace_rows(ledger.store.engine, [seq], [])
    left = rows[:seq] + rows[seq + 1 :]
    set_head(ledger.store.engine, size=len(left), last_hash=left[-1]["entry_hash"])
    return expect(seq, Problem.GAP, Problem.TRUNCATED)


def _forged(
    ledger: CampaignLedger,
    rng: random.Random,
    seq: int,
    previous: dict[str, Any] | None,
    *,
    signed: bool,
) -> dict[str, Any]:
    """A forged entry with a correct hash and link and a time no earlier than the previous
    entry's, as a careful forger makes it: an approval (signed by a key that may not sign it,
    or not signed at all) or an unsigned note."""
    if signed:
        owner_key = rng.choice(sorted(ledger.keys.owner))
        claimed_actor = ledger.keys.owner[owner_key]
        how = rng.randrange(3)
        if how == 0:  # another reviewer's registered key
            others = [k for k, a in ledger.keys.owner.items() if a != claimed_actor]
            signer_id = rng.choice(others)
            key, key_id = ledger.keys.private[signer_id], signer_id
        elif how == 1:  # a key no entry registered
            key = signing.generate_private_key()
            key_id = signing.key_id_for(signing.public_key_raw(key))
        else:  # a key of its own, claiming the reviewer's key_id
            key, key_id = signing.generate_private_key(), owner_key
        statement = Actor(claimed_actor).decision_statement(
            "ab" * 32, role="approver", version="0.0"
        )
        signature: str | None = signing.sign(key, statement.signing_bytes())
    else:
        statement = note("forged: model approved offline", actor="dana")
        signature, key_id = None, None
    return _forged_row(seq, previous, statement, signature, key_id)


def _forged_row(
    seq: int,
    previous: dict[str, Any] | None,
    statement: Statement,
    signature: str | None,
    key_id: str | None,
) -> dict[str, Any]:
    """An entry row for `statement` after `previous`, hashed and linked as an append makes it."""
    row = {
        "seq": seq,
        "entry_id": str(uuid.uuid4()),
        "recorded_at": _time_after(previous),
        "kind": statement.kind,
        "model": statement.model,
        "version": statement.version,
        "actor": statement.actor,
        "reason": statement.reason,
        "payload": statement.payload_json,
        "issued_at": statement.issued_at,
        "signature": signature,
        "key_id": key_id,
        "prev_hash": bytes(32) if previous is None else previous["entry_hash"],
    }
    row["entry_hash"] = row_hash(row)
    return row


def insert_at_end(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """INSERT a forged approval after the last entry: hash, link, Merkle nodes and head
    as an append makes them."""
    rows = entry_rows(ledger.store.engine)
    forged = _forged(ledger, rng, len(rows), rows[-1], signed=True)
    replace_rows(ledger.store.engine, [], [forged])
    rebuild_tree(ledger.store.engine, [*rows, forged])
    return expect(len(rows), Problem.BAD_SIGNATURE, Problem.UNKNOWN_KEY)


def insert_in_middle(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """INSERT a forged entry at seq m, shifting the later entries up by one (their rows
    unchanged otherwise); the head counts one more. A forged approval is caught at m; a
    well-formed forged note at m + 1, whose entry no longer hashes with its new seq."""
    rows = entry_rows(ledger.store.engine)
    at = rng.randrange(len(rows))
    signed = rng.random() < 0.5
    forged = _forged(ledger, rng, at, rows[at - 1] if at else None, signed=signed)
    shifted = [{**row, "seq": row["seq"] + 1} for row in rows[at:]]
    replace_rows(ledger.store.engine, [r["seq"] for r in rows[at:]], [forged, *shifted])
    set_head(ledger.store.engine, size=len(rows) + 1, last_hash=rows[-1]["entry_hash"])
    if signed:
        return expect(at, Problem.BAD_SIGNATURE, Problem.UNKNOWN_KEY)
    return expect(at + 1, Problem.BROKEN_LINK, Problem.HASH_MISMATCH)


def _time_after(previous: dict[str, Any] | None) -> str:
    """The recorded_at a forger gives an entry after `previous`: the same moment."""
    return "2026-06-01T12:00:00.000000Z" if previous is None else str(previous["recorded_at"])


def _forged_registration(
    ledger: CampaignLedger, seq: int, previous: dict[str, Any], actor: str, key_id: str, key: Any
) -> dict[str, Any]:
    """A self-signed key.registered row for `actor` claiming `key_id` for `key`."""
    statement = build_statement(
        kind="key.registered",
        actor=actor,
        payload={
            "algorithm": "ed25519",
            "key_id": key_id,
            "public_key": signing.public_key_b64(key),
        },
        issued_at="2026-06-01T12:00:00.000000Z",
    )
    row = {
        "seq": seq,
        "entry_id": str(uuid.uuid4()),
        "recorded_at": _time_after(previous),
        "kind": statement.kind,
        "model": statement.model,
        "version": statement.version,
        "actor": statement.actor,
        "reason": statement.reason,
        "payload": statement.payload_json,
        "issued_at": statement.issued_at,
        "signature": signing.sign(key, statement.signing_bytes()),
        "key_id": key_id,
        "prev_hash": previous["entry_hash"],
    }
    row["entry_hash"] = row_hash(row)
    return row


def rebind_key_at_end(how: str) -> Mutation:
    """INSERT at the end a key registration that gives an existing key_id another life,
    then an approval signed under it (hashes, links and head right): the registration is
    caught. `rebind`: a reviewer's key_id bound to the attacker's public key; `revived`: a
    revoked key (its private half stolen: that is why it was revoked) registered again."""

    def mutate(ledger: CampaignLedger, rng: random.Random) -> Expected:
        rows = entry_rows(ledger.store.engine)
        if how == "rebind":
            key_id = rng.choice(sorted(ledger.keys.owner))
            key = signing.generate_private_key()
        else:
            key_id = rng.choice(sorted(ledger.keys.revoked_at))
            key = ledger.keys.private[key_id]
        actor = ledger.keys.owner[key_id]
        size = len(rows)
        registration = _forged_registration(ledger, size, rows[-1], actor, key_id, key)
        statement = Actor(actor).decision_statement("ab" * 32, role="approver", version="0.0")
        approval = {
            **registration,
            "seq": size + 1,
            "entry_id": str(uuid.uuid4()),
            "kind": statement.kind,
            "model": statement.model,
            "version": statement.version,
            "reason": statement.reason,
            "payload": statement.payload_json,
            "issued_at": statement.issued_at,
            "signature": signing.sign(key, statement.signing_bytes()),
            "prev_hash": registration["entry_hash"],
        }
        approval["entry_hash"] = row_hash(approval)
        replace_rows(ledger.store.engine, [], [registration, approval])
        rebuild_tree(ledger.store.engine, [*rows, registration, approval])
        return expect(size, Problem.BAD_SIGNATURE)

    return mutate


def swap_entries(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Exchange two entries' contents (every column but seq)."""
    rows = entry_rows(ledger.store.engine)
    first, second = sorted(rng.sample(range(len(rows)), 2))
    moved = [{**rows[second], "seq": first}, {**rows[first], "seq": second}]
    replace_rows(ledger.store.engine, [first, second], moved)
    return expect(first, Problem.BROKEN_LINK, Problem.HASH_MISMATCH)


def truncate_tail(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Cut the log to k entries, head and stored checkpoints to match: the checkpoint held
    outside covers the whole pristine log, so verification names k, the new size."""
    size = rng.randrange(1, ledger.size)
    truncate_log(ledger.store, size)
    return expect(size, Problem.TRUNCATED)


def _artifact(ledger: CampaignLedger, rng: random.Random) -> tuple[str, Path, bytes]:
    digest = rng.choice(sorted(ledger.first_citing))
    path = ledger.artifacts.path_for(digest)
    data = path.read_bytes()
    ledger.touched_artifacts[path] = data  # put back after the mutation's check
    return digest, path, data


def replace_artifact(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Overwrite a stored artifact's bytes (the file made writable first)."""
    digest, path, data = _artifact(ledger, rng)
    os.chmod(path, 0o644)
    path.write_bytes(data.replace(b"income", b"incone") + b"\n")
    return expect(ledger.first_citing[digest], Problem.ARTIFACT_TAMPERED)


def delete_artifact(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Remove a stored artifact's file."""
    digest, path, _ = _artifact(ledger, rng)
    path.unlink()
    return expect(ledger.first_citing[digest], Problem.ARTIFACT_MISSING)


def _approvals(ledger: CampaignLedger, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in rows
        if r["kind"] in ("approval.granted", "approval.rejected")
        and r["key_id"] in ledger.keys.owner
    ]


def resign(how: str) -> Mutation:
    """Re-sign an approval with a key that may not sign it, then rewrite every later hash,
    the Merkle nodes and the head (an insider): only the signature check can tell."""

    def mutate(ledger: CampaignLedger, rng: random.Random) -> Expected:
        rows = entry_rows(ledger.store.engine)
        candidates = _approvals(ledger, rows)
        if how == "own-revoked-key":  # approvals whose actor had an earlier key revoked
            candidates = [
                r
                for r in candidates
                if any(
                    ledger.keys.owner[k] == r["actor"] and at < r["seq"]
                    for k, at in ledger.keys.revoked_at.items()
                )
            ]
        row = rows[rng.choice(candidates)["seq"]]
        signing_bytes = _statement_of(row).signing_bytes()
        if how == "registered-foreign-key":
            key_id = rng.choice(
                [
                    k
                    for k, a in ledger.keys.owner.items()
                    if a != row["actor"] and ledger.keys.valid_at(k, row["seq"])
                ]
            )
            key = ledger.keys.private[key_id]
        elif how == "own-revoked-key":
            key_id = rng.choice(
                [
                    k
                    for k, at in ledger.keys.revoked_at.items()
                    if ledger.keys.owner[k] == row["actor"] and at < row["seq"]
                ]
            )
            key = ledger.keys.private[key_id]
        elif how == "unregistered-key":
            key = signing.generate_private_key()
            key_id = signing.key_id_for(signing.public_key_raw(key))
        elif how == "foreign-key-claiming-key-id":
            key, key_id = signing.generate_private_key(), row["key_id"]
        elif how == "stripped":
            key, key_id = None, None
        else:
            raise AssertionError(how)
        row["signature"] = None if key is None else signing.sign(key, signing_bytes)
        row["key_id"] = key_id
        rewrite_chain(ledger.store, rows, row["seq"])
        if how == "unregistered-key":
            return expect(row["seq"], Problem.UNKNOWN_KEY)
        return expect(row["seq"], Problem.BAD_SIGNATURE)

    return mutate


def _statement_of(row: dict[str, Any]) -> Statement:
    return Statement(
        kind=row["kind"],
        model=row["model"],
        version=row["version"],
        actor=row["actor"],
        reason=row["reason"],
        payload_json=row["payload"],
        issued_at=row["issued_at"],
    )


def insider_rewrite(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Edit an unsigned entry and recompute every later hash and link, the Merkle nodes and
    the head, deleting the stored checkpoints: the database is consistent again and only the
    checkpoint held outside tells (no seq can be named)."""
    rows = entry_rows(ledger.store.engine)
    last_cited = max(_first_citations(rows), default=-1)  # every hash after it is free to change
    row = rows[rng.choice([r["seq"] for r in rows if not _signed(r) and r["seq"] > last_cited])]
    row["reason"] = row["reason"] + " (amended)"
    rewrite_chain(ledger.store, rows, row["seq"])
    alone = ledger.verify(trusted=False)
    assert alone.ok, f"the rewrite left a trace the database alone shows: {alone.summary()}"
    return expect(None, Problem.CHECKPOINT_MISMATCH)


def insider_rewrite_of_a_cited_entry(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Rewrite an entry at or before one that a later approval (or run) names by hash,
    recomputing every later hash, the Merkle nodes and the head, with the stored checkpoints
    deleted: the citation, signed or hashed into an entry the insider re-hashes but does not
    edit, still names the old hash, so the database alone tells, at the first such citation."""
    rows = entry_rows(ledger.store.engine)
    cited = _first_citations(rows)
    seq = rng.choice([r["seq"] for r in rows if not _signed(r) and r["seq"] <= max(cited)])
    rows[seq]["reason"] = rows[seq]["reason"] + " (amended)"
    rewrite_chain(ledger.store, rows, seq)
    first = min(citing for target, citing in cited.items() if target >= seq)
    alone = ledger.verify(trusted=False)
    assert (alone.first_bad_seq, alone.problem) == (first, Problem.BAD_REFERENCE), alone.summary()
    return expect(first, Problem.BAD_REFERENCE)


def _first_citations(rows: list[dict[str, Any]]) -> dict[int, int]:
    """seq of each entry that a later entry cites (`ledger.citations`) -> the first citing seq."""
    seq_of = {bytes(r["entry_hash"]).hex(): r["seq"] for r in rows}
    first: dict[int, int] = {}
    for row in rows:
        payload = json.loads(row["payload"])
        for _, value in citations.citations_of(row["kind"], payload):
            if value in seq_of:
                first.setdefault(seq_of[str(value)], row["seq"])
    return first


def respell_signature(how: str) -> Mutation:
    """Give a signed entry (approval or key registration) another spelling of its signature,
    then rewrite every later hash, the Merkle nodes and the head: `base64` re-encodes the same
    bytes with non-zero padding bits, `malleate` writes S + L (RFC 8032 section 5.1.7). A lax
    verifier accepts both, and a uniqueness check on the text misses the replay they make."""

    def mutate(ledger: CampaignLedger, rng: random.Random) -> Expected:
        rows = entry_rows(ledger.store.engine)
        row = rows[rng.choice([r["seq"] for r in rows if _signed(r)])]
        change = reencoded if how == "base64" else malleated
        row["signature"] = change(row["signature"])
        rewrite_chain(ledger.store, rows, row["seq"])
        return expect(row["seq"], Problem.NON_CANONICAL_SIGNATURE)

    return mutate


def replay_approval_at_end(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """Copy an approval, signature and all, to the end (the text uniqueness index dropped
    first, as an attacker with the database can): a replay that every signature check
    passes, so only the record of signed statements can tell."""
    rows = entry_rows(ledger.store.engine)
    size = len(rows)
    candidates = [r for r in _approvals(ledger, rows) if ledger.keys.valid_at(r["key_id"], size)]
    original = rng.choice(candidates)
    replay = {
        **original,
        "seq": size,
        "entry_id": str(uuid.uuid4()),
        "recorded_at": _time_after(rows[-1]),
        "prev_hash": rows[-1]["entry_hash"],
    }
    replay["entry_hash"] = row_hash(replay)
    with ledger.store.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ux_entries_signature")
    replace_rows(ledger.store.engine, [], [replay])
    rebuild_tree(ledger.store.engine, [*rows, replay])
    return expect(size, Problem.REPLAYED_SIGNATURE)


def register_weak_key_at_end(ledger: CampaignLedger, rng: random.Random) -> Expected:
    """INSERT at the end a registration of a small-order key (self-"signed" with the universal
    signature R = O, S = 0, which OpenSSL accepts for the identity key and any message) and an
    approval "signed" with it: the registration is caught."""
    rows = entry_rows(ledger.store.engine)
    size = len(rows)
    raw_key = rng.choice(sorted(ed25519_strict.SMALL_ORDER_POINTS))
    universal = base64.b64encode(bytes([1]) + bytes(63)).decode("ascii")
    key_id = signing.key_id_for(raw_key)
    registration = build_statement(
        kind="key.registered",
        actor="mallory",
        payload={
            "algorithm": "ed25519",
            "key_id": key_id,
            "public_key": base64.b64encode(raw_key).decode("ascii"),
        },
        issued_at="2026-06-01T12:00:00.000000Z",
    )
    approval = Actor("mallory").decision_statement("ab" * 32, role="approver", version="0.0")
    added: list[dict[str, Any]] = []
    previous = rows[-1]
    for statement in (registration, approval):
        row = _forged_row(size + len(added), previous, statement, universal, key_id)
        added.append(row)
        previous = row
    with ledger.store.engine.begin() as conn:  # the universal signature, twice
        conn.exec_driver_sql("DROP INDEX IF EXISTS ux_entries_signature")
    replace_rows(ledger.store.engine, [], added)
    rebuild_tree(ledger.store.engine, [*rows, *added])
    return expect(size, Problem.WEAK_KEY)


ROW_COLUMNS = ENTRY_COLUMNS
REHASHED_COLUMNS = tuple(c for c in ROW_COLUMNS if c not in ("seq", "prev_hash", "entry_hash"))

MUTATIONS: dict[str, Mutation] = {
    **{f"edit {c}": edit_in_place(c) for c in ROW_COLUMNS},
    **{f"edit {c}, own hash recomputed": edit_and_rehash(c) for c in REHASHED_COLUMNS},
    "delete an entry": delete_entry,
    "insert a forged entry at the end": insert_at_end,
    "insert a forged entry in the middle": insert_in_middle,
    "insert a key registration re-binding a key_id, at the end": rebind_key_at_end("rebind"),
    "insert a re-registration of a revoked key, at the end": rebind_key_at_end("revived"),
    "swap two entries": swap_entries,
    "truncate the tail": truncate_tail,
    "replace an artifact's bytes": replace_artifact,
    "delete an artifact": delete_artifact,
    "re-sign with a registered foreign key": resign("registered-foreign-key"),
    "re-sign with an unregistered key": resign("unregistered-key"),
    "re-sign with a foreign key under the signer's key_id": resign("foreign-key-claiming-key-id"),
    "re-sign with the actor's own revoked key": resign("own-revoked-key"),
    "strip the signature": resign("stripped"),
    "insider rewrite, every hash recomputed": insider_rewrite,
    "insider rewrite of an approved run, every hash recomputed": insider_rewrite_of_a_cited_entry,
    "re-spell a signature's base64, hashes recomputed": respell_signature("base64"),
    "malleate a signature's S to S + L, hashes recomputed": respell_signature("malleate"),
    "replay an approval at the end, text index dropped": replay_approval_at_end,
    "register a small-order key at the end, universal signature": register_weak_key_at_end,
}


@dataclass(frozen=True)
class Outcome:
    kind: str
    number: int
    expected: Expected
    report: VerificationReport

    @property
    def detected(self) -> bool:
        return (
            not self.report.ok
            and self.report.first_bad_seq == self.expected.seq
            and self.report.problem in self.expected.problems
        )

    def describe(self, seed: int) -> str:
        wanted = "/".join(sorted(p.value for p in self.expected.problems))
        return (
            f"{self.kind} #{self.number} (seed {seed}): expected seq {self.expected.seq} "
            f"{wanted}, got ok={self.report.ok} {self.report.summary()}"
        )


def run_campaign(ledger: CampaignLedger, kinds: list[str], seed: int) -> Iterator[Outcome]:
    """Apply each listed mutation kind once, in order, each to a fresh pristine copy."""
    rng = random.Random(seed)
    for number, kind in enumerate(kinds):
        ledger.restore()
        try:
            expected = MUTATIONS[kind](ledger, rng)
            yield Outcome(kind, number, expected, ledger.verify())
        finally:
            _restore_artifacts(ledger)


def _restore_artifacts(ledger: CampaignLedger) -> None:
    for path, data in ledger.touched_artifacts.items():
        path.unlink(missing_ok=True)
        path.write_bytes(data)
        os.chmod(path, 0o444)
    ledger.touched_artifacts.clear()


def _kind_seed(base: int, kind: str) -> int:
    return base * 1_000_003 + zlib.crc32(kind.encode())


# --- tests -----------------------------------------------------------------------------------

SEED = int(os.environ.get("GOVLEDGER_TAMPER_SEED", "20261107"))
FAST_SIZE = 1_000
FAST_PER_KIND = 4
"""~150 mutations in all: 4 of each of the 40 kinds."""


@pytest.fixture(scope="module")
def campaign_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CampaignLedger]:
    ledger = build_campaign_ledger(tmp_path_factory.mktemp("tamper-campaign"), FAST_SIZE, SEED)
    yield ledger
    ledger.store.engine.dispose()


def test_the_pristine_campaign_ledger_verifies(campaign_ledger: CampaignLedger) -> None:
    campaign_ledger.restore()
    report = campaign_ledger.verify()
    assert report.ok, report.summary()
    assert report.size == campaign_ledger.size >= FAST_SIZE
    kinds = Counter(r["kind"] for r in entry_rows(campaign_ledger.store.engine))
    assert {"approval.granted", "approval.rejected", "key.revoked", "key.registered"} <= set(kinds)
    assert report.signatures_checked > 100 and report.artifacts_checked > 50


@pytest.mark.parametrize("kind", list(MUTATIONS))
def test_every_single_mutation_is_detected_at_the_first_bad_seq(
    campaign_ledger: CampaignLedger, kind: str
) -> None:
    seed = _kind_seed(SEED, kind)
    missed = [
        outcome.describe(seed)
        for outcome in run_campaign(campaign_ledger, [kind] * FAST_PER_KIND, seed)
        if not outcome.detected
    ]
    assert not missed, "\n".join(missed)


def test_deleted_merkle_nodes_are_reported_as_a_tree_mismatch_not_raised(
    campaign_ledger: CampaignLedger,
) -> None:
    campaign_ledger.restore()
    with campaign_ledger.store.engine.begin() as conn:
        conn.execute(delete(merkle_nodes))
    report = campaign_ledger.verify()
    assert (report.ok, report.first_bad_seq, report.problem) == (
        False,
        None,
        Problem.TREE_MISMATCH,
    ), report.summary()


@pytest.mark.slow
def test_a_campaign_of_1000_random_mutations_on_5000_entries_detects_every_one(
    tmp_path: Path, report_figure: Callable[[str], None]
) -> None:
    ledger = build_campaign_ledger(tmp_path, 5_000, SEED)
    try:
        rng = random.Random(SEED)
        kinds = [rng.choice(list(MUTATIONS)) for _ in range(1_000)]
        outcomes = list(run_campaign(ledger, kinds, SEED))
        ledger.restore()
        assert ledger.verify().ok
    finally:
        ledger.store.engine.dispose()
    counts = Counter(o.kind for o in outcomes)
    detected = Counter(o.kind for o in outcomes if o.detected)
    report_figure(f"tamper campaign: {ledger.size} entries, {len(outcomes)} mutations, seed {SEED}")
    width = max(len(k) for k in MUTATIONS)
    report_figure(f"{'mutation':<{width}}  count  detected")
    for kind in MUTATIONS:
        report_figure(f"{kind:<{width}}  {counts[kind]:>5}  {detected[kind]:>8}")
    report_figure(f"{'total':<{width}}  {len(outcomes):>5}  {sum(detected.values()):>8}")
    missed = [o.describe(SEED) for o in outcomes if not o.detected]
    assert not missed, "\n".join(missed)
