"""Whether a signed entry's signature verifies with the key its actor registered in the ledger.

Cards and audit reports show, next to every approval or rejection, whether its Ed25519
signature checks out against the `key.registered` entry of the signer's key (and that the
key belonged to that actor and was not revoked before the decision). This re-checks what
admission checked when the entry was written, from the entries alone, so a reader does not
have to trust the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ledger.log import signing
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store import EntryFilter, LedgerStore


class SignatureStatus(StrEnum):
    """What checking one entry's signature found."""

    VERIFIED = "verified"
    UNSIGNED = "unsigned"
    INVALID = "invalid"
    UNKNOWN_KEY = "unknown key"
    WRONG_OWNER = "key of another actor"
    REVOKED = "key revoked"


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The outcome for one entry, with the registration entry of the key when known."""

    status: SignatureStatus
    key_id: str | None
    key_entry: Entry | None
    detail: str

    @property
    def ok(self) -> bool:
        """True only for a signature that verifies with the actor's unrevoked key."""
        return self.status is SignatureStatus.VERIFIED


def all_entries(
    store: LedgerStore, filters: EntryFilter, *, max_seq: int | None = None
) -> list[Entry]:
    """Every entry matching the filters (paginated reads), up to `max_seq` exclusive."""
    found: list[Entry] = []
    cursor = -1
    while True:
        page = store.list_entries(filters, after_seq=cursor, limit=1000)
        for entry in page:
            if max_seq is not None and entry.seq >= max_seq:
                return found
            found.append(entry)
        if len(page) < 1000:
            return found
        cursor = page[-1].seq


class KeyBook:
    """The ledger's key registrations and revocations, read once."""

    def __init__(self, registrations: list[Entry], revocations: list[Entry]) -> None:
        self.registrations: dict[str, Entry] = {}
        for entry in registrations:
            self.registrations.setdefault(str(entry.statement.payload.get("key_id")), entry)
        self.revocations: dict[str, Entry] = {}
        for entry in revocations:
            self.revocations.setdefault(str(entry.statement.payload.get("key_id")), entry)

    @classmethod
    def from_store(cls, store: LedgerStore, *, max_seq: int | None = None) -> KeyBook:
        """Read every key.registered and key.revoked entry below `max_seq`."""
        return cls(
            all_entries(store, EntryFilter(kind=Kind.KEY_REGISTERED.value), max_seq=max_seq),
            all_entries(store, EntryFilter(kind=Kind.KEY_REVOKED.value), max_seq=max_seq),
        )

    def check(self, entry: Entry) -> SignatureCheck:
        """Check one entry's signature against the registered key it names."""
        key_id = entry.key_id
        if entry.signature is None or key_id is None:
            return SignatureCheck(SignatureStatus.UNSIGNED, key_id, None, "no signature")
        if entry.statement.kind == Kind.KEY_REGISTERED.value:
            registration: Entry | None = entry
        else:
            registration = self.registrations.get(key_id)
        if registration is None or registration.seq > entry.seq:
            return SignatureCheck(
                SignatureStatus.UNKNOWN_KEY,
                key_id,
                None,
                f"key {key_id} was not registered before seq {entry.seq}",
            )
        payload = registration.statement.payload
        if registration.statement.actor != entry.statement.actor:
            return SignatureCheck(
                SignatureStatus.WRONG_OWNER,
                key_id,
                registration,
                f"key {key_id} belongs to {registration.statement.actor}",
            )
        revoked = self.revocations.get(key_id)
        if revoked is not None and revoked.seq < entry.seq:
            return SignatureCheck(
                SignatureStatus.REVOKED,
                key_id,
                registration,
                f"key {key_id} was revoked at seq {revoked.seq}, before this entry",
            )
        public_key = str(payload.get("public_key", ""))
        if not signing.verify(public_key, entry.statement.signing_bytes(), entry.signature):
            return SignatureCheck(
                SignatureStatus.INVALID,
                key_id,
                registration,
                "the Ed25519 signature does not verify over the statement",
            )
        return SignatureCheck(
            SignatureStatus.VERIFIED,
            key_id,
            registration,
            f"Ed25519 signature verifies with key {key_id} (registered at seq {registration.seq})",
        )
