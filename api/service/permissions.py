"""Who may submit which kind of statement: the service's role rules, in one place."""

from __future__ import annotations

from api.service.identity import Forbidden, Principal, Role
from ledger.log.entries import Statement
from ledger.log.kinds import Kind

_WRITERS: dict[Kind, tuple[Role, ...]] = {
    Kind.MODEL_REGISTERED: (Role.DATA_SCIENTIST,),
    Kind.RUN_TRAINING: (Role.DATA_SCIENTIST,),
    Kind.RUN_RECALIBRATION: (Role.DATA_SCIENTIST,),
    Kind.EVALUATION_RECORDED: (Role.DATA_SCIENTIST, Role.VALIDATOR),
    Kind.DEPLOYMENT_PROMOTED: (Role.DATA_SCIENTIST, Role.APPROVER),
    Kind.MODEL_RETIRED: (Role.DATA_SCIENTIST, Role.APPROVER),
    Kind.NOTE: (Role.DATA_SCIENTIST, Role.VALIDATOR, Role.APPROVER, Role.COMPLIANCE),
    Kind.KEY_REGISTERED: (Role.DATA_SCIENTIST, Role.VALIDATOR, Role.APPROVER, Role.COMPLIANCE),
    Kind.KEY_REVOKED: (Role.DATA_SCIENTIST, Role.VALIDATOR, Role.APPROVER, Role.COMPLIANCE),
    Kind.CATALOGUE_RECORDED: (Role.DATA_SCIENTIST, Role.COMPLIANCE),
    Kind.OVERSIGHT_RECORDED: (Role.VALIDATOR, Role.APPROVER, Role.COMPLIANCE),
}
"""Oversight (override, stop, resume) is for reviewers and compliance, never the model's
builders; a reason catalogue is written by its builders or compliance and approved by
reviewers like a model change."""
_NOT_DECIDING = (Role.ADMIN, Role.VIEWER, Role.DATA_SCIENTIST)
"""Roles nobody decides as: approvals come from reviewers, never from the model's builders."""
READERS = (Role.DATA_SCIENTIST, Role.VALIDATOR, Role.APPROVER, Role.COMPLIANCE, Role.VIEWER)


def authorize_statement(
    principal: Principal, statement: Statement, *, key_owner: str | None = None
) -> None:
    """Raise Forbidden unless the principal may submit this statement.

    Approvals and rejections need the role they claim (payload.role): a validator signs as
    validator, an approver as approver; nobody decides as data scientist, admin or viewer.
    Revoking a key needs its owner or an admin.
    """
    kind = Kind(statement.kind)
    if kind in (Kind.APPROVAL_GRANTED, Kind.APPROVAL_REJECTED):
        claimed = str(statement.payload.get("role", ""))
        try:
            role = Role(claimed)
        except ValueError:
            raise Forbidden(f"role {claimed!r} is not a govledger role") from None
        if role in _NOT_DECIDING:
            raise Forbidden(f"nobody decides as {claimed}: decide as validator or approver")
        if role not in principal.roles:
            raise Forbidden(
                f"{principal.name} cannot decide as {claimed}: they do not hold that role"
            )
        return
    if kind is Kind.REQUEST_REFUSED:
        raise Forbidden("request.refused entries are written by the service itself")
    principal.require(*_WRITERS[kind], action=f"submitting {kind.value}")
    if kind is Kind.KEY_REVOKED and key_owner not in (None, principal.name):
        principal.require(Role.ADMIN, action="revoking another user's key")
