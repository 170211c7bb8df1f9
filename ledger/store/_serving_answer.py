"""What served in an environment after a seq, at a time, or now: the answer, with its proofs.

The serving state is folded from the model's promotions and retirements
(`ledger.governance.serving_history`), read by the partial kind index; the question maps to
one seq, `as_of_seq`. `recorded_at` never decreases along seq, so a time T maps to the last
entry recorded at or before it, found by bisection (`LedgerStore.seq_range`). The answer
carries the entries that show it (the serving tenures' promotions, the approvals they cite,
the versions' runs, the entry at `as_of_seq` and, for a time, the next one: the two bracket
it) with RFC 9162 inclusion
proofs, in the form GET /v1/entries/{seq} gives them, to a C2SP signed checkpoint: an
auditor checks it offline with `ledger.log.serving_answer.check_serving_answer` (or
`ledger/verify/standalone.py`) and the ledger's key. The format is described there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ledger.errors import CheckpointInvalid, InvalidAsOf, UnknownEnvironment, UnknownModelVersion
from ledger.governance import DEFAULT_ENVIRONMENT, ServingHistory, Tenure
from ledger.log.entries import Entry
from ledger.log.payloads import model_files
from ledger.log.serving_answer import COMPLETENESS, FORMAT, check_not_future
from ledger.store import _tree_store as tree_store
from ledger.store._cosignatures import witnessed_checkpoint
from ledger.store._ledger_store import LedgerStore
from ledger.store._registry import tenure_dict


def serving_answer(
    store: LedgerStore,
    model: str,
    environment: str = DEFAULT_ENVIRONMENT,
    *,
    at: str | None = None,
    seq: int | None = None,
) -> dict[str, Any]:
    """Which version(s) of `model` served in `environment` after the entry at `seq`, at
    time `at` (RFC 3339 UTC or a day, meaning its end), or now; a self-contained
    "govledger-serving-answer/v1" document with its evidence.

    Raises UnknownModelVersion (404) for a model the ledger never named, UnknownEnvironment
    (422) for an environment neither configured nor ever served in, and InvalidAsOf (422)
    for a question the ledger cannot answer: both `at` and `seq`, a time before the model's
    first entry or in the future, a seq beyond the log or before the model."""
    if at is not None and seq is not None:
        raise InvalidAsOf("ask as of a time (at) or a seq, not both")
    first = store.first_entry_of(model)
    if first is None:
        raise UnknownModelVersion(
            f"model {model!r} is not in the ledger: GET /v1/models lists the models it holds"
        )
    bound = None if at is None else check_not_future(at)
    checkpoint = witnessed_checkpoint(store, covers=store.size())
    size = checkpoint.size
    as_of = _as_of_seq(store, model, first, size, at, bound, seq)
    shadow_envs = store.policy.shadow_environments
    history = store.serving_history(model, before=size)
    _check_environment(store, model, environment, history)
    serving, wanted = [], set()
    for tenure in _as_of(history.serving(environment, at_seq=as_of), as_of):
        run = store.run_of(model, tenure.version)
        if run is None:  # admission refuses a promotion of a version without a run
            raise UnknownModelVersion(f"{model} {tenure.version} has no run in the ledger")
        serving.append(
            {
                **tenure_dict(tenure),
                "run": run.entry_hash.hex(),
                "run_seq": run.seq,
                "model_files": model_files(run.statement.payload),
            }
        )
        wanted |= {tenure.since_seq, run.seq}
        wanted |= {store.entry_by_hash(bytes.fromhex(a)).seq for a in tenure.promotion.approvals}
    wanted.add(as_of)  # what the answer is as of, even when nothing serves
    if at is not None and as_of + 1 < size:
        wanted.add(as_of + 1)
    question: dict[str, Any] = (
        {"at": at} if at is not None else {"seq": seq} if seq is not None else {"now": True}
    )
    return {
        "format": FORMAT,
        "model": model,
        "environment": environment,
        "shadow": environment in shadow_envs,
        "question": question,
        "as_of_seq": as_of,
        "tree_size": size,
        "serving": serving,
        "history": [_brief(t) for t in history.tenures(environment)],
        "evidence": _evidence(store, sorted(wanted), checkpoint.note, size, checkpoint.root),
        "completeness": COMPLETENESS.format(size=size, env=environment, as_of=as_of),
    }


def _as_of_seq(
    store: LedgerStore,
    model: str,
    first: Entry,
    size: int,
    at: str | None,
    bound: str | None,
    seq: int | None,
) -> int:
    """The seq the question asks about, within the signed tree of `size` entries."""
    if seq is not None:
        log_size = store.size()
        if not 0 <= seq < log_size:
            raise InvalidAsOf(
                f"seq {seq} is beyond the log of {log_size} entries: ask as of a seq from 0 "
                f"to {log_size - 1}, or leave seq out for what serves now"
            )
        if seq >= size:
            raise InvalidAsOf(
                f"seq {seq} is newer than the latest signed checkpoint ({size} entries): "
                "open the ledger with its key so that a new checkpoint can be signed"
            )
        if seq < first.seq:
            raise InvalidAsOf(
                f"{model} was first recorded at seq {first.seq}: ask as of a seq from "
                f"{first.seq} on"
            )
        return seq
    if at is None or bound is None:
        return size - 1
    stop, _ = store.seq_range(bound, None)
    as_of = min(stop, size) - 1
    if as_of < first.seq:
        raise InvalidAsOf(
            f"at {at} is before {model}'s first entry (seq {first.seq}, recorded "
            f"{first.recorded_at}): ask as of a later time"
        )
    return as_of


def _as_of(tenures: list[Tenure], as_of: int) -> list[Tenure]:
    """The tenures as they stood after `as_of`: one ended later was still open then."""
    return [
        t
        if t.ended_by is None or t.ended_by.seq <= as_of
        else dataclasses.replace(t, ended_by=None)
        for t in tenures
    ]


def _check_environment(
    store: LedgerStore, model: str, environment: str, history: ServingHistory
) -> None:
    configured = store.policy.environments
    if configured and environment not in configured and environment not in history.environments():
        raise UnknownEnvironment(
            f"unknown environment {environment!r}: {model} never served there, and the ledger "
            f"serves in {', '.join(configured)} (GOVLEDGER_ENVIRONMENTS)"
        )


def _brief(tenure: Tenure) -> dict[str, Any]:
    """A tenure of the history, in brief (not proven by the answer's evidence)."""
    end = tenure.ended_by
    return {
        "version": tenure.version,
        "since_seq": tenure.since_seq,
        "since": tenure.promotion.recorded_at,
        "promotion": tenure.promotion.entry_hash.hex(),
        "promoted_by": tenure.promotion.actor,
        "model_sha256": tenure.promotion.model_sha256,
        "rollback": tenure.promotion.rollback,
        "end": tenure.end,
        "ended_seq": tenure.ended_seq,
        "ended_by_version": None if end is None else end.version or None,
        "description": tenure.describe(),
    }


def _evidence(
    store: LedgerStore, seqs: list[int], note: str, size: int, root: bytes
) -> dict[str, Any]:
    proofs = {}
    with store.engine.connect() as conn:
        for seq in seqs:
            proof = tree_store.inclusion_proof(conn, seq, size)
            if proof.root != root:
                raise CheckpointInvalid(
                    "the store's Merkle root differs from its signed checkpoint: run "
                    "`govledger verify` before trusting any answer from this ledger"
                )
            proofs[str(seq)] = {
                "leaf_index": proof.seq,
                "tree_size": proof.tree_size,
                "hashes": [h.hex() for h in proof.proof],
            }
    entries = [store.entry(seq).to_dict() for seq in seqs]
    return {
        "origin": store.origin,
        "verifier_key": store.meta()["verifier_key"],
        "checkpoint": note,
        "entries": entries,
        "proofs": proofs,
    }
