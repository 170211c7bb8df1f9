"""Who may submit which kind of statement: the role rules, in one place.

Checked by the store's write gate (`ledger.store._submit`) before admission, whichever way a
statement arrives (HTTP, `govledger log`, a Python caller of `LedgerStore.submit`).
"""

from __future__ import annotations

from ledger.errors import Forbidden
from ledger.governance._roles import NOT_DECIDING, Principal, Role
from ledger.log.entries import Statement
from ledger.log.kinds import DECISION_KINDS, RULE_KINDS, Kind

_EVERY_WRITER = (
    Role.DATA_SCIENTIST,
    Role.VALIDATOR,
    Role.APPROVER,
    Role.COMPLIANCE,
    Role.MODEL_RISK_COMMITTEE,
)

WRITERS: dict[Kind, tuple[Role, ...]] = {
    Kind.MODEL_REGISTERED: (Role.DATA_SCIENTIST,),
    Kind.RUN_TRAINING: (Role.DATA_SCIENTIST,),
    Kind.RUN_RECALIBRATION: (Role.DATA_SCIENTIST,),
    Kind.EVALUATION_RECORDED: (Role.DATA_SCIENTIST, Role.VALIDATOR),
    Kind.DEPLOYMENT_PROMOTED: (Role.DATA_SCIENTIST, Role.APPROVER),
    Kind.MODEL_RETIRED: (Role.DATA_SCIENTIST, Role.APPROVER),
    Kind.NOTE: _EVERY_WRITER,
    Kind.KEY_REGISTERED: _EVERY_WRITER,
    Kind.KEY_REVOKED: _EVERY_WRITER,
    Kind.CATALOGUE_RECORDED: (Role.DATA_SCIENTIST, Role.COMPLIANCE),
    Kind.OVERSIGHT_RECORDED: (Role.VALIDATOR, Role.APPROVER, Role.COMPLIANCE),
    Kind.SERVING_CHECKED: _EVERY_WRITER,
    Kind.MONITORING_PLAN: (Role.DATA_SCIENTIST, Role.VALIDATOR, Role.COMPLIANCE),
    Kind.MONITORING_REPORTED: (Role.DATA_SCIENTIST, Role.VALIDATOR),
    Kind.MONITORING_RESPONDED: _EVERY_WRITER,
    Kind.SCORING_BATCH: (Role.SCORING_SERVICE,),
    Kind.SCORING_ERASED: (Role.COMPLIANCE,),
    Kind.SCORING_PURGED: (Role.COMPLIANCE,),
    Kind.RUN_IMPORTED: (Role.DATA_SCIENTIST,),
    Kind.REGISTRY_IMPORTED: (Role.DATA_SCIENTIST,),
}
"""The roles that may submit each kind (admin holds all). Decisions are not here: they need
the role they claim (`authorize_statement`). Oversight (override, stop, resume) is for
reviewers and compliance, never the model's builders; a reason catalogue is written by its
builders or compliance and approved by reviewers like a model change. Scoring decisions are
recorded by the scoring service's own role, so that its credential can do nothing else;
their details are erased or purged by compliance (the data-protection side), never by the
service that wrote them. Records imported from MLflow are the data scientists' own runs and
registry, copied as they were: what they say counts for nothing here until a version is
logged and decided on in this ledger."""
READERS = (*_EVERY_WRITER, Role.VIEWER)
"""Every role but admin and the scoring service reads the ledger (admin holds all, so reads
too)."""
RECEIPT_READERS = (*READERS, Role.SCORING_SERVICE)
"""Who may read a decision and its receipt: every reader, and the scoring service (it sends
the receipt with the adverse-action notice). Looking decisions up by applicant is for
compliance (complaints handling) only."""


def authorize_statement(
    principal: Principal, statement: Statement, *, key_owner: str | None = None
) -> None:
    """Raise Forbidden unless the principal may submit this statement.

    The statement's actor is the submitter: nobody asserts in another's name (the DESIGN's
    `statement.actor`). Approvals and rejections need the role they claim (payload.role): a
    validator signs as validator, an approver as approver; nobody decides as data scientist,
    admin or viewer. `request.refused` entries are the ledger's own record of a refusal.
    Revoking a key needs its owner (`key_owner`, None when the key is unknown) or an admin.
    Access and policy entries have rules of their own, read from the ledger at their seq
    (`ledger.governance._rules`).
    """
    if statement.actor != principal.name:
        raise Forbidden(
            f"{principal.name} cannot submit a statement as {statement.actor}: the actor of "
            "a statement is always the user who submits it"
        )
    kind = Kind(statement.kind)
    if kind in DECISION_KINDS:
        claimed = str(statement.payload.get("role", ""))
        try:
            role = Role(claimed)
        except ValueError:
            raise Forbidden(f"role {claimed!r} is not a govledger role") from None
        if role in NOT_DECIDING:
            raise Forbidden(f"nobody decides as {claimed}: decide as validator or approver")
        if role not in principal.roles:
            raise Forbidden(
                f"{principal.name} cannot decide as {claimed}: they do not hold that role"
            )
        return
    if kind is Kind.REQUEST_REFUSED:
        raise Forbidden("request.refused entries are written by the ledger itself")
    if kind in RULE_KINDS:
        return  # access and policy entries: `ledger.governance._rules.RulesState.check`
    principal.require(*WRITERS[kind], action=f"submitting {kind.value}")
    if kind is Kind.KEY_REVOKED and key_owner not in (None, principal.name):
        principal.require(Role.ADMIN, action="revoking another user's key")
