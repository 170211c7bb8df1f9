"""Verification: OK on an honest mixed ledger; every tamper that bypasses the database's
triggers is caught, naming the first bad seq and what is wrong."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import rfc8785
from sqlalchemy import update

from ledger.log import merkle, signing
from ledger.log.entries import Entry, build_statement, recompute_hash
from ledger.store import ArtifactStore, LedgerStore
from ledger.store._tables import ledger_head, merkle_nodes
from ledger.verify import Problem, VerificationReport, verify_ledger
from tests.ledger.factories import Actor, MixedLedger, note, populate_mixed_ledger
from tests.ledger.tamper import (
    delete_entries,
    disable_append_only_triggers,
    rewrite_history,
    set_columns,
    truncate_log,
)


@dataclasses.dataclass
class Ledger:
    store: LedgerStore
    artifacts: ArtifactStore
    written: MixedLedger

    def verify(self, trusted: Sequence[str] = ()) -> VerificationReport:
        return verify_ledger(self.store, artifact_store=self.artifacts, trusted_checkpoints=trusted)

    def tamperable(self) -> Ledger:
        disable_append_only_triggers(self.store.engine)
        return self


@pytest.fixture
def ledger(store: LedgerStore, artifact_store: ArtifactStore) -> Ledger:
    return Ledger(store, artifact_store, populate_mixed_ledger(store, artifact_store))


def assert_fails(report: VerificationReport, seq: int | None, problem: Problem) -> None:
    assert not report.ok
    assert (report.first_bad_seq, report.problem) == (seq, problem), report.summary()
    assert report.summary().startswith("FAILED")
    with pytest.raises(Exception, match="FAILED"):
        report.raise_for_problem()


# --- honest ledgers ----------------------------------------------------------------------------


def test_a_mixed_ledger_verifies(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.ok, report.summary()
    size = len(ledger.written.entries)
    assert report.size == size == ledger.store.size()
    assert report.root == ledger.store.root_at(size)
    assert report.signatures_checked == 5  # two key registrations, two approvals, a rejection
    assert report.artifacts_checked == 1
    assert report.first_bad_seq is None and report.problem is None
    assert report.summary().startswith(f"OK: {size} entries")


def test_verification_checks_the_checkpoints_and_counts_entries_after_the_latest(
    ledger: Ledger,
) -> None:
    checkpoint = ledger.store.checkpoint()
    ledger.store.append_batch([note("later"), note("later still")])
    report = ledger.verify(trusted=[checkpoint.note])
    assert report.ok, report.summary()
    assert report.checkpoint == checkpoint
    assert report.entries_after_checkpoint == 2


def test_every_entry_hash_is_the_sha256_of_the_rfc8785_entry(ledger: Ledger) -> None:
    for entry in ledger.store.iter_entries():
        body = entry.to_dict()
        del body["entry_hash"]
        assert hashlib.sha256(rfc8785.dumps(body)).digest() == entry.entry_hash


def test_an_empty_ledger_verifies(store: LedgerStore) -> None:
    report = verify_ledger(store)
    assert report.ok and report.size == 0


# --- tampering with rows -----------------------------------------------------------------------


def test_a_changed_reason_is_a_hash_mismatch_at_its_seq(ledger: Ledger) -> None:
    seq = ledger.tamperable().written.seq("validation")
    set_columns(ledger.store.engine, seq, reason="approved without review")
    assert_fails(ledger.verify(), seq, Problem.HASH_MISMATCH)


def test_a_changed_payload_is_a_hash_mismatch_at_its_seq(ledger: Ledger) -> None:
    run = ledger.tamperable().written.entries["run"]
    set_columns(
        ledger.store.engine,
        run.seq,
        payload=run.statement.payload_json.replace('"auc":0.81', '"auc":0.91'),
    )
    assert_fails(ledger.verify(), run.seq, Problem.HASH_MISMATCH)


def test_a_changed_entry_hash_is_a_hash_mismatch_at_its_seq(ledger: Ledger) -> None:
    seq = ledger.tamperable().written.seq("note")
    set_columns(ledger.store.engine, seq, entry_hash=hashlib.sha256(b"forged").digest())
    assert_fails(ledger.verify(), seq, Problem.HASH_MISMATCH)


def test_a_changed_prev_hash_is_a_broken_link_at_its_seq(ledger: Ledger) -> None:
    seq = ledger.tamperable().written.seq("deployment")
    entry = dataclasses.replace(
        ledger.store.entry(seq), prev_hash=hashlib.sha256(b"elsewhere").digest()
    )
    set_columns(
        ledger.store.engine, seq, prev_hash=entry.prev_hash, entry_hash=recompute_hash(entry)
    )  # the entry's own hash is consistent; its link is not
    assert_fails(ledger.verify(), seq, Problem.BROKEN_LINK)


def test_a_deleted_middle_entry_is_a_gap_at_its_seq(ledger: Ledger) -> None:
    seq = ledger.tamperable().written.seq("note")
    delete_entries(ledger.store.engine, from_seq=seq, to_seq=seq + 1)
    assert_fails(ledger.verify(), seq, Problem.GAP)


def test_a_truncated_tail_is_caught_by_a_checkpoint_kept_outside(ledger: Ledger) -> None:
    kept = ledger.store.checkpoint().note
    size = ledger.written.seq("deployment")
    truncate_log(ledger.tamperable().store, size)
    assert ledger.store.size() == size
    assert ledger.verify().ok  # the database alone no longer tells ...
    assert_fails(ledger.verify(trusted=[kept]), size, Problem.TRUNCATED)  # ... the checkpoint does


def test_a_truncated_tail_is_caught_by_the_stored_checkpoint_and_the_head(ledger: Ledger) -> None:
    ledger.store.checkpoint()
    size = ledger.written.seq("deployment")
    delete_entries(ledger.tamperable().store.engine, from_seq=size)
    assert_fails(ledger.verify(), size, Problem.TRUNCATED)


def test_a_head_that_disagrees_with_the_entries_is_reported(ledger: Ledger) -> None:
    with ledger.store.engine.begin() as conn:
        conn.execute(update(ledger_head).values(size=ledger.store.size() + 3))
    report = ledger.verify()
    assert not report.ok and report.problem is Problem.HEAD_MISMATCH


def test_a_last_entry_rewritten_with_its_hash_recomputed_is_caught_by_the_head(
    ledger: Ledger,
) -> None:
    """No later entry links to the last one, and below 16 entries no stored Merkle node
    covers it: without a checkpoint only the head row's hash tells (unless the rewriter
    also rewrote the head, which the tamper campaign does)."""
    entry = ledger.store.append(note("the last word"))
    forged = dataclasses.replace(entry, statement=note("another last word"))
    forged = dataclasses.replace(forged, entry_hash=recompute_hash(forged))
    set_columns(
        ledger.tamperable().store.engine,
        entry.seq,
        payload=forged.statement.payload_json,
        entry_hash=forged.entry_hash,
    )
    assert_fails(ledger.verify(), entry.seq, Problem.HEAD_MISMATCH)


def test_a_replaced_artifact_is_reported_at_the_entry_citing_it(ledger: Ledger) -> None:
    path = ledger.artifacts.path_for(ledger.written.artifact_digest)
    os.chmod(path, 0o644)  # artifacts are stored read-only
    path.write_bytes(b"feature,mean_abs\nincome,0.01\n")
    assert_fails(ledger.verify(), ledger.written.seq("evaluation"), Problem.ARTIFACT_TAMPERED)


def test_a_deleted_artifact_is_reported_at_the_entry_citing_it(ledger: Ledger) -> None:
    ledger.artifacts.path_for(ledger.written.artifact_digest).unlink()
    assert_fails(ledger.verify(), ledger.written.seq("evaluation"), Problem.ARTIFACT_MISSING)


def _resigned_by(foreign: Actor, *, claim_key_id: bool) -> Callable[[Entry], Entry]:
    def change(entry: Entry) -> Entry:
        signature = signing.sign(foreign.key, entry.statement.signing_bytes())
        key_id = entry.key_id if claim_key_id else foreign.key_id
        return dataclasses.replace(entry, signature=signature, key_id=key_id)

    return change


@pytest.mark.parametrize(
    ("claim_key_id", "problem"),
    [(True, Problem.BAD_SIGNATURE), (False, Problem.UNKNOWN_KEY)],
    ids=["under-the-approvers-key-id", "under-its-own-key-id"],
)
def test_an_approval_resigned_with_a_foreign_key_is_caught(
    ledger: Ledger, claim_key_id: bool, problem: Problem
) -> None:
    seq = ledger.tamperable().written.seq("approval")
    rewrite_history(
        ledger.store,
        seq,
        _resigned_by(Actor.make("arjun"), claim_key_id=claim_key_id),
    )
    assert_fails(ledger.verify(), seq, problem)


def test_an_approval_moved_to_another_reviewers_key_is_caught(ledger: Ledger) -> None:
    seq = ledger.tamperable().written.seq("approval")
    vera = ledger.written.validator

    def signed_by_vera(entry: Entry) -> Entry:
        return dataclasses.replace(
            entry,
            signature=signing.sign(vera.key, entry.statement.signing_bytes()),
            key_id=vera.key_id,
        )

    rewrite_history(ledger.store, seq, signed_by_vera)
    assert_fails(ledger.verify(), seq, Problem.BAD_SIGNATURE)  # vera's key, arjun's statement


def test_an_approval_with_its_signature_stripped_is_caught(ledger: Ledger) -> None:
    seq = ledger.tamperable().written.seq("validation")
    rewrite_history(
        ledger.store, seq, lambda e: dataclasses.replace(e, signature=None, key_id=None)
    )
    assert_fails(ledger.verify(), seq, Problem.BAD_SIGNATURE)


def test_a_signature_by_a_key_revoked_earlier_is_caught(ledger: Ledger) -> None:
    store = ledger.tamperable().store
    arjun = ledger.written.approver
    revoked = store.append(arjun.revoke())
    late = store.append(note("placeholder", actor="arjun"))

    def signed_after_revocation(entry: Entry) -> Entry:
        statement = arjun.decision_statement(ledger.written.entries["run2"], role="approver")
        signed = arjun.sign(statement)
        return dataclasses.replace(
            entry, statement=statement, signature=signed.signature, key_id=signed.key_id
        )

    rewrite_history(store, late.seq, signed_after_revocation)
    assert revoked.seq < late.seq
    assert_fails(ledger.verify(), late.seq, Problem.BAD_SIGNATURE)


def test_an_insider_rewrite_with_every_hash_recomputed_is_caught_by_an_earlier_checkpoint(
    ledger: Ledger,
) -> None:
    kept = ledger.store.checkpoint().note
    seq = ledger.tamperable().written.seq("rejection")

    def softened(entry: Entry) -> Entry:  # the rejection becomes a note
        return dataclasses.replace(
            entry,
            statement=note("no concerns", actor=entry.statement.actor),
            signature=None,
            key_id=None,
        )

    rewrite_history(ledger.store, seq, softened)
    assert ledger.verify().ok  # every hash, link and tree node is consistent again ...
    assert_fails(ledger.verify(trusted=[kept]), None, Problem.CHECKPOINT_MISMATCH)


def test_a_rewrite_that_leaves_the_stored_checkpoint_is_caught_by_it(ledger: Ledger) -> None:
    """A note after the last entry any decision or run cites: nothing but the checkpoint can
    tell (an earlier rewrite changes a cited hash: `BAD_REFERENCE`, tested below)."""
    ledger.store.checkpoint()
    seq = ledger.tamperable().written.seq("note2")
    rewrite_history(
        ledger.store,
        seq,
        lambda e: dataclasses.replace(e, statement=note("edited", actor=e.statement.actor)),
        rebuild_tree=False,
    )
    assert_fails(ledger.verify(), None, Problem.CHECKPOINT_MISMATCH)


def _grow_to(ledger: Ledger, size: int) -> None:
    count = size - ledger.store.size()
    ledger.store.append_batch([note(f"filler {i}") for i in range(count)])


def test_a_changed_merkle_node_on_the_roots_path_is_caught(ledger: Ledger) -> None:
    _grow_to(ledger, 34)  # the root folds the stored subtree (5, 0) and leaves 32 and 33
    with ledger.tamperable().store.engine.begin() as conn:
        conn.execute(
            update(merkle_nodes)
            .where(merkle_nodes.c.node_id == merkle.node_id(5, 0))
            .values(hash=hashlib.sha256(b"forged node").digest())
        )
    report = ledger.verify()
    assert not report.ok and report.problem is Problem.TREE_MISMATCH


def test_a_changed_lowest_stored_node_gives_proofs_that_do_not_verify(ledger: Ledger) -> None:
    _grow_to(ledger, 34)
    with ledger.tamperable().store.engine.begin() as conn:
        changed = conn.execute(
            update(merkle_nodes)
            .where(merkle_nodes.c.node_id == merkle.node_id(4, 0))
            .values(hash=hashlib.sha256(b"forged node").digest())
        )
    assert changed.rowcount == 1
    report = ledger.verify()
    proof = ledger.store.inclusion_proof(16)  # subtree (4, 0) is leaf 16's last sibling
    assert not merkle.verify_inclusion(proof.leaf, 16, proof.tree_size, proof.proof, report.root)
    proof = ledger.store.inclusion_proof(3)  # computed from entries below level 4
    assert merkle.verify_inclusion(proof.leaf, 3, proof.tree_size, proof.proof, report.root)


def test_a_checkpoint_signed_by_another_ledger_is_refused(
    ledger: Ledger, make_ledger: Callable[..., LedgerStore], tmp_path: Path
) -> None:
    other = make_ledger(f"sqlite:///{tmp_path / 'other.db'}")
    other.append_batch([note(str(i)) for i in range(3)])
    report = ledger.verify(trusted=[other.checkpoint().note])
    assert_fails(report, None, Problem.CHECKPOINT_INVALID)


# --- what decisions and runs cite ------------------------------------------------------------


def _with_payload(entry: Entry, **changes: object) -> Entry:
    st = entry.statement
    statement = build_statement(
        kind=st.kind,
        model=st.model,
        version=st.version,
        actor=st.actor,
        reason=st.reason,
        payload={**st.payload, **changes},
    )
    return dataclasses.replace(entry, statement=statement)


def _amend_metrics(entry: Entry) -> Entry:
    return _with_payload(entry, metrics={"auc": 0.99})


def test_a_run_rewritten_after_its_approval_fails_at_the_approval_without_any_checkpoint(
    ledger: Ledger,
) -> None:
    """The insider recomputes every later hash, rebuilds the tree and deletes the stored
    checkpoints; no checkpoint is kept outside. The approval they cannot re-sign still
    names the run's old entry_hash."""
    run_seq = ledger.tamperable().written.seq("run")
    rewrite_history(ledger.store, run_seq, _amend_metrics)
    report = ledger.verify()
    assert_fails(report, ledger.written.seq("validation"), Problem.BAD_REFERENCE)
    assert "names no earlier entry" in report.message


@pytest.mark.parametrize(
    ("target", "says"),
    [("evaluation", "not a run"), ("note2", "names no earlier entry")],
    ids=["an-evaluation", "a-later-entry"],
)
def test_a_recalibration_whose_parent_is_not_an_earlier_run_is_caught(
    ledger: Ledger, target: str, says: str
) -> None:
    seq = ledger.tamperable().written.seq("recalibration")
    parent = ledger.written.entries[target].entry_hash.hex()
    rewrite_history(ledger.store, seq, lambda e: _with_payload(e, parent_run=parent))
    report = ledger.verify()
    assert_fails(report, seq, Problem.BAD_REFERENCE)
    assert says in report.message


@pytest.mark.parametrize("workers", [1, 2])
def test_a_decision_whose_subject_is_missing_is_found_sequentially_and_in_ranges(
    ledger: Ledger, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.verify import _ranges as verify_ranges

    monkeypatch.setattr(verify_ranges, "RANGE_SIZE", 4)
    run_seq = ledger.tamperable().written.seq("run")
    rewrite_history(ledger.store, run_seq, _amend_metrics)
    report = verify_ledger(ledger.store, artifact_store=ledger.artifacts, workers=workers)
    assert_fails(report, ledger.written.seq("validation"), Problem.BAD_REFERENCE)
