"""A model's serving story for the as-of tests: promotion, replacement, shadow, rollback,
retirement, written through admission with the factories (runs cite model files).

    seq  entry
    0    model.registered credit-scoring
    1-2  key.registered vera, arjun
    3    run 1.0          4-5 approvals of 1.0
    6    promote 1.0 -> production
    7    note
    8    run 1.1          9-10 approvals of 1.1
    11   promote 1.1 -> production (replaces 1.0)
    12   promote 1.0 -> shadow
    13   promote 1.1 -> shadow (shadow holds both)
    14   rollback 1.0 -> production (replaces 1.1)
    15   retire 1.1 (ends its shadow tenure)
    16   note

The seqs are those of an empty ledger; on one that holds entries already they shift by
`ServingStory.base`. The model files' bytes are `model_bytes(version)`: their SHA-256 is
what the factories' runs cite (`factories.model_file`), so a test writes them to disk for
verify-model.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerStore
from tests.ledger.factories import (
    BUILDER,
    MODEL,
    Actor,
    deployment,
    model_file,
    note,
    training,
)


def model_bytes(version: str, model: str = MODEL) -> bytes:
    """The bytes whose SHA-256 is the factories' model file digest of a version."""
    return f"{model} {version} model file".encode()


@dataclass
class ServingStory:
    entries: list[Entry]
    validator: Actor
    approver: Actor

    @property
    def base(self) -> int:
        """The seq of the story's first entry (0 on an empty ledger)."""
        return self.entries[0].seq


def write_serving_story(store: LedgerStore) -> ServingStory:
    """Append the story above; return every entry written, by seq."""
    vera, arjun = Actor.make("vera"), Actor.make("arjun")
    out: list[Entry] = []
    add = lambda submission: out.append(store.append(submission))  # noqa: E731
    add(
        build_statement(
            kind="model.registered",
            model=MODEL,
            actor=BUILDER,
            payload={"owner": "credit risk", "materiality_tier": "high"},
        )
    )
    add(vera.register())
    add(arjun.register())
    for version in ("1.0", "1.1"):
        if version == "1.1":
            add(note("1.1 retrained on the 2026 Q2 sample"))
        add(training(version))
        run = out[-1]
        add(vera.approve(run, role="validator"))
        add(arjun.approve(run, role="approver"))
        approvals = [out[-2].entry_hash.hex(), out[-1].entry_hash.hex()]
        add(deployment(version, approvals=approvals))
    for version in ("1.0", "1.1"):
        add(deployment(version, environment="shadow"))
    add(deployment("1.0", rollback=True))
    add(
        build_statement(
            kind="model.retired",
            model=MODEL,
            version="1.1",
            actor=BUILDER,
            reason="1.1 mis-scores thin-file applicants",
        )
    )
    add(note("incident review closed"))
    assert [e.seq for e in out] == list(range(out[0].seq, out[0].seq + len(out)))
    assert model_file("1.0") == out[6].statement.payload["model_sha256"]
    return ServingStory(out, vera, arjun)
