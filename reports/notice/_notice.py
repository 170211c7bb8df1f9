"""An adverse-action notice from a decision receipt: what it states and when it refuses.

Regulation B (12 CFR 1002.9(a)(2)) asks that a declined applicant receive a written notice
with the creditor's name and address, the action taken, the ECOA notice of 1002.9(b)(1)
naming the federal agency that administers the creditor's compliance, and the specific
principal reasons (1002.9(b)(2)); model form C-1 of Appendix C is the shape we follow. The
reasons are the decision's codes, principal first, each worded as the catalogue entry in
the receipt's evidence words it (the catalogue the version was scored with), so the notice
says exactly what the ledger proves. The receipt itself travels in the PDF (PDF/A-3), so
whoever holds the notice can check it offline.

A notice is refused, before anything is rendered, for a receipt that is not a decline,
whose details were erased, or whose reasons the catalogue does not word; then the receipt
is checked against the pinned ledger key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import GovledgerError
from ledger.log.timestamps import parse_rfc3339
from reports.notice._receipt_check import FORMAT, check_receipt

AGENCY_PLACEHOLDER = (
    "[name and address of the federal agency that administers this lender's compliance "
    "with the ECOA, from Appendix A of Regulation B: set GOVLEDGER_ECOA_AGENCY]"
)


class NoticeSettings(BaseSettings):
    """Who the notice is from: the creditor's name and contact, and its ECOA agency."""

    model_config = SettingsConfigDict(env_prefix="GOVLEDGER_", extra="ignore")

    lender_name: str | None = Field(
        default=None, description="the creditor's name on adverse-action notices"
    )
    lender_contact: str | None = Field(
        default=None, description="the creditor's address and telephone, one line"
    )
    ecoa_agency: str = Field(
        default=AGENCY_PLACEHOLDER,
        description="name and address of the federal agency of 12 CFR 1002.9(b)(1)",
    )


class NoticeRefused(GovledgerError):
    """No adverse-action notice can be made from this receipt (see the message)."""

    status = 422
    slug = "notice-refused"


@dataclass(frozen=True, slots=True)
class NoticeReason:
    """A principal reason: its catalogue code and the sentence the applicant reads."""

    code: str
    statement: str


@dataclass(frozen=True, slots=True)
class AdverseActionNotice:
    """What a notice states (plain data: the template and the tests read it)."""

    lender: str
    lender_contact: str | None
    agency: str
    decision_id: str
    decided_at: str
    issued_on: date
    reasons: tuple[NoticeReason, ...]
    model: str
    version: str
    environment: str
    catalogue_version: str
    catalogue_seq: int
    batch_seq: int
    leaf_index: int
    leaf_hash: str
    origin: str
    tree_size: int
    checkpoint: str
    verifier_key: str

    @property
    def decided_on(self) -> str:
        """The decision's date as a consumer reads it: 'March 4, 2026'."""
        return _long_date(parse_rfc3339(self.decided_at, "decided_at").date())

    @property
    def issued(self) -> str:
        """The notice's own date, in the same form."""
        return _long_date(self.issued_on)

    @property
    def receipt_name(self) -> str:
        """The attachment's file name."""
        return receipt_name(self.decision_id)


def receipt_name(decision_id: str) -> str:
    """`receipt-<decision id>.json`, as `govledger receipt` names the file."""
    return f"receipt-{decision_id}.json"


def _long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def build_notice(
    receipt: Mapping[str, Any],
    verifier_key: str,
    *,
    lender: str,
    lender_contact: str | None = None,
    agency: str = AGENCY_PLACEHOLDER,
    issued_on: date | None = None,
) -> AdverseActionNotice:
    """The notice of a declined decision's receipt; raise NoticeRefused when it is not one
    a notice can be made from, or the receipt check's VerificationError when the receipt
    does not prove what it says (pinned `verifier_key`)."""
    if not lender.strip():
        raise NoticeRefused("name the lender: --lender NAME or GOVLEDGER_LENDER_NAME")
    if not isinstance(receipt, Mapping) or receipt.get("format") != FORMAT:
        raise NoticeRefused(f"not a {FORMAT} document: give the file `govledger receipt` wrote")
    decision_id = str(receipt.get("decision_id"))
    decision = _decision(receipt, decision_id)
    catalogue, reasons = _reasons(receipt, decision, decision_id)
    check_receipt(receipt, verifier_key)
    evidence, leaf, batch = receipt["evidence"], receipt["leaf"], receipt["batch"]
    return AdverseActionNotice(
        lender=lender.strip(),
        lender_contact=(lender_contact or "").strip() or None,
        agency=agency.strip() or AGENCY_PLACEHOLDER,
        decision_id=decision_id,
        decided_at=str(decision["decided_at"]),
        issued_on=issued_on or datetime.now(UTC).date(),
        reasons=reasons,
        model=str(decision["model"]),
        version=str(decision["version"]),
        environment=str(decision["environment"]),
        catalogue_version=str(catalogue["statement"]["payload"]["catalogue_version"]),
        catalogue_seq=int(catalogue["seq"]),
        batch_seq=int(batch["seq"]),
        leaf_index=int(leaf["index"]),
        leaf_hash=str(leaf["hash"]),
        origin=str(evidence["origin"]),
        tree_size=int(evidence["tree_size"]),
        checkpoint=str(evidence["checkpoint"]),
        verifier_key=str(evidence["verifier_key"]).strip(),
    )


def _decision(receipt: Mapping[str, Any], decision_id: str) -> Mapping[str, Any]:
    """The decision, if it is a decline whose details the receipt still holds."""
    erased, decision = receipt.get("erased"), receipt.get("decision")
    if erased is not None or decision is None:
        how = ""
        if isinstance(erased, Mapping):
            how = f" by seq {erased.get('seq')} ({erased.get('legal_basis')})"
        raise NoticeRefused(
            f"decision {decision_id} was erased{how}: its details are gone, so no notice can "
            "be made from its receipt"
        )
    if not isinstance(decision, Mapping):
        raise NoticeRefused(f"the receipt of {decision_id} holds no decision object")
    outcome = decision.get("outcome")
    if outcome != "decline":
        raise NoticeRefused(
            f"decision {decision_id} is {outcome!r}, not 'decline': an adverse-action notice "
            "states the reasons a declined applicant was declined"
        )
    return decision


def _reasons(
    receipt: Mapping[str, Any], decision: Mapping[str, Any], decision_id: str
) -> tuple[Mapping[str, Any], tuple[NoticeReason, ...]]:
    """The catalogue entry and each reason, principal first, in its catalogued wording."""
    codes = decision.get("reasons")
    if not isinstance(codes, list) or not codes:
        raise NoticeRefused(
            f"decision {decision_id} is a decline without principal reasons: Regulation B "
            "(12 CFR 1002.9(b)(2)) requires the specific reasons"
        )
    catalogue = _catalogue_entry(receipt)
    if catalogue is None:
        raise NoticeRefused(
            f"the receipt of {decision_id} carries no catalogue entry, so its reasons "
            f"({', '.join(map(str, codes))}) have no wording: ask for a receipt with the "
            "catalogue in force for the version"
        )
    payload = catalogue["statement"]["payload"]
    wording: dict[str, str] = {}
    for line in payload.get("entries") or []:
        if isinstance(line, Mapping):
            wording.setdefault(str(line.get("code")), str(line.get("statement")))
    missing = [str(c) for c in codes if str(c) not in wording]
    if missing:
        raise NoticeRefused(
            f"reason {', '.join(missing)} of decision {decision_id} is not in catalogue "
            f"{payload.get('catalogue_version')} (seq {catalogue['seq']}): a notice prints "
            "only catalogued wording"
        )
    return catalogue, tuple(NoticeReason(str(c), wording[str(c)]) for c in codes)


def _catalogue_entry(receipt: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The evidence entry the receipt's `catalogue` names, if it is a catalogue."""
    named = receipt.get("catalogue")
    evidence = receipt.get("evidence")
    if not isinstance(named, Mapping) or not isinstance(evidence, Mapping):
        return None
    for entry in evidence.get("entries") or []:
        if (
            isinstance(entry, Mapping)
            and entry.get("seq") == named.get("seq")
            and isinstance(entry.get("statement"), Mapping)
            and entry["statement"].get("kind") == "catalogue.recorded"
            and isinstance(entry["statement"].get("payload"), Mapping)
        ):
            return entry
    return None
