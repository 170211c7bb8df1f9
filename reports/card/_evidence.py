"""`evidence.json`: the entries a card cites, proven against a signed checkpoint, offline.

Format "govledger-evidence/1", written as RFC 8785 canonical JSON so that any change to any
byte is detected (the verifier re-encodes and compares the bytes first):

    {"format", "origin", "verifier_key", "checkpoint": <C2SP signed note>,
     "entries": [<entry JSON> + {"inclusion_proof": [hex, ...]}, ...],   (by seq)
     "public_keys": {key_id: {"actor", "public_key"}},
     "artifacts": {sha256: name}}

`verify_evidence` needs nothing but these bytes (and, better, the ledger's verifier key from
a trusted channel): checkpoint signature, every entry hash, every RFC 9162 inclusion proof,
every signature with a key whose own registration entry is included and proven. It returns
an `EvidenceReport` that is ok or names the first failure; it never answers "maybe".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ledger.errors import CheckpointInvalid, GovledgerError, VerificationError
from ledger.log import merkle, signing
from ledger.log.canonical import canonical_json
from ledger.log.checkpoint import VerifierKey, parse_checkpoint, verify_checkpoint
from ledger.log.entries import Entry, recompute_hash
from ledger.log.kinds import SIGNATURE_REQUIRED, Kind
from ledger.store import LedgerStore
from reports.card._model import ModelCard
from reports.signatures import KeyBook

FORMAT = "govledger-evidence/1"
_FIELDS = {"format", "origin", "verifier_key", "checkpoint", "entries", "public_keys", "artifacts"}
_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_SIGNED_KINDS = {k.value for k in SIGNATURE_REQUIRED}


class EvidenceProblem(StrEnum):
    """What evidence verification can find wrong."""

    MALFORMED = "malformed"
    NOT_CANONICAL = "not-canonical"
    CHECKPOINT_INVALID = "checkpoint-invalid"
    KEY_MISMATCH = "verifier-key-mismatch"
    HASH_MISMATCH = "hash-mismatch"
    NOT_INCLUDED = "inclusion-proof-failed"
    KEY_NOT_PROVEN = "key-not-proven"
    BAD_SIGNATURE = "bad-signature"
    ARTIFACTS_MISMATCH = "artifacts-mismatch"
    NO_EVIDENCE = "no-evidence"
    PAGES_NOT_BOUND = "pages-not-bound"
    CHECKPOINT_CONFLICT = "checkpoint-conflict"


class EvidenceUnavailable(GovledgerError):
    """A cited entry is newer than the latest signed checkpoint, so it cannot be proven."""

    status = 409
    slug = "evidence-unavailable"


class EvidenceInvalid(VerificationError):
    """A card's evidence does not verify (see EvidenceReport.message)."""

    slug = "evidence-invalid"


@dataclass(frozen=True)
class EvidenceReport:
    """The outcome of verifying evidence.json: ok, or the first failure and why."""

    ok: bool
    message: str
    problem: EvidenceProblem | None = None
    first_bad_seq: int | None = None
    origin: str = ""
    checkpoint_size: int | None = None
    checkpoint_root: str | None = None
    entries_checked: int = 0
    signatures_checked: int = 0
    key_pinned: bool = False
    pages: str = ""
    """What comparing the PDF's pages with the proven entries found (`reports.card_binding`),
    and what a held checkpoint showed; empty when only evidence.json was checked."""

    def summary(self) -> str:
        """One line for a terminal."""
        if not self.ok:
            where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
            return f"FAILED{where}: {self.problem}: {self.message}"
        pin = "pinned key" if self.key_pinned else "key taken from the card (pass --key to pin)"
        pages = f"; {self.pages}" if self.pages else ""
        return (
            f"OK: {self.entries_checked} entries and {self.signatures_checked} signatures "
            f"verified against the checkpoint of {self.origin} at tree size "
            f"{self.checkpoint_size}, root {self.checkpoint_root} ({pin}){pages}"
        )

    def raise_for_problem(self) -> None:
        """Raise EvidenceInvalid unless ok."""
        if not self.ok:
            raise EvidenceInvalid(self.summary(), seq=self.first_bad_seq)


class _Failure(Exception):
    def __init__(self, problem: EvidenceProblem, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.problem, self.message, self.seq = problem, message, seq


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


def verify_evidence(data: bytes, *, verifier_key: str | None = None) -> EvidenceReport:
    """Verify evidence.json bytes offline; pin the ledger's key with `verifier_key`."""
    state: dict[str, Any] = {"pinned": verifier_key is not None}
    try:
        _verify(data, verifier_key, state)
    except _Failure as failure:
        return EvidenceReport(
            False, failure.message, failure.problem, failure.seq, **_counts(state)
        )
    return EvidenceReport(True, "evidence verifies", **_counts(state))


def _counts(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "origin": state.get("origin", ""),
        "checkpoint_size": state.get("size"),
        "checkpoint_root": state.get("root"),
        "entries_checked": state.get("entries", 0),
        "signatures_checked": state.get("signatures", 0),
        "key_pinned": state["pinned"],
    }


def _verify(data: bytes, pinned: str | None, state: dict[str, Any]) -> None:
    doc = _parse(data)
    try:
        key = VerifierKey.parse(pinned or str(doc["verifier_key"]))
        if pinned is not None and pinned.strip() != doc["verifier_key"]:
            raise _Failure(
                EvidenceProblem.KEY_MISMATCH,
                "the evidence names another ledger key than the one you pinned",
            )
        checkpoint = verify_checkpoint(str(doc["checkpoint"]), key)
    except CheckpointInvalid as exc:
        raise _Failure(EvidenceProblem.CHECKPOINT_INVALID, exc.message) from None
    if checkpoint.origin != doc["origin"]:
        raise _Failure(
            EvidenceProblem.CHECKPOINT_INVALID,
            "the checkpoint is for another log than the evidence's origin",
        )
    state.update(origin=checkpoint.origin, size=checkpoint.size, root=checkpoint.root.hex())
    entries = _proven_entries(doc["entries"], checkpoint.size, checkpoint.root, state)
    _check_keys_and_signatures(entries, doc["public_keys"], state)
    expected: dict[str, str] = {}
    for entry in entries:
        expected.update(_artifact_names(entry.statement.payload))
    if doc["artifacts"] != expected:
        raise _Failure(
            EvidenceProblem.ARTIFACTS_MISMATCH,
            "the artifact list differs from the artifacts the entries cite",
        )


def _parse(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Failure(EvidenceProblem.MALFORMED, f"evidence.json is not JSON: {exc}") from None
    try:
        canonical = canonical_json(doc)
    except GovledgerError as exc:
        raise _Failure(EvidenceProblem.NOT_CANONICAL, exc.message) from None
    if canonical != data:
        raise _Failure(
            EvidenceProblem.NOT_CANONICAL,
            "evidence.json is not in RFC 8785 canonical form: it was edited",
        )
    if not isinstance(doc, dict) or set(doc) != _FIELDS or doc.get("format") != FORMAT:
        raise _Failure(EvidenceProblem.MALFORMED, f"not a {FORMAT} document")
    if not isinstance(doc["entries"], list) or not doc["entries"]:
        raise _Failure(EvidenceProblem.NO_EVIDENCE, "evidence.json cites no entries")
    if not isinstance(doc["public_keys"], dict) or not isinstance(doc["artifacts"], dict):
        raise _Failure(EvidenceProblem.MALFORMED, "public_keys and artifacts must be objects")
    return doc


def _proven_entries(items: list[Any], size: int, root: bytes, state: dict[str, Any]) -> list[Entry]:
    entries: list[Entry] = []
    for item in items:
        seq = item.get("seq") if isinstance(item, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get("inclusion_proof"), list):
            raise _Failure(EvidenceProblem.MALFORMED, "an entry has no inclusion_proof", seq)
        proof_hex = item["inclusion_proof"]
        body = {k: v for k, v in item.items() if k != "inclusion_proof"}
        try:
            entry = Entry.from_dict(body)
        except GovledgerError as exc:
            raise _Failure(EvidenceProblem.MALFORMED, exc.message, seq) from None
        if entry.to_dict() != body:
            raise _Failure(EvidenceProblem.MALFORMED, "entry is not in its exact JSON form", seq)
        if entries and entry.seq <= entries[-1].seq:
            raise _Failure(
                EvidenceProblem.MALFORMED, "entries are not in increasing seq order", seq
            )
        if recompute_hash(entry) != entry.entry_hash:
            raise _Failure(
                EvidenceProblem.HASH_MISMATCH,
                "entry_hash is not the SHA-256 of the entry: the entry was altered",
                seq,
            )
        if not all(isinstance(h, str) and _HEX32.match(h) for h in proof_hex):
            raise _Failure(EvidenceProblem.MALFORMED, "inclusion proof hashes must be hex", seq)
        proof = [bytes.fromhex(h) for h in proof_hex]
        if not merkle.verify_inclusion(entry.entry_hash, entry.seq, size, proof, root):
            raise _Failure(
                EvidenceProblem.NOT_INCLUDED,
                f"the inclusion proof does not place this entry in the signed tree "
                f"of {size} entries",
                seq,
            )
        entries.append(entry)
        state["entries"] = len(entries)
    return entries


def _check_keys_and_signatures(
    entries: list[Entry], public_keys: dict[str, Any], state: dict[str, Any]
) -> None:
    registrations = {
        str(e.statement.payload.get("key_id")): e
        for e in entries
        if e.statement.kind == Kind.KEY_REGISTERED.value
    }
    revocations = {
        str(e.statement.payload.get("key_id")): e.seq
        for e in entries
        if e.statement.kind == Kind.KEY_REVOKED.value
    }
    expected = {
        k: {"actor": e.statement.actor, "public_key": e.statement.payload.get("public_key")}
        for k, e in registrations.items()
    }
    if public_keys != expected:
        raise _Failure(
            EvidenceProblem.KEY_NOT_PROVEN,
            "public_keys differ from the key registrations included in the evidence",
        )
    signatures = 0
    seen: dict[bytes, int] = {}
    for entry in entries:
        st = entry.statement
        if entry.signature is None and entry.key_id is None:
            if st.kind in _SIGNED_KINDS:
                raise _Failure(
                    EvidenceProblem.BAD_SIGNATURE, f"{st.kind} carries no signature", entry.seq
                )
            continue
        registration = registrations.get(str(entry.key_id))
        if registration is None or registration.seq > entry.seq:
            raise _Failure(
                EvidenceProblem.KEY_NOT_PROVEN,
                f"key {entry.key_id} has no proven registration before this entry",
                entry.seq,
            )
        if registration.statement.actor != st.actor:
            raise _Failure(
                EvidenceProblem.BAD_SIGNATURE,
                f"key {entry.key_id} belongs to {registration.statement.actor}, not {st.actor}",
                entry.seq,
            )
        revoked = revocations.get(str(entry.key_id))
        if revoked is not None and revoked < entry.seq:
            raise _Failure(
                EvidenceProblem.BAD_SIGNATURE,
                f"key {entry.key_id} was revoked at seq {revoked}",
                entry.seq,
            )
        public_key = str(registration.statement.payload.get("public_key"))
        if not signing.verify(public_key, st.signing_bytes(), str(entry.signature)):
            raise _Failure(
                EvidenceProblem.BAD_SIGNATURE,
                "the Ed25519 signature does not verify over the statement (under the strict "
                "rule: canonical base64, no weak key, S < L)",
                entry.seq,
            )
        _, digest, signature = signing.signed_statement_row(entry)
        earlier = seen.get(signature, seen.get(digest))
        if earlier is not None:  # the same signature bytes or the same statement again
            raise _Failure(
                EvidenceProblem.BAD_SIGNATURE,
                f"the signed statement of seq {earlier} appears again: a replay",
                entry.seq,
            )
        seen[signature] = seen[digest] = entry.seq
        signatures += 1
        state["signatures"] = signatures
