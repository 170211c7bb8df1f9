"""A decision's receipt ("govledger-receipt/v1") and the one rule that checks it.

A receipt answers an applicant, a complaints handler or an examiner years later: *this*
decision was made by *this* model version, serving in *this* environment then, with *these*
principal reasons from *this* catalogue. It is one JSON file (built by
`ledger.store.LedgerStore.decision_receipt`) that verifies offline with the ledger's pinned
verifier key:

- the decision's leaf hash (`ledger.log.scoring`) and its RFC 9162 inner proof to the root
  of its batch, which the `scoring.batch` entry records;
- that entry, the reason catalogue it cites and the promotion that made the version serve
  there, each with its inclusion proof to a C2SP checkpoint signed with the ledger key (the
  evidence shape of a serving answer, checked by the same function,
  `ledger.log.serving_answer.check_evidence`);
- for an erased decision, the erasure or purge entry: the leaf is still proven (*a*
  decision with that leaf existed), its details are gone, which is not tampering.

What the proofs cannot show: that no other promotion replaced the version between the
promotion in the evidence and the decision. Admission refused any decision of a version not
serving at its time, and `govledger verify` re-checks every batch against the log.

The rule lives on the log's floor because the verify floor, the client
(`LedgerClient.decision_receipt(..., ledger_key=...)`) and the CLI (`govledger
verify-receipt`) apply it; `ledger/verify/standalone.py` restates it (`receipt` command).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import GovledgerError, ReceiptInvalid
from ledger.log import merkle
from ledger.log.canonical import canonical_json
from ledger.log.entries import Entry
from ledger.log.payloads import DEFAULT_ENVIRONMENT
from ledger.log.scoring import DECISION_FIELDS, LEAF_PREFIX
from ledger.log.serving_answer import (
    CLAIM_NOT_PROVEN,
    HASH_MISMATCH,
    MALFORMED,
    NOT_INCLUDED,
    check_evidence,
)
from ledger.log.witness_policy import WitnessPolicy

FORMAT = "govledger-receipt/v1"
FIELDS = frozenset(
    {"format", "decision_id", "decision", "erased", "leaf", "batch", "catalogue", "evidence"}
)
EVIDENCE_FIELDS = frozenset(
    {"origin", "verifier_key", "checkpoint", "tree_size", "entries", "proofs"}
)
ERASING_KINDS = ("scoring.erased", "scoring.purged")


@dataclass(frozen=True, slots=True)
class CheckedReceipt:
    """What a receipt was proven to say."""

    decision_id: str
    decision: Mapping[str, Any] | None
    """The decision's fields (None when its details were erased)."""
    erased: Mapping[str, Any] | None
    """{seq, kind, legal_basis} of the erasure or purge, when erased."""
    model: str
    version: str
    environment: str
    batch_seq: int
    leaf_index: int
    reasons: tuple[tuple[str, str], ...]
    """(code, plain-language statement from the catalogue) of each reason, principal first."""
    promotion_seq: int | None
    tree_size: int
    root: bytes
    origin: str
    witnessed: str = ""
    """Who cosigned the checkpoint, as the witness policy describes it ("" without one)."""

    def describe(self) -> str:
        """One line: what the receipt proves."""
        where = f"{self.model} {self.version} in {self.environment}"
        witnessed = f"; {self.witnessed}" if self.witnessed else ""
        if self.decision is None and self.erased is not None:
            return (
                f"decision {self.decision_id}: its leaf is in batch seq {self.batch_seq} of "
                f"{where}; its details were erased by seq {self.erased['seq']} "
                f"({self.erased['legal_basis']}){witnessed}"
            )
        assert self.decision is not None
        reasons = ", ".join(code for code, _ in self.reasons) or "no reasons"
        return (
            f"decision {self.decision_id}: {self.decision['outcome']} by {where} at "
            f"{self.decision['decided_at']} ({reasons}), batch seq {self.batch_seq}, proven "
            f"against the checkpoint of {self.origin} at tree size {self.tree_size}{witnessed}"
        )


def _fail(message: str, problem: str, seq: int | None = None) -> GovledgerError:
    return ReceiptInvalid(message, seq, problem)


def check_receipt(
    receipt: Any, verifier_key: str, *, witnesses: WitnessPolicy | None = None
) -> CheckedReceipt:
    """Check a receipt against the ledger's pinned verifier key; raise ReceiptInvalid (its
    `problem` and `seq` name the first failure) or return what was proven. With
    `witnesses`, the checkpoint must carry their cosignatures (`ledger.log.witness_policy`)."""
    if not isinstance(receipt, Mapping) or receipt.get("format") != FORMAT:
        raise _fail(f"not a {FORMAT} document", MALFORMED)
    if set(receipt) != FIELDS:
        raise _fail(f"a {FORMAT} document has exactly the fields {sorted(FIELDS)}", MALFORMED)
    evidence = receipt["evidence"]
    checkpoint, entries, witnessed = check_evidence(
        evidence, verifier_key, fields=EVIDENCE_FIELDS, fail=_fail, witnesses=witnesses
    )
    if evidence["tree_size"] != checkpoint.size:
        raise _fail(f"tree_size is not the checkpoint's {checkpoint.size}", MALFORMED)
    by_seq = {e.seq: e for e in entries}
    batch, leaf, decision_id = receipt["batch"], receipt["leaf"], receipt["decision_id"]
    if not isinstance(batch, Mapping) or not isinstance(leaf, Mapping):
        raise _fail("batch and leaf must be objects", MALFORMED)
    entry = by_seq.get(batch.get("seq"))  # type: ignore[arg-type]
    if entry is None or entry.statement.kind != "scoring.batch":
        raise _fail("the batch entry is not in the evidence", CLAIM_NOT_PROVEN, batch.get("seq"))
    payload = entry.statement.payload
    size, index = batch.get("size"), leaf.get("index")
    if size != payload.get("count") or not isinstance(size, int):
        raise _fail("the batch size is not the entry's count", CLAIM_NOT_PROVEN, entry.seq)
    if not isinstance(index, int) or isinstance(index, bool):
        raise _fail("leaf.index must be an integer", MALFORMED, entry.seq)
    leaf_hash = _hex(leaf.get("hash"), "leaf.hash")
    inner = [_hex(h, "batch.inner_proof") for h in _list(batch.get("inner_proof"))]
    root = _hex(payload.get("root"), "the batch root")
    if not merkle.verify_inclusion_of_hash(leaf_hash, index, size, inner, root):
        raise _fail(
            f"the inner proof does not place leaf {index} in the batch's tree of {size}",
            NOT_INCLUDED,
            entry.seq,
        )
    model, version = entry.statement.model, entry.statement.version
    environment = str(payload.get("environment") or DEFAULT_ENVIRONMENT)
    decision, erased = receipt["decision"], receipt["erased"]
    reasons: tuple[tuple[str, str], ...] = ()
    promotion_seq = None
    if decision is None:
        _check_erasure(erased, decision_id, entry, by_seq)
    else:
        if erased is not None:
            raise _fail("a receipt with the decision's details is not erased", MALFORMED)
        _check_decision(decision, decision_id, leaf_hash, entry, environment)
        reasons = _check_reasons(decision, receipt["catalogue"], entry, by_seq)
        promotion_seq = _check_promotion(decision, entry, environment, entries)
    return CheckedReceipt(
        decision_id=str(decision_id),
        decision=decision,
        erased=erased,
        model=model,
        version=version,
        environment=environment,
        batch_seq=entry.seq,
        leaf_index=index,
        reasons=reasons,
        promotion_seq=promotion_seq,
        tree_size=checkpoint.size,
        root=checkpoint.root,
        origin=checkpoint.origin,
        witnessed=witnessed,
    )


def _hex(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise _fail(f"{what} must be a hex SHA-256 digest", MALFORMED) from None
    if len(raw) != 32:
        raise _fail(f"{what} must be a hex SHA-256 digest", MALFORMED)
    return raw


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _fail("batch.inner_proof must be a list of hex digests", MALFORMED)
    return value


def _check_decision(
    decision: Any, decision_id: Any, leaf_hash: bytes, entry: Entry, environment: str
) -> None:
    """The decision's bytes hash to the proven leaf and it names the batch's version."""
    if not isinstance(decision, Mapping) or set(decision) != set(DECISION_FIELDS):
        raise _fail(f"decision has exactly the fields {list(DECISION_FIELDS)}", MALFORMED)
    try:
        text = canonical_json(dict(decision))
    except GovledgerError as exc:
        raise _fail(f"decision is not canonical JSON: {exc.message}", MALFORMED) from None
    if merkle.leaf_hash(LEAF_PREFIX + text) != leaf_hash:
        raise _fail(
            "the decision's details do not hash to its leaf: they were altered",
            HASH_MISMATCH,
            entry.seq,
        )
    st = entry.statement
    said = (decision["decision_id"], decision["model"], decision["version"])
    if said != (decision_id, st.model, st.version) or decision["environment"] != environment:
        raise _fail(
            f"the decision is not {decision_id} of {st.model} {st.version} in {environment}, "
            "the batch's",
            CLAIM_NOT_PROVEN,
            entry.seq,
        )


def _check_reasons(
    decision: Mapping[str, Any], catalogue: Any, entry: Entry, by_seq: Mapping[int, Entry]
) -> tuple[tuple[str, str], ...]:
    """Every reason is a code of the catalogue entry the batch cites."""
    codes = decision["reasons"]
    if catalogue is None:
        if codes:
            raise _fail("the decision gives reasons but the receipt names no catalogue", MALFORMED)
        return ()
    wanted = catalogue.get("seq") if isinstance(catalogue, Mapping) else None
    cited = by_seq.get(wanted) if isinstance(wanted, int) else None
    st = entry.statement
    if (
        cited is None
        or cited.statement.kind != "catalogue.recorded"
        or (cited.statement.model, cited.statement.version) != (st.model, st.version)
        or entry.statement.payload.get("catalogue") != cited.entry_hash.hex()
    ):
        raise _fail(
            f"the catalogue is not the one the batch cites for {st.model} {st.version}",
            CLAIM_NOT_PROVEN,
            entry.seq,
        )
    wording = {
        str(line.get("code")): str(line.get("statement"))
        for line in cited.statement.payload.get("entries", ())
        if isinstance(line, Mapping)
    }
    unknown = [c for c in codes if c not in wording]
    if unknown:
        raise _fail(
            f"reason {unknown[0]} is not a code of the catalogue at seq {cited.seq}",
            CLAIM_NOT_PROVEN,
            cited.seq,
        )
    return tuple((str(c), wording[c]) for c in codes)


def _check_promotion(
    decision: Mapping[str, Any], entry: Entry, environment: str, entries: list[Entry]
) -> int:
    """A promotion of the version into the environment, recorded at or before the decision
    and before the batch, is in the evidence."""
    st = entry.statement
    for other in entries:
        o = other.statement
        if (
            o.kind == "deployment.promoted"
            and (o.model, o.version) == (st.model, st.version)
            and (o.payload.get("environment") or DEFAULT_ENVIRONMENT) == environment
            and other.seq < entry.seq
            and other.recorded_at <= str(decision["decided_at"])
        ):
            return other.seq
    raise _fail(
        f"no promotion of {st.model} {st.version} into {environment} at or before "
        f"{decision['decided_at']} is in the evidence",
        CLAIM_NOT_PROVEN,
        entry.seq,
    )


def _check_erasure(
    erased: Any, decision_id: Any, entry: Entry, by_seq: Mapping[int, Entry]
) -> None:
    """An erased decision: the erasure names it, or the purge's cut-off follows its batch."""
    if not isinstance(erased, Mapping) or set(erased) != {"seq", "kind", "legal_basis"}:
        raise _fail("a receipt without the decision's details must say what erased them", MALFORMED)
    eraser = by_seq.get(erased["seq"])
    if eraser is None or eraser.statement.kind not in ERASING_KINDS:
        raise _fail("the erasure entry is not in the evidence", CLAIM_NOT_PROVEN, erased["seq"])
    payload = eraser.statement.payload
    if (eraser.statement.kind, payload.get("legal_basis")) != (
        erased["kind"],
        erased["legal_basis"],
    ) or eraser.seq <= entry.seq:
        raise _fail("the erasure is not the one the receipt names", CLAIM_NOT_PROVEN, eraser.seq)
    if eraser.statement.kind == "scoring.erased":
        if decision_id not in payload.get("decision_ids", ()):
            raise _fail(
                f"the erasure at seq {eraser.seq} does not name {decision_id}",
                CLAIM_NOT_PROVEN,
                eraser.seq,
            )
    elif not str(entry.statement.payload.get("last_decided_at")) < str(payload.get("before")):
        raise _fail(
            f"the purge at seq {eraser.seq} does not reach the batch at seq {entry.seq}",
            CLAIM_NOT_PROVEN,
            eraser.seq,
        )
