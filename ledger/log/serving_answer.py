"""What served where, as of a seq or a time: the answer's format and the one rule that checks it.

A serving answer ("govledger-serving-answer/v1", built by `ledger.store.serving_answer`)
says which version(s) of a model served in an environment after the entry at `as_of_seq`,
and carries its own evidence: the promotions, the approvals they cite, the versions' runs
(and, for a question about a time, the two entries whose `recorded_at` bracket it), each
with its RFC 9162 inclusion proof to the C2SP signed checkpoint of `tree_size` entries. It
is plain JSON, so it travels through HTTP, files and tickets; the checks need only it and
the ledger's verifier key, pinned by the auditor.

The rule lives here, on the log's floor, because three places apply it: the verify floor
(`ledger.verify.verify_serving_answer`, which turns it into a `VerificationReport`), the
client (`LedgerClient.assert_serving`, which imports only the log and the errors) and the
CLI (`govledger verify-model`); `ledger/verify/standalone.py` restates it for retention.

What the checks prove: every included entry is in the signed log at its seq; each serving
tenure's promotion names that model, version, environment and model file, at or before
`as_of_seq`; the version's run cites that file as its model; no included entry ended the
tenure by `as_of_seq`; the question maps to `as_of_seq`. What they cannot prove: that no
other promotion or retirement happened between the promotion and `as_of_seq` (an entry the
answer leaves out): that is the ledger's index's word, checked by exporting the range
(`govledger export`) and verifying it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.errors import (
    CheckpointInvalid,
    GovledgerError,
    InvalidAsOf,
    NotServing,
    NotWitnessed,
    ServingAnswerInvalid,
)
from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, verify_checkpoint
from ledger.log.entries import Entry, recompute_hash
from ledger.log.payloads import DEFAULT_ENVIRONMENT, model_files
from ledger.log.time_bounds import time_bound
from ledger.log.timestamps import format_rfc3339, parse_rfc3339
from ledger.log.witness_policy import WitnessPolicy

FORMAT = "govledger-serving-answer/v1"
FIELDS = frozenset(
    {
        "format",
        "model",
        "environment",
        "shadow",
        "question",
        "as_of_seq",
        "tree_size",
        "serving",
        "history",
        "evidence",
        "completeness",
    }
)
EVIDENCE_FIELDS = frozenset({"origin", "verifier_key", "checkpoint", "entries", "proofs"})
RUN_KINDS = ("run.training", "run.recalibration")

COMPLETENESS = (
    "The proofs show that each entry in the evidence is in the signed log of {size} entries "
    "at its seq, that each serving version's promotion into {env} names its model file at or "
    "before seq {as_of} and that its run cites that file; they cannot show that no other "
    "promotion or retirement happened between that promotion and seq {as_of}, which is what "
    "the ledger's index says: export the range with `govledger export` and verify it "
    "(`govledger verify-bundle`) to check that too."
)

# Problem names, as `ledger.verify.Problem` spells them.
MALFORMED = "malformed"
KEY_MISMATCH = "verifier-key-mismatch"
CHECKPOINT_INVALID = "checkpoint-invalid"
HASH_MISMATCH = "hash-mismatch"
NOT_INCLUDED = "inclusion-proof-failed"
CLAIM_NOT_PROVEN = "claim-not-proven"
NOT_WITNESSED = "not-witnessed"


def as_of_bound(at: str) -> tuple[str, datetime]:
    """The exclusive RFC 3339 bound of an `at` question, and the moment it asks about.

    `at` is an RFC 3339 UTC time T or a day. For a time, the answer is as of the last entry
    recorded at or before T, so the bound is T plus one microsecond (the ledger's
    resolution); for a day, as of the day's end, so the bound is the next midnight. The
    answer's `as_of_seq` is then the last entry recorded before the bound. Raises
    InvalidTimeBound for text that is neither."""
    text = at.strip()
    if "T" in text:
        moment = parse_rfc3339(str(time_bound(text, "at", end=False)), "at")
        if moment.replace(tzinfo=None) == datetime.max:
            raise InvalidAsOf(f"at {text} is in the future: ask about a time in the past")
        return format_rfc3339(moment + timedelta(microseconds=1)), moment
    bound = time_bound(text, "at", end=True)
    if bound is None:  # 9999-12-31: a day that never ends
        raise InvalidAsOf(f"at {text} has not ended: ask about a day or a time in the past")
    moment = parse_rfc3339(bound, "at")
    return bound, moment


def check_not_future(at: str, now: datetime | None = None) -> str:
    """The bound of `at`, or InvalidAsOf when it asks about a time that has not come yet."""
    bound, moment = as_of_bound(at)
    if moment > (now or datetime.now(UTC)):
        what = "that day has not ended" if "T" not in at else "that time is in the future"
        raise InvalidAsOf(
            f"at {at}: {what}, and the ledger answers only for the past: ask about an "
            "earlier time, or leave at out for what serves now"
        )
    return bound


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    """What a serving answer was proven to say."""

    model: str
    environment: str
    as_of_seq: int
    tree_size: int
    root: bytes
    origin: str
    serving: tuple[Mapping[str, Any], ...]
    """The answer's serving tenures (tenure JSON + run and model files), each proven."""
    entries_checked: int
    witnessed: str = ""
    """Who cosigned the checkpoint, as the witness policy describes it ("" without one)."""


def _fail(message: str, problem: str, seq: int | None = None) -> ServingAnswerInvalid:
    return ServingAnswerInvalid(message, seq, problem)


def check_serving_answer(
    answer: Mapping[str, Any], verifier_key: str, *, witnesses: WitnessPolicy | None = None
) -> CheckedAnswer:
    """Check a serving answer against the ledger's pinned verifier key; raise
    ServingAnswerInvalid (its `problem` and `seq` name the first failure) or return what
    was proven. With `witnesses`, the checkpoint must carry their cosignatures
    (`ledger.log.witness_policy`). See the module for what the checks prove and what they
    cannot."""
    if not isinstance(answer, Mapping) or answer.get("format") != FORMAT:
        raise _fail(f"not a {FORMAT} document", MALFORMED)
    if set(answer) != FIELDS:
        raise _fail(f"a {FORMAT} document has exactly the fields {sorted(FIELDS)}", MALFORMED)
    checkpoint, entries, witnessed = check_evidence(
        answer["evidence"], verifier_key, fields=EVIDENCE_FIELDS, fail=_fail, witnesses=witnesses
    )
    size, as_of = answer["tree_size"], answer["as_of_seq"]
    if size != checkpoint.size:
        raise _fail(f"tree_size {size} is not the checkpoint's {checkpoint.size}", MALFORMED)
    if not isinstance(as_of, int) or isinstance(as_of, bool) or not 0 <= as_of < size:
        raise _fail(f"as_of_seq must be a seq of the tree of {size} entries", MALFORMED)
    by_hash = {e.entry_hash.hex(): e for e in entries}
    by_seq = {e.seq: e for e in entries}
    _check_question(answer["question"], as_of, size, by_seq)
    model, env = answer["model"], answer["environment"]
    serving = answer["serving"]
    if not isinstance(serving, list) or not all(isinstance(t, Mapping) for t in serving):
        raise _fail("serving must be a list of tenures", MALFORMED)
    if not answer["shadow"] and len(serving) > 1:
        raise _fail(
            f"{env} serves one version at a time, the answer claims {len(serving)}",
            CLAIM_NOT_PROVEN,
        )
    for tenure in serving:
        _check_tenure(tenure, str(model), str(env), as_of, by_hash, entries, answer["shadow"])
    return CheckedAnswer(
        model=str(model),
        environment=str(env),
        as_of_seq=as_of,
        tree_size=size,
        root=checkpoint.root,
        origin=checkpoint.origin,
        serving=tuple(serving),
        entries_checked=len(entries),
        witnessed=witnessed,
    )


Fail = Callable[[str, str, "int | None"], GovledgerError]
"""How a checker names a failure: (message, problem, seq) -> the error it raises."""


def check_evidence(
    evidence: Any,
    verifier_key: str,
    *,
    fields: frozenset[str],
    fail: Fail,
    witnesses: WitnessPolicy | None = None,
) -> tuple[Checkpoint, list[Entry], str]:
    """The signed checkpoint, the entries that evidence proves and who cosigned the
    checkpoint (the witness policy's words, "" without one), or `fail`'s error.

    The evidence of a serving answer and of a decision receipt (`ledger.log.receipt`): the
    ledger's verifier key (it must be the pinned one), the C2SP checkpoint signed with it
    and, under a witness policy, cosigned by its witnesses (c2sp.org/tlog-cosignature: the
    proofs are against that checkpoint, so that is the one they must have seen), and
    entries in their exact JSON form, in increasing seq, each with its RFC 9162 inclusion
    proof to the checkpoint's root."""
    if not isinstance(evidence, Mapping) or set(evidence) != fields:
        raise fail(f"evidence has exactly the fields {sorted(fields)}", MALFORMED, None)
    if str(evidence["verifier_key"]).strip() != verifier_key.strip():
        raise fail(
            "the document names another ledger key than the one you pinned", KEY_MISMATCH, None
        )
    try:
        checkpoint = verify_checkpoint(str(evidence["checkpoint"]), verifier_key)
    except CheckpointInvalid as exc:
        raise fail(exc.message, CHECKPOINT_INVALID, None) from None
    if checkpoint.origin != evidence["origin"]:
        raise fail(
            "the checkpoint is for another log than the document's", CHECKPOINT_INVALID, None
        )
    witnessed = ""
    if witnesses:
        try:
            witnessed = witnesses.describe(witnesses.check(checkpoint.note))
        except NotWitnessed as exc:
            raise fail(exc.message, NOT_WITNESSED, None) from None
    entries = _proven_entries(
        evidence["entries"], evidence["proofs"], checkpoint.size, checkpoint.root, fail
    )
    return checkpoint, entries, witnessed


def _proven_entries(items: Any, proofs: Any, size: int, root: bytes, fail: Fail) -> list[Entry]:
    if not isinstance(items, list) or not items or not isinstance(proofs, Mapping):
        raise fail("evidence must hold entries and their proofs", MALFORMED, None)
    if len(proofs) != len(items):
        raise fail("evidence must hold one inclusion proof per entry", MALFORMED, None)
    entries: list[Entry] = []
    for item in items:
        seq = item.get("seq") if isinstance(item, Mapping) else None
        try:
            entry = Entry.from_dict(dict(item))
        except (GovledgerError, TypeError, ValueError):
            raise fail("an evidence entry is not an entry object", MALFORMED, seq) from None
        if entry.to_dict() != item:
            raise fail("entry is not in its exact JSON form", MALFORMED, entry.seq)
        if entries and entry.seq <= entries[-1].seq:
            raise fail("entries are not in increasing seq order", MALFORMED, entry.seq)
        if recompute_hash(entry) != entry.entry_hash:
            raise fail(
                "entry_hash is not the SHA-256 of the entry: the entry was altered",
                HASH_MISMATCH,
                entry.seq,
            )
        hashes = _proof_hashes(proofs.get(str(entry.seq)), entry.seq, size, fail)
        if not merkle.verify_inclusion(entry.entry_hash, entry.seq, size, hashes, root):
            raise fail(
                f"the inclusion proof does not place this entry in the signed tree "
                f"of {size} entries",
                NOT_INCLUDED,
                entry.seq,
            )
        entries.append(entry)
    return entries


def _proof_hashes(proof: Any, seq: int, size: int, fail: Fail) -> list[bytes]:
    """An inclusion proof in the form GET /v1/entries/{seq} gives it ({leaf_index,
    tree_size, hashes}), or its hashes alone (a receipt's: the index is the seq and the
    size the checkpoint's)."""
    if isinstance(proof, Mapping):
        if proof.get("leaf_index") != seq or proof.get("tree_size") != size:
            proof = None
        else:
            proof = proof.get("hashes")
    if not isinstance(proof, list):
        raise fail(f"no inclusion proof of seq {seq} in the tree of {size}", MALFORMED, seq)
    try:
        hashes = [bytes.fromhex(h) for h in proof]
    except (TypeError, ValueError):
        raise fail("inclusion proof hashes must be hex", MALFORMED, seq) from None
    if not all(len(h) == 32 for h in hashes):
        raise fail("inclusion proof hashes must be SHA-256 digests", MALFORMED, seq)
    return hashes


def _check_question(question: Any, as_of: int, size: int, by_seq: Mapping[int, Entry]) -> None:
    """The question maps to as_of_seq: a seq is itself, now is the last entry of the signed
    tree, and a time is bracketed by the recorded_at of the entries at as_of_seq and after."""
    if not isinstance(question, Mapping) or len(question) != 1:
        raise _fail("question must be one of {at}, {seq} or {now}", MALFORMED)
    if "seq" in question:
        if question["seq"] != as_of:
            raise _fail(f"the answer is as of seq {as_of}, not the seq asked", CLAIM_NOT_PROVEN)
        return
    if "now" in question:
        if as_of != size - 1:
            raise _fail(
                f"an answer for now is as of the last entry of the signed tree "
                f"(seq {size - 1}), not seq {as_of}",
                CLAIM_NOT_PROVEN,
            )
        return
    if "at" not in question or not isinstance(question["at"], str):
        raise _fail("question must be one of {at}, {seq} or {now}", MALFORMED)
    try:
        bound, _ = as_of_bound(question["at"])
    except GovledgerError as exc:
        raise _fail(exc.message, MALFORMED) from None
    last = by_seq.get(as_of)
    if last is None or not last.recorded_at < bound:
        raise _fail(
            f"the evidence does not show seq {as_of} recorded by {question['at']}",
            CLAIM_NOT_PROVEN,
            as_of,
        )
    if as_of + 1 < size:
        after = by_seq.get(as_of + 1)
        if after is None or after.recorded_at < bound:
            raise _fail(
                f"the evidence does not show seq {as_of + 1} recorded after {question['at']}",
                CLAIM_NOT_PROVEN,
                as_of + 1,
            )


def _check_tenure(
    tenure: Mapping[str, Any],
    model: str,
    env: str,
    as_of: int,
    by_hash: Mapping[str, Entry],
    entries: list[Entry],
    shadow: bool,
) -> None:
    version, digest = tenure.get("version"), tenure.get("model_sha256")
    promotion = by_hash.get(str(tenure.get("promotion")))
    if promotion is None:
        raise _fail(f"the promotion of {model} {version} is not in the evidence", CLAIM_NOT_PROVEN)
    st, seq = promotion.statement, promotion.seq
    payload = st.payload
    said = (st.kind, st.model, st.version, payload.get("environment") or DEFAULT_ENVIRONMENT)
    if said != ("deployment.promoted", model, version, env) or tenure.get("environment") != env:
        raise _fail(
            f"the promotion does not promote {model} {version} into {env}", CLAIM_NOT_PROVEN, seq
        )
    if payload.get("model_sha256") != digest or not isinstance(digest, str):
        raise _fail(f"the promotion binds another model file than {digest}", CLAIM_NOT_PROVEN, seq)
    if tenure.get("since_seq") != seq or seq > as_of:
        raise _fail(
            f"the promotion is at seq {seq}, not at or before seq {as_of}", CLAIM_NOT_PROVEN, seq
        )
    if list(tenure.get("approvals") or []) != list(payload.get("approvals") or []):
        raise _fail("the tenure's approvals are not the promotion's", CLAIM_NOT_PROVEN, seq)
    for cited in payload.get("approvals") or []:
        approval = by_hash.get(str(cited))
        decided = None if approval is None else approval.statement
        if decided is None or (decided.kind, decided.model, decided.version) != (
            "approval.granted",
            model,
            version,
        ):
            raise _fail(
                f"approval {cited} of {model} {version} is not in the evidence",
                CLAIM_NOT_PROVEN,
                seq,
            )
    run = by_hash.get(str(tenure.get("run")))
    if (
        run is None
        or (run.statement.kind not in RUN_KINDS)
        or ((run.statement.model, run.statement.version) != (model, version))
    ):
        raise _fail(f"the run of {model} {version} is not in the evidence", CLAIM_NOT_PROVEN, seq)
    files = model_files(run.statement.payload)
    if digest not in files or list(tenure.get("model_files") or []) != files:
        raise _fail(
            f"the run of {model} {version} does not cite {digest} as its model file",
            CLAIM_NOT_PROVEN,
            run.seq,
        )
    for other in entries:
        o = other.statement
        if not seq < other.seq <= as_of or o.model != model:
            continue
        replaced = (
            o.kind == "deployment.promoted"
            and (o.payload.get("environment") or DEFAULT_ENVIRONMENT) == env
            and o.version != version
        )
        retired = o.kind == "model.retired" and o.version in ("", version)
        if retired or (replaced and not shadow):
            raise _fail(
                f"seq {other.seq} ended the tenure of {model} {version} before seq {as_of}",
                CLAIM_NOT_PROVEN,
                other.seq,
            )


def serving_tenure_for(answer: Mapping[str, Any], sha256: str, file_name: str) -> Mapping[str, Any]:
    """The serving tenure whose model file is `sha256`, or NotServing naming what serves in
    the answer's environment and what the file is (a replaced or retired version's model
    file, or none that ever served there)."""
    model, env = answer["model"], answer["environment"]
    for tenure in answer["serving"]:
        if tenure.get("model_sha256") == sha256:
            return tenure  # type: ignore[no-any-return]
    short = sha256[:12]
    served = [t for t in answer["history"] if t.get("model_sha256") == sha256]
    if served:
        last = served[-1]
        how = (
            f"which was replaced by {last['ended_by_version']} at seq {last['ended_seq']}"
            if last.get("end") == "replaced"
            else f"which was retired at seq {last['ended_seq']}"
            if last.get("end") == "retired"
            else "which no longer serves"
        )
        what = f"is {model} {last['version']}'s model file, {how}"
    else:
        what = f"is no model file of {model} that ever served in {env}"
    now = answer["serving"]
    serves = (
        "; ".join(
            f"{env} serves {t['version']} (sha256 {str(t['model_sha256'])[:12]}…)" for t in now
        )
        if now
        else f"nothing of {model} serves in {env}"
    )
    at = "" if "now" in answer["question"] else f" as of seq {answer['as_of_seq']}"
    raise NotServing(f"refused: {file_name} (sha256 {short}…) {what}; {serves}{at}")
