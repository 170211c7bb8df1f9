"""Each statement kind in plain words, for readers who are not engineers.

The web timeline (and any document that lists entries) shows these words, with the kind's
name beside them for those who search the ledger by it. One table, so a page and a report
never call the same entry by two names.
"""

from __future__ import annotations

from ledger.log.kinds import SIGNATURE_REQUIRED, Kind

KIND_WORDS: dict[str, str] = {
    Kind.MODEL_REGISTERED: "Model registered in the inventory",
    Kind.RUN_TRAINING: "Model trained",
    Kind.RUN_RECALIBRATION: "Model recalibrated",
    Kind.EVALUATION_RECORDED: "Evaluation recorded",
    Kind.APPROVAL_GRANTED: "Approved",
    Kind.APPROVAL_REJECTED: "Rejected",
    Kind.DEPLOYMENT_PROMOTED: "Put into service",
    Kind.SERVING_CHECKED: "Model file checked by a scoring host",
    Kind.MONITORING_PLAN: "Monitoring plan",
    Kind.MONITORING_REPORTED: "Monitoring report",
    Kind.MONITORING_RESPONDED: "Answer to a monitoring breach",
    Kind.MODEL_RETIRED: "Taken out of service",
    Kind.KEY_REGISTERED: "Signing key registered",
    Kind.KEY_REVOKED: "Signing key revoked",
    Kind.REQUEST_REFUSED: "Request refused",
    Kind.NOTE: "Note or document",
    Kind.CATALOGUE_RECORDED: "Reason-code catalogue",
    Kind.OVERSIGHT_RECORDED: "Human oversight",
    Kind.ACCESS_USER_CREATED: "User added",
    Kind.ACCESS_GRANTED: "Role granted",
    Kind.ACCESS_CONFIRMED: "Role grant confirmed",
    Kind.ACCESS_REVOKED: "Role revoked",
    Kind.ACCESS_KEY_ISSUED: "API key issued",
    Kind.ACCESS_KEY_REVOKED: "API key revoked",
    Kind.ACCESS_FEDERATED: "Role granted through single sign-on",
    Kind.POLICY_PROPOSED: "Approval policy proposed",
    Kind.POLICY_APPROVED: "Approval policy put in force",
    Kind.SCORING_BATCH: "Credit decisions recorded (a batch)",
    Kind.SCORING_ERASED: "Decision details erased",
    Kind.SCORING_PURGED: "Decision details purged after retention",
    Kind.RUN_IMPORTED: "Run imported from MLflow (as MLflow reported it)",
    Kind.REGISTRY_IMPORTED: "MLflow registry state imported (not an approval)",
}


def kind_words(kind: str) -> str:
    """The plain words for a kind (its name, for a kind this table does not know)."""
    return KIND_WORDS.get(kind, kind)


def signature_expected(kind: str) -> bool:
    """Whether entries of this kind must carry their author's signature (an approval, a
    rejection, a key registration): only there is a missing signature worth showing."""
    return kind in {k.value for k in SIGNATURE_REQUIRED}
