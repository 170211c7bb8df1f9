"""Whether a signed entry's signature verifies with the key its actor registered in the ledger.

Cards and audit reports show, next to every approval or rejection, whether its signature
(Ed25519, or a passkey's WebAuthn assertion) checks out against the `key.registered` entry
of the signer's key (and that the key belonged to that actor and was not revoked before the
decision). This applies the one key-history rule (`ledger.verify._keys`, the stream
verifier's) to the key entries alone, so a reader does not have to trust the database's key
index. Each check is the one
`VerificationReport` (subject `signature`), with the short label a table cell shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.errors import KeyNotOwned, KeyRevoked, SignatureError, UnknownKey
from ledger.log.entries import Entry
from ledger.log.kinds import Kind
from ledger.store import EntryFilter, LedgerStore
from ledger.verify import (
    KEY_KINDS,
    Failed,
    KeyHistory,
    Problem,
    Subject,
    VerificationReport,
    problem_of,
)

VERIFIED = "verified"
UNSIGNED = "unsigned"
_LABELS: tuple[tuple[type[SignatureError], str], ...] = (
    (UnknownKey, "unknown key"),
    (KeyNotOwned, "key of another actor"),
    (KeyRevoked, "key revoked"),
)
"""The label of a signature that breaks a rule of the key history; "invalid" for the others
(it does not verify, or is not in the strict form). Cards already issued show these words."""


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One entry's signature as a document shows it: the report, its label, and the
    registration entry of the key when the key is known (a card cites it)."""

    report: VerificationReport
    label: str
    key_entry: Entry | None

    @property
    def ok(self) -> bool:
        """True only for a signature that verifies with the actor's unrevoked key."""
        return self.report.ok

    @property
    def detail(self) -> str:
        """Why, in a sentence: the failure, or the key it verifies with."""
        return self.report.detail


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
    """The ledger's key entries, read once: the key history, and each key's (first)
    registration and revocation entry, which cards cite and their evidence carries."""

    def __init__(self, key_entries: Iterable[Entry]) -> None:
        ordered = sorted((e for e in key_entries if e.statement.kind in KEY_KINDS), key=_seq)
        self.history = KeyHistory.of_entries(ordered)
        self.registrations: dict[str, Entry] = {}
        self.revocations: dict[str, Entry] = {}
        for entry in ordered:
            book = (
                self.registrations
                if entry.statement.kind == Kind.KEY_REGISTERED.value
                else self.revocations
            )
            book.setdefault(str(entry.statement.payload.get("key_id")), entry)

    @classmethod
    def from_store(cls, store: LedgerStore, *, max_seq: int | None = None) -> KeyBook:
        """Read every key.registered and key.revoked entry below `max_seq`."""
        return cls(
            all_entries(store, EntryFilter(kind=Kind.KEY_REGISTERED.value), max_seq=max_seq)
            + all_entries(store, EntryFilter(kind=Kind.KEY_REVOKED.value), max_seq=max_seq)
        )

    def check(self, entry: Entry) -> SignatureCheck:
        """Check one entry's signature under the key-history rule at its seq."""
        known = self.registrations.get(str(entry.key_id))
        key_entry = known if known is not None and known.seq <= entry.seq else None
        if entry.signature is None and entry.key_id is None:
            failed = Failed(Problem.UNSIGNED, "no signature", seq=entry.seq)
            return SignatureCheck(_report(failed), UNSIGNED, None)
        try:
            key = self.history.check(entry)
        except SignatureError as exc:
            label = next((text for cls, text in _LABELS if isinstance(exc, cls)), "invalid")
            failed = Failed(problem_of(exc), exc.message, seq=entry.seq)
            return SignatureCheck(
                _report(failed), label, None if isinstance(exc, UnknownKey) else key_entry
            )
        assert key is not None  # a signed entry that passes has a key
        what = (
            "Ed25519 signature"
            if key.passkey is None
            else f"passkey assertion ({key.passkey.algorithm}, {key.passkey.rp_id})"
        )
        note = f"{what} verifies with key {key.key_id} (registered at seq {key.registered_at})"
        report = VerificationReport(
            subject=Subject.SIGNATURE, ok=True, signatures_checked=1, notes=(note,)
        )
        return SignatureCheck(report, VERIFIED, key_entry)


def _seq(entry: Entry) -> int:
    return entry.seq


def _report(failed: Failed) -> VerificationReport:
    return VerificationReport.failure(Subject.SIGNATURE, failed)
