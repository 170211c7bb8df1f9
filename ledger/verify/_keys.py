"""Which key was valid for which actor at which seq: the one key-history rule of verification.

A `key.registered` entry registers an Ed25519 key or a passkey for its actor. It is signed
by that key (proof of possession; a passkey's assertion, `ledger.log.webauthn`), its
payload's key_id is the key's fingerprint (`signing.key_id_for`, `webauthn.key_id_for`), an
Ed25519 key is canonical and of large order, and a key id is registered once. From the next
entry on, the key signs statements of that actor only; from the entry after a `key.revoked`
naming it, it signs nothing. Every signature is checked by
`ledger.log.signing.check_statement_signature` (the strict Ed25519 rule, or a passkey's
assertion), and a signed statement appears once in a log: neither its signature's bytes nor
its statement's SHA-256 again.
Approvals, rejections and key registrations must be signed (`kinds.SIGNATURE_REQUIRED`).

`KeyHistory` holds the keys with the seqs they were registered and revoked at, so it answers
for any seq: fed in seq order by the stream verifier, started in the middle of a log by a
range worker (`KeyHistory.before`), or built from the key entries a card's evidence proves
or a document reads. A signature that breaks the rule raises the `ledger.errors` error of
the rule it breaks (the classes admission raises for the same rule over the database's
facts); `problem_of` names its `Problem` for a report. `ledger/verify/standalone.py`
restates this rule and is tested against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import (
    InvalidStatement,
    KeyNotOwned,
    KeyRevoked,
    NonCanonicalSignature,
    ReplayedStatement,
    SignatureError,
    SignatureInvalid,
    SignatureRequired,
    UnknownKey,
    WeakKey,
)
from ledger.log import ed25519_strict, signing, webauthn
from ledger.log.entries import Entry
from ledger.log.kinds import SIGNATURE_REQUIRED, Kind
from ledger.verify._report import Problem

SIGNED_KINDS = frozenset(kind.value for kind in SIGNATURE_REQUIRED)
"""The kinds that must carry a signature."""

KEY_KINDS = frozenset({Kind.KEY_REGISTERED.value, Kind.KEY_REVOKED.value})
"""The kinds that change the key history."""

_REGISTERED = Kind.KEY_REGISTERED.value


@dataclass(slots=True)
class ActorKey:
    """A registered key: whose it is, and from and until which seq it signs."""

    key_id: str
    actor: str
    public_key: str
    """Standard base64 of the raw 32-byte key (of a passkey's DER SubjectPublicKeyInfo), as
    the registration's payload holds it."""
    registered_at: int
    revoked_at: int | None = None
    passkey: webauthn.PasskeyCredential | None = None


def _fingerprint(public_key_b64: str) -> str | None:
    """The key_id of a base64 raw public key (`signing.key_id_for`); None if it is not one
    in canonical base64."""
    try:
        raw = ed25519_strict.canonical_b64(public_key_b64, "public key", 32)
    except ValueError:
        return None
    return signing.key_id_for(raw)


def _payload(payload_json: str) -> dict[str, Any]:
    payload = json.loads(payload_json)
    return payload if isinstance(payload, dict) else {}


def _passkey(payload: dict[str, Any]) -> webauthn.PasskeyCredential | None:
    """The passkey a registration's payload registers, None for an Ed25519 key or a payload
    that is no registration (recorded unchecked, as `KeyHistory.before` does)."""
    try:
        return webauthn.credential_of(payload)
    except InvalidStatement:
        return None


class KeyHistory:
    """The keys a log registered and revoked, by key_id, with the seqs they did so at."""

    __slots__ = ("keys",)

    def __init__(self, keys: Iterable[ActorKey] = ()) -> None:
        self.keys: dict[str, ActorKey] = {key.key_id: key for key in keys}

    @classmethod
    def before(cls, events: Iterable[Sequence[Any]], position: int) -> KeyHistory:
        """The history a verifier holds when it reaches seq `position`, from the key entries.

        `events` are (seq, kind, actor, payload, key_id) of the key.registered and
        key.revoked entries in seq order (`LedgerStore.key_events`). They are recorded
        without being checked: this is how a range worker starts in the middle of the log,
        and the state is exact whenever every entry before `position` verifies (when one
        does not, that earlier entry is the failure reported, and this state is moot)."""
        history = cls()
        for seq, kind, actor, payload, _ in events:
            if seq >= position:
                break
            history.record(seq, kind, actor, payload)
        return history

    @classmethod
    def of_entries(cls, entries: Iterable[Entry]) -> KeyHistory:
        """The history the key entries among `entries` give (recorded, not checked)."""
        history = cls()
        for entry in sorted(entries, key=lambda e: e.seq):
            st = entry.statement
            if st.kind in KEY_KINDS:
                history.record(entry.seq, st.kind, st.actor, st.payload_json)
        return history

    def record(self, seq: int, kind: str, actor: str, payload_json: str) -> None:
        """Apply a key entry at `seq` (others are ignored): the first registration of a key
        id stands, and its first revocation."""
        if kind == _REGISTERED:
            payload = _payload(payload_json)
            key_id = str(payload.get("key_id", ""))
            if key_id not in self.keys:
                public_key = str(payload.get("public_key", ""))
                self.keys[key_id] = ActorKey(
                    key_id, actor, public_key, seq, None, _passkey(payload)
                )
        elif kind == Kind.KEY_REVOKED.value:
            key = self.keys.get(str(_payload(payload_json).get("key_id", "")))
            if key is not None and key.registered_at < seq and key.revoked_at is None:
                key.revoked_at = seq

    def check(self, entry: Entry, replays: SignedStatements | None = None) -> ActorKey | None:
        """Check an entry's signature under the rule at its seq; the key it verifies with.

        None for an unsigned entry of a kind that needs no signature. Raises the
        SignatureError of the rule broken; with `replays`, also ReplayedStatement for a
        signed statement seen before, and otherwise remembers this one. The order of the
        checks decides which problem a forgery that breaks several rules is reported as."""
        st, seq = entry.statement, entry.seq
        signature, key_id = entry.signature, entry.key_id
        if signature is None and key_id is None:
            if st.kind in SIGNED_KINDS:
                raise SignatureRequired(f"{st.kind} carries no signature")
            return None
        if signature is None or key_id is None:
            raise SignatureInvalid("signature without key_id or vice versa")
        if st.kind == _REGISTERED:
            key = self._registration(seq, st.actor, st.payload_json, key_id)
        else:
            key = self._signing_key(seq, st.actor, key_id)
        try:
            raw_signature = signing.signature_bytes(signature)
        except InvalidStatement as exc:
            raise SignatureInvalid(exc.message) from None
        signed = st.signing_bytes()
        signing.check_statement_signature(key.public_key, key.passkey, signed, signature)
        if replays is not None:
            replays.admit(seq, raw_signature, signing.statement_digest(signed))
        return key

    def _registration(self, seq: int, actor: str, payload_json: str, key_id: str) -> ActorKey:
        """The key a key.registered entry registers, if it may: it must sign it itself."""
        payload = _payload(payload_json)
        public_key = str(payload.get("public_key", ""))
        try:
            passkey = webauthn.credential_of(payload)
            if passkey is None:
                ed25519_strict.parse_public_key(public_key)
                fingerprint = _fingerprint(public_key)
            else:
                webauthn.load_public_key(public_key, passkey.algorithm)
                fingerprint = webauthn.key_id_for(public_key)
        except WeakKey as exc:
            raise WeakKey(f"key {key_id}: {exc.message}") from None
        except InvalidStatement as exc:
            raise SignatureInvalid(exc.message) from None
        if payload.get("key_id") != key_id or fingerprint != key_id:
            raise SignatureInvalid("key registration not signed by the registered key")
        earlier = self.keys.get(key_id)
        if earlier is not None and earlier.registered_at < seq:
            # admission refuses it too: it would undo a revocation
            raise SignatureInvalid(f"key {key_id} was already registered earlier")
        return ActorKey(key_id, actor, public_key, seq, None, passkey)

    def _signing_key(self, seq: int, actor: str, key_id: str) -> ActorKey:
        """The key `key_id` if it may sign a statement of `actor` at `seq`."""
        key = self.keys.get(key_id)
        if key is None or key.registered_at >= seq:
            raise UnknownKey(f"signed by key {key_id}, which no earlier entry registered")
        if key.revoked_at is not None and key.revoked_at < seq:
            raise KeyRevoked(f"signed by key {key_id}, revoked at seq {key.revoked_at}")
        if key.actor != actor:
            raise KeyNotOwned(f"key {key_id} belongs to {key.actor}, not {actor}")
        return key


class SignedStatements:
    """The signed statements of a log seen so far: {signature bytes: seq} and {SHA-256 of
    the canonical statement: seq}. Only signed entries are kept (a few in a hundred)."""

    __slots__ = ("digests", "signatures")

    def __init__(
        self, signatures: dict[bytes, int] | None = None, digests: dict[bytes, int] | None = None
    ) -> None:
        self.signatures: dict[bytes, int] = dict(signatures or {})
        self.digests: dict[bytes, int] = dict(digests or {})

    def admit(self, seq: int, raw_signature: bytes, digest: bytes) -> None:
        """Remember a signed statement; ReplayedStatement if it was seen before."""
        earlier = self.signatures.get(raw_signature, self.digests.get(digest))
        if earlier is not None:
            raise ReplayedStatement(
                f"the signed statement of seq {earlier} appears again (the same signature "
                "bytes or the same statement): a replay, which admission refuses"
            )
        self.signatures[raw_signature] = seq
        self.digests[digest] = seq

    def isdisjoint(self, other: SignedStatements) -> bool:
        """True when no statement of `other` was seen here (ranges stitched in order)."""
        return self.signatures.keys().isdisjoint(
            other.signatures
        ) and self.digests.keys().isdisjoint(other.digests)

    def update(self, other: SignedStatements) -> None:
        """Add the statements `other` saw (a later range of the same log)."""
        self.signatures.update(other.signatures)
        self.digests.update(other.digests)


_PROBLEMS: tuple[tuple[type[SignatureError], Problem], ...] = (
    (UnknownKey, Problem.UNKNOWN_KEY),
    (WeakKey, Problem.WEAK_KEY),
    (NonCanonicalSignature, Problem.NON_CANONICAL_SIGNATURE),
    (ReplayedStatement, Problem.REPLAYED_SIGNATURE),
)


def problem_of(error: SignatureError) -> Problem:
    """The Problem a report names for a broken rule: a signature by a revoked key or by a
    key of another actor, or one without a signature, is a bad signature."""
    for cls, problem in _PROBLEMS:
        if isinstance(error, cls):
            return problem
    return Problem.BAD_SIGNATURE
