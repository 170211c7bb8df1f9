"""`evidence.json`: the entries a card cites, proven against a signed checkpoint, offline.

Format "govledger-evidence/1", written as RFC 8785 canonical JSON so that any change to any
byte is detected (the verifier re-encodes and compares the bytes first):

    {"format", "origin", "verifier_key", "checkpoint": <C2SP signed note>,
     "entries": [<entry JSON> + {"inclusion_proof": [hex, ...]}, ...],   (by seq)
     "public_keys": {key_id: {"actor", "public_key"}},
     "artifacts": {sha256: name}}

`verify_evidence` needs nothing but these bytes (and, better, the ledger's verifier key from
a trusted channel): checkpoint signature, every entry hash, every RFC 9162 inclusion proof,
every signature under the key-history rule (`ledger.verify._keys`) with a key whose own
registration entry is included and proven. It returns the one `VerificationReport` (subject
`evidence`), ok or naming the first failure; it never answers "maybe".
"""

from __future__ import annotations

import json
import re
from typing import Any

from ledger.errors import (
    CheckpointInvalid,
    GovledgerError,
    NotWitnessed,
    SignatureError,
    UnknownKey,
)
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.checkpoint import Checkpoint, VerifierKey, parse_checkpoint, verify_checkpoint
from ledger.log.entries import Entry, recompute_hash
from ledger.log.kinds import Kind
from ledger.log.witness_policy import WitnessPolicy
from ledger.store import LedgerStore
from ledger.verify import (
    KEY_KINDS,
    Failed,
    KeyHistory,
    Problem,
    SignedStatements,
    Subject,
    VerificationReport,
    problem_of,
)
from reports.card._model import ModelCard
from reports.signatures import KeyBook

FORMAT = "govledger-evidence/1"
_FIELDS = {"format", "origin", "verifier_key", "checkpoint", "entries", "public_keys", "artifacts"}
_HEX32 = re.compile(r"^[0-9a-f]{64}$")


class EvidenceUnavailable(GovledgerError):
    """A cited entry is newer than the latest signed checkpoint, so it cannot be proven."""

    status = 409
    slug = "evidence-unavailable"


# --- building --------------------------------------------------------------------------------


def evidence_document(store: LedgerStore, seqs: list[int], checkpoint_note: str) -> dict[str, Any]:
    """The evidence object for entries `seqs`, proven against the checkpoint in the note.

    The registrations (and any revocations) of the keys that signed those entries are added,
    so that every signature can be checked with a key that is itself proven."""
    checkpoint, _ = parse_checkpoint(checkpoint_note)
    keys = KeyBook.from_store(store, max_seq=checkpoint.size)
    late = sorted(s for s in seqs if s >= checkpoint.size)
    if late:
        raise EvidenceUnavailable(
            f"entries {late[:5]} are newer than the signed checkpoint of {checkpoint.size} "
            "entries: open the ledger with its key so that a new checkpoint can be signed"
        )
    wanted = set(seqs)
    entries = {seq: store.entry(seq) for seq in wanted}
    for entry in list(entries.values()):
        if entry.key_id and entry.key_id in keys.registrations:
            for found in (keys.registrations[entry.key_id], keys.revocations.get(entry.key_id)):
                if found is not None:
                    entries.setdefault(found.seq, found)
    out, public_keys, artifacts = [], {}, {}
    for seq in sorted(entries):
        entry = entries[seq]
        proof = store.inclusion_proof(seq, checkpoint.size)
        if proof.root != checkpoint.root:
            raise CheckpointInvalid("the store's Merkle root differs from the checkpoint's")
        out.append({**entry.to_dict(), "inclusion_proof": [h.hex() for h in proof.proof]})
        st = entry.statement
        if st.kind == Kind.KEY_REGISTERED.value:
            payload = st.payload
            public_keys[str(payload["key_id"])] = {
                "actor": st.actor,
                "public_key": str(payload["public_key"]),
            }
        artifacts.update(_artifact_names(st.payload))
    return {
        "format": FORMAT,
        "origin": store.origin,
        "verifier_key": store.meta()["verifier_key"],
        "checkpoint": checkpoint_note,
        "entries": out,
        "public_keys": public_keys,
        "artifacts": artifacts,
    }


def build_evidence(store: LedgerStore, card: ModelCard) -> bytes:
    """evidence.json for a card: its cited entries, proven, as RFC 8785 canonical bytes."""
    seqs = [ref.seq for ref in card.cited_entries()]
    return canonical_json(evidence_document(store, seqs, card.evidence.checkpoint_note))


def _artifact_names(payload: dict[str, Any]) -> dict[str, str]:
    found = {}
    for ref in payload.get("artifacts") or []:
        if isinstance(ref, dict) and isinstance(ref.get("sha256"), str):
            found[ref["sha256"]] = str(ref.get("name", ""))
    return found


# --- verifying -------------------------------------------------------------------------------


class _Progress:
    """What evidence verification has established so far (for the report's counts)."""

    def __init__(self) -> None:
        self.checkpoint: Checkpoint | None = None
        self.entries = 0
        self.signatures = 0
        self.witnessed = ""

    def facts(self, pinned: bool) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "size": 0 if cp is None else cp.size,
            "root": b"" if cp is None else cp.root,
            "checkpoint": cp,
            "entries_checked": self.entries,
            "signatures_checked": self.signatures,
            "key_pinned": pinned,
            "notes": (f"checkpoint {self.witnessed}",) if self.witnessed else (),
        }


def verify_evidence(
    data: bytes, *, verifier_key: str | None = None, witnesses: WitnessPolicy | None = None
) -> VerificationReport:
    """Verify evidence.json bytes offline; pin the ledger's key with `verifier_key`, and
    require cosignatures on its checkpoint with `witnesses` (`ledger.log.witness_policy`)."""
    progress = _Progress()
    pinned = verifier_key is not None
    try:
        _verify(data, verifier_key, progress, witnesses or WitnessPolicy.none())
    except Failed as failed:
        return VerificationReport.failure(Subject.EVIDENCE, failed, **progress.facts(pinned))
    return VerificationReport(subject=Subject.EVIDENCE, ok=True, **progress.facts(pinned))


def _verify(data: bytes, pinned: str | None, progress: _Progress, witnesses: WitnessPolicy) -> None:
    doc = _parse(data)
    try:
        key = VerifierKey.parse(pinned or str(doc["verifier_key"]))
        if pinned is not None and pinned.strip() != doc["verifier_key"]:
            raise Failed(
                Problem.KEY_MISMATCH,
                "the evidence names another ledger key than the one you pinned",
            )
        checkpoint = verify_checkpoint(str(doc["checkpoint"]), key)
    except CheckpointInvalid as exc:
        raise Failed(Problem.CHECKPOINT_INVALID, exc.message) from None
    if checkpoint.origin != doc["origin"]:
        raise Failed(
            Problem.CHECKPOINT_INVALID,
            "the checkpoint is for another log than the evidence's origin",
        )
    progress.checkpoint = checkpoint
    if witnesses:
        try:
            progress.witnessed = witnesses.describe(witnesses.check(checkpoint.note))
        except NotWitnessed as exc:
            raise Failed(Problem.NOT_WITNESSED, exc.message) from None
    entries = _proven_entries(doc["entries"], checkpoint.size, checkpoint.root, progress)
    _check_keys_and_signatures(entries, doc["public_keys"], progress)
    expected: dict[str, str] = {}
    for entry in entries:
        expected.update(_artifact_names(entry.statement.payload))
    if doc["artifacts"] != expected:
        raise Failed(
            Problem.ARTIFACTS_MISMATCH,
            "the artifact list differs from the artifacts the entries cite",
        )


def _parse(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Failed(Problem.MALFORMED, f"evidence.json is not JSON: {exc}") from None
    try:
        canonical = canonical_json(doc)
    except GovledgerError as exc:
        raise Failed(Problem.NOT_CANONICAL, exc.message) from None
    if canonical != data:
        raise Failed(
            Problem.NOT_CANONICAL,
            "evidence.json is not in RFC 8785 canonical form: it was edited",
        )
    if not isinstance(doc, dict) or set(doc) != _FIELDS or doc.get("format") != FORMAT:
        raise Failed(Problem.MALFORMED, f"not a {FORMAT} document")
    if not isinstance(doc["entries"], list) or not doc["entries"]:
        raise Failed(Problem.NO_EVIDENCE, "evidence.json cites no entries")
    if not isinstance(doc["public_keys"], dict) or not isinstance(doc["artifacts"], dict):
        raise Failed(Problem.MALFORMED, "public_keys and artifacts must be objects")
    return doc


def _proven_entries(items: list[Any], size: int, root: bytes, progress: _Progress) -> list[Entry]:
    entries: list[Entry] = []
    for item in items:
        seq = item.get("seq") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("inclusion_proof"), list):
            raise Failed(Problem.MALFORMED, "an entry has no inclusion_proof", seq=seq)
        proof_hex = item["inclusion_proof"]
        body = {k: v for k, v in item.items() if k != "inclusion_proof"}
        try:
            entry = Entry.from_dict(body)
        except GovledgerError as exc:
            raise Failed(Problem.MALFORMED, exc.message, seq=seq) from None
        if entry.to_dict() != body:
            raise Failed(Problem.MALFORMED, "entry is not in its exact JSON form", seq=seq)
        if entries and entry.seq <= entries[-1].seq:
            raise Failed(Problem.MALFORMED, "entries are not in increasing seq order", seq=seq)
        if recompute_hash(entry) != entry.entry_hash:
            raise Failed(
                Problem.HASH_MISMATCH,
                "entry_hash is not the SHA-256 of the entry: the entry was altered",
                seq=seq,
            )
        if not all(isinstance(h, str) and _HEX32.match(h) for h in proof_hex):
            raise Failed(Problem.MALFORMED, "inclusion proof hashes must be hex", seq=seq)
        proof = [bytes.fromhex(h) for h in proof_hex]
        if not merkle.verify_inclusion(entry.entry_hash, entry.seq, size, proof, root):
            raise Failed(
                Problem.NOT_INCLUDED,
                f"the inclusion proof does not place this entry in the signed tree "
                f"of {size} entries",
                seq=seq,
            )
        entries.append(entry)
        progress.entries = len(entries)
    return entries


def _check_keys_and_signatures(
    entries: list[Entry], public_keys: dict[str, Any], progress: _Progress
) -> None:
    """`public_keys` lists exactly the keys the included registrations register (the first
    registration of a key id stands), and every signature keeps the key-history rule, with
    only the included key entries known: a key not registered among them is not proven."""
    expected: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e.statement.kind == Kind.KEY_REGISTERED.value:
            payload = e.statement.payload
            expected.setdefault(
                str(payload.get("key_id")),
                {"actor": e.statement.actor, "public_key": payload.get("public_key")},
            )
    if public_keys != expected:
        raise Failed(
            Problem.KEY_NOT_PROVEN,
            "public_keys differ from the key registrations included in the evidence",
        )
    history, replays = KeyHistory(), SignedStatements()
    for entry in entries:
        st = entry.statement
        try:
            key = history.check(entry, replays)
        except UnknownKey:
            raise Failed(
                Problem.KEY_NOT_PROVEN,
                f"key {entry.key_id} has no proven registration before this entry",
                seq=entry.seq,
            ) from None
        except SignatureError as exc:
            raise Failed(problem_of(exc), exc.message, seq=entry.seq) from None
        if st.kind in KEY_KINDS:
            history.record(entry.seq, st.kind, st.actor, st.payload_json)
        if key is not None:
            progress.signatures += 1
