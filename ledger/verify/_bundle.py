"""Export bundles: a JSON Lines file a regulator can verify with no database.

Layout, one JSON object per line, in this order:
    {"type": "header", "format": "govledger-bundle/1", "origin", "verifier_key", "size", ...}
    {"type": "checkpoint", "note": "<C2SP signed checkpoint of exactly `size` entries>"}
    {"type": "key", "key_id", "actor", "public_key", "registered_seq", "revoked_seq"}  (0..n)
    {"type": "entry", ...the entry's JSON form...}                                    (size)
The checkpoint comes before the entries so that verification streams in one pass.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from ledger.errors import (
    BundleInvalid,
    CheckpointInvalid,
    GovledgerError,
    NotWitnessed,
    VerificationError,
)
from ledger.governance import ApprovalPolicy
from ledger.log.canonical import MAX_SAFE_INTEGER
from ledger.log.checkpoint import Checkpoint, VerifierKey, parse_checkpoint, verify_checkpoint
from ledger.log.entries import Entry
from ledger.log.timestamps import format_rfc3339
from ledger.log.witness_policy import WitnessPolicy
from ledger.store import LedgerStore, signing_keys, witnessed_checkpoint
from ledger.verify._report import Problem, VerificationReport
from ledger.verify._rules_replay import RulesReplayReport, replay_rules
from ledger.verify._stream import StreamVerifier

BUNDLE_FORMAT = "govledger-bundle/1"


def export_bundle(store: LedgerStore, out: IO[str]) -> Checkpoint:
    """Write the whole ledger as a bundle to a text stream; return the checkpoint it carries."""
    checkpoint = witnessed_checkpoint(store, covers=store.size())
    size = checkpoint.size
    header = {
        "type": "header",
        "format": BUNDLE_FORMAT,
        "origin": store.origin,
        "verifier_key": store.meta()["verifier_key"],
        "size": size,
        "exported_at": format_rfc3339(datetime.now(UTC)),
    }
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    out.write(
        json.dumps({"type": "checkpoint", "note": checkpoint.note}, ensure_ascii=False) + "\n"
    )
    with store.engine.connect() as conn:
        for row in conn.execute(select(signing_keys).order_by(signing_keys.c.registered_seq)):
            if row.registered_seq >= size:
                continue
            revoked = (
                row.revoked_seq if row.revoked_seq is not None and row.revoked_seq < size else None
            )
            out.write(
                json.dumps(
                    {
                        "type": "key",
                        "key_id": row.key_id,
                        "actor": row.actor,
                        "public_key": row.public_key,
                        "registered_seq": row.registered_seq,
                        "revoked_seq": revoked,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    for entry in store.iter_entries():
        if entry.seq >= size:
            break
        out.write(_entry_line(entry) + "\n")
    return checkpoint


def _entry_line(entry: Entry) -> str:
    """The one exported form of an entry: verification refuses any other spelling of it."""
    return json.dumps({"type": "entry", **entry.to_dict()}, ensure_ascii=False)


def _json_int(text: str) -> int | float:
    """JSON numbers are doubles (I-JSON): a canonical float such as 1e17 is printed as
    integer digits, which must read back as that float, not as an unsafe int."""
    value = int(text)
    return value if abs(value) <= MAX_SAFE_INTEGER else float(text)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any], str]]:
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise BundleInvalid(f"cannot read bundle {path}: {exc.strerror}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BundleInvalid(f"line {number} is not UTF-8") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_int=_json_int)
            except json.JSONDecodeError as exc:
                raise BundleInvalid(f"line {number} is not JSON: {exc.msg}") from None
            if not isinstance(obj, dict) or "type" not in obj:
                raise BundleInvalid(f"line {number} is not a bundle record")
            yield number, obj, line


def read_header(path: Path) -> tuple[dict[str, Any], Checkpoint]:
    """The bundle's header and its (unverified) checkpoint."""
    lines = _lines(path)
    try:
        (_, header, _), (_, cp_line, _) = next(lines), next(lines)
    except StopIteration:
        raise BundleInvalid("bundle is empty or has no checkpoint line") from None
    if header.get("type") != "header" or header.get("format") != BUNDLE_FORMAT:
        raise BundleInvalid(f"not a {BUNDLE_FORMAT} bundle (bad header line)")
    if cp_line.get("type") != "checkpoint" or not isinstance(cp_line.get("note"), str):
        raise BundleInvalid("second line must be the signed checkpoint")
    try:
        checkpoint, _ = parse_checkpoint(cp_line["note"])
    except CheckpointInvalid as exc:
        raise BundleInvalid(f"bundle checkpoint: {exc.message}") from None
    return header, checkpoint


def iter_bundle_entries(path: Path) -> Iterator[Entry]:
    """The entries of a bundle, in file order (not verified)."""
    for number, obj, _ in _lines(path):
        if obj.get("type") == "entry":
            try:
                yield Entry.from_dict(obj)
            except GovledgerError as exc:
                raise BundleInvalid(f"line {number}: {exc.message}") from None


def verify_bundle(
    path: Path, *, verifier_key: str | None = None, witnesses: WitnessPolicy | None = None
) -> VerificationReport:
    """Verify a bundle offline: every hash, link, signature, and the root vs its checkpoint.

    Pass `verifier_key` (the ledger's published key) to pin who signed the checkpoint;
    without it the key in the bundle's header is used, which proves only that the bundle is
    internally consistent. With `witnesses`, the checkpoint line must also carry their
    cosignatures (`ledger.log.witness_policy`): the entries' root is checked against that
    checkpoint, so it is the one the witnesses must have seen.
    """
    header, _ = read_header(path)
    try:
        key = VerifierKey.parse(verifier_key or str(header.get("verifier_key", "")))
    except CheckpointInvalid as exc:
        raise BundleInvalid(f"verifier key: {exc.message}") from None
    lines = _lines(path)
    next(lines)
    _, cp_line, _ = next(lines)
    verifier = StreamVerifier()
    try:
        checkpoint = verify_checkpoint(cp_line["note"], key)
    except CheckpointInvalid as exc:
        verifier.fail(None, Problem.CHECKPOINT_INVALID, exc.message)
        return verifier.finish()
    witnessed = ""
    if witnesses:
        try:
            witnessed = witnesses.describe(witnesses.check(checkpoint.note))
        except NotWitnessed as exc:
            verifier.fail(None, Problem.NOT_WITNESSED, exc.message)
            return verifier.finish()
    verifier = StreamVerifier(checkpoints=[checkpoint])
    for number, obj, line in lines:
        if obj["type"] != "entry":
            continue
        try:
            entry = Entry.from_dict(obj)
        except GovledgerError as exc:
            verifier.fail(None, Problem.MALFORMED, f"line {number}: {exc.message}")
            break
        if line.rstrip("\r\n") != _entry_line(entry):
            verifier.fail(
                None,
                Problem.MALFORMED,
                f"line {number} is not the exported form of entry {entry.seq}: it was edited",
            )
            break
        if not verifier.feed(entry):
            break
    report = verifier.finish(expected_size=int(header.get("size", -1)))
    if report.ok and witnessed:
        report = dataclasses.replace(report, notes=(*report.notes, f"checkpoint {witnessed}"))
    return report


def replay_bundle_rules(path: Path, *, policy: ApprovalPolicy | None = None) -> RulesReplayReport:
    """The rules replay (`ledger.verify._rules_replay`) over a bundle's entries, offline.

    The replay needs every entry from seq 0: a bundle holding fewer entries than its header
    and checkpoint announce is refused (BundleInvalid), whatever it holds. Verify the bundle
    first (`verify_bundle`): the replay trusts that the entries are the recorded ones."""
    header, checkpoint = read_header(path)
    size = header.get("size")
    if size != checkpoint.size:
        raise BundleInvalid(
            f"the bundle's header announces {size} entries but its checkpoint {checkpoint.size}: "
            "the rules replay needs a whole export (`govledger export`)"
        )
    try:
        report = replay_rules(iter_bundle_entries(path), policy=policy)
    except VerificationError as exc:
        raise BundleInvalid(f"partial bundle: {exc.message}") from None
    if report.entries != checkpoint.size:
        raise BundleInvalid(
            f"partial bundle: it holds {report.entries} of the {checkpoint.size} entries its "
            "checkpoint covers, and the rules replay needs every one: export the whole ledger "
            "with `govledger export`"
        )
    return report


def import_bundle(store: LedgerStore, path: Path, *, verifier_key: str | None = None) -> int:
    """Verify a bundle, then copy its entries into this ledger; return how many were added.

    The target must be empty or hold a prefix of the bundle (same hashes): entries keep their
    seq, ids, times and hashes, so the copy verifies exactly like the original. The import is
    one transaction: all of it or none.
    """
    report = verify_bundle(path, verifier_key=verifier_key)
    if not report.ok:
        raise BundleInvalid(f"bundle does not verify, nothing imported: {report.summary()}")
    return store.import_entries(iter_bundle_entries(path), expected_root=report.root)
